"""Periodic checks: resource freshness (governance alerts), point staleness, stuck syncs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

from hub.catalog.models import DataResource, Domain, ResourceStatus
from hub.catalog.models.resources import UPDATE_CYCLE_SECONDS
from hub.records.models import BatchStatus, UploadBatch
from operations.models import (
    Alert,
    AlertState,
    MonitoringPoint,
    Rule,
    RuleKind,
    SyncRun,
    SyncState,
)
from operations.rules.engine import Outcome, evaluate_points
from operations.services.alerts import reconcile

GOVERNANCE_HAZARD = "数据更新超时"


def freshness_scope(resource: DataResource) -> str:
    """Scope of a resource's governance (freshness) alert."""
    return f"resource:{resource.code}"


def freshness_level(resource: DataResource, now: datetime) -> int:
    """0 when fresh (or never loaded); 蓝 when late by one cycle, 黄 by three or more."""
    if resource.last_loaded_at is None:
        return 0
    allowed = UPDATE_CYCLE_SECONDS[resource.update_cycle]
    age = (now - resource.last_loaded_at).total_seconds()
    if age <= allowed:
        return 0
    return 2 if age > 3 * allowed else 1


def check_freshness(*, now: datetime | None = None) -> dict[str, int]:
    """Raise, update or close a governance alert per published resource by its freshness."""
    now = now or timezone.now()
    outcomes = []
    for resource in DataResource.objects.filter(status=ResourceStatus.PUBLISHED):
        level = freshness_level(resource, now)
        outcomes.append(
            Outcome(
                rule=None,
                scope=freshness_scope(resource),
                level=level,
                at=now,
                value=None,
                resource_id=resource.pk,
                domain=Domain.GOVERNANCE,
                department_id=resource.provider_id,
                hazard=GOVERNANCE_HAZARD,
                message=f"{resource.name}（{resource.get_update_cycle_display()}）",
            )
        )
    # Only report a fresh resource when it has an alert to close.
    open_scopes = set(
        Alert.objects.filter(rule__isnull=True, state=AlertState.OPEN).values_list(
            "scope", flat=True
        )
    )
    outcomes = [o for o in outcomes if o.level or o.scope in open_scopes]
    return reconcile(outcomes=outcomes)


def check_staleness(*, now: datetime | None = None) -> dict[str, int]:
    """Evaluate point rules for every point covered by an active staleness rule."""
    rules = Rule.objects.filter(kind=RuleKind.STALENESS, is_active=True)
    point_ids = set(rules.exclude(point=None).values_list("point_id", flat=True))
    point_ids |= set(
        MonitoringPoint.objects.filter(
            resource_id__in=rules.filter(point=None).values("resource_id")
        ).values_list("pk", flat=True)
    )
    outcomes = [
        o
        for o in evaluate_points(point_ids, now=now)
        if o.rule is not None and o.rule.kind == RuleKind.STALENESS
    ]
    return reconcile(outcomes=outcomes)


def sweep_syncs(
    *,
    now: datetime | None = None,
    stuck_after: timedelta = timedelta(minutes=30),
    lost_after: timedelta = timedelta(minutes=5),
    window: timedelta = timedelta(days=1),
) -> list[int]:
    """Outbox-style sweeper: ids of loaded batches whose sync is stuck or never started.

    A sync "running" for longer than ``stuck_after`` lost its worker beyond what broker
    redelivery covers; a batch loaded more than ``lost_after`` ago (within ``window``)
    without a SyncRun lost its signal or message. Re-running a sync is idempotent.
    """
    now = now or timezone.now()
    stuck = SyncRun.objects.filter(state=SyncState.RUNNING, started_at__lt=now - stuck_after)
    lost = UploadBatch.objects.filter(
        status=BatchStatus.LOADED,
        finished_at__lt=now - lost_after,
        finished_at__gte=now - window,
        resource__ops_mapping__is_active=True,
        ops_sync__isnull=True,
    )
    return sorted(
        set(stuck.values_list("batch_id", flat=True)) | set(lost.values_list("pk", flat=True))
    )
