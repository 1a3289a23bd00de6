"""Writes of the risk index: the computation (a snapshot) and the indicator configuration.

Every write checks, writes and audits in one transaction. The computation runs as the
ops centre's service user (``risk.sources``), so an indicator whose source the ops centre
may not read is shown as 无权读取 rather than read around the door.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog.models import CodeItem
from hub.catalog.restricted import CHANGE, DELETE, VIEW, write_service
from permissions.audit import log_event
from permissions.selectors import UserLike
from risk import index
from risk.models import (
    Hazard,
    IndicatorStatus,
    RiskIndicator,
    RiskIndicatorValue,
    RiskScore,
    RiskSnapshot,
)
from risk.sources import SourceValues, read_indicator, service_user

DISTRICT_CODE_LIST = "gb2260-shanghai"
INDICATOR_FIELDS = (
    "code",
    "name",
    "description",
    "dimension",
    "hazard",
    "source_kind",
    "resource",
    "field",
    "aggregation",
    "match_values",
    "window_hours",
    "direction",
    "weight",
    "lower_bound",
    "upper_bound",
    "is_active",
)


def risk_classes() -> tuple[tuple[str, float], ...]:
    """The class thresholds (setting RISK_CLASSES, else INFORM's)."""
    return tuple(getattr(settings, "RISK_CLASSES", index.DEFAULT_CLASSES))


def districts_of(user: UserLike) -> dict[str, str]:
    """District code → name from the GB/T 2260 code list (latest version)."""
    rows = (
        CodeItem.objects.restrict(user, VIEW)
        .filter(code_list__code=DISTRICT_CODE_LIST)
        .order_by("code_list__version", "order", "code")
        .values_list("code", "name")
    )
    return dict(rows)


@dataclass
class Computation:
    """The outcome of ``compute_snapshot``."""

    snapshot: RiskSnapshot
    scores: int
    stale: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)


def _carried(indicator: RiskIndicator) -> dict[str, RiskIndicatorValue] | None:
    """The indicator's values in the latest snapshot, if computed with the same
    configuration (the last known values of a source that went stale)."""
    previous = (
        RiskIndicatorValue.objects.filter(indicator=indicator)
        .order_by("-snapshot__computed_at", "-snapshot_id")
        .values_list("snapshot_id", "config_key")
        .first()
    )
    if previous is None or previous[1] != indicator.config_key():
        return None
    rows = RiskIndicatorValue.objects.filter(snapshot_id=previous[0], indicator=indicator)
    return {row.district_code: row for row in rows}


def _hazards(indicators: list[RiskIndicator]) -> list[str]:
    specific = sorted({i.hazard for i in indicators if i.hazard != Hazard.ALL})
    return [Hazard.ALL, *specific]


@write_service
@transaction.atomic
def compute_snapshot(*, trigger: str = "manual", now: datetime | None = None) -> Computation:
    """Compute the index for every district and hazard and store it as one snapshot.

    Stale sources (last load older than the update cycle) keep their last known values:
    the previous snapshot's raw values are reused when the indicator's configuration is
    unchanged, and flagged stale either way, so the index stays stable and says why.
    """
    now = now or timezone.now()
    user = service_user()
    districts = districts_of(user)
    codes = list(districts)
    indicators = list(
        RiskIndicator.objects.restrict(user, VIEW)
        .filter(is_active=True)
        .select_related("resource")
        .order_by("code")
    )
    snapshot = RiskSnapshot.objects.create(
        computed_at=now,
        trigger=trigger,
        computed_as=user.get_username(),
        department=user.get_username().removeprefix("svc-"),
        indicators=len(indicators),
        districts=len(codes),
    )
    read: dict[int, SourceValues] = {}
    value_at: dict[int, dict[str, datetime]] = {}
    stale: list[str] = []
    unavailable: list[str] = []
    rows_read: dict[str, int] = {}
    for indicator in indicators:
        source = read_indicator(indicator, user=user, districts=codes, now=now)
        times = dict.fromkeys(codes, now)
        usable = source.status not in (IndicatorStatus.NO_ACCESS, IndicatorStatus.NO_SOURCE)
        if usable and source.stale(now):
            stale.append(indicator.code)
            carried = _carried(indicator)
            if carried:
                source.values = {
                    d: (carried[d].raw if d in carried else source.values.get(d)) for d in codes
                }
                times = {d: (carried[d].value_at if d in carried else now) for d in codes}
        if source.status in (IndicatorStatus.NO_ACCESS, IndicatorStatus.NO_SOURCE):
            unavailable.append(indicator.code)
        if source.resource is not None:
            rows_read[source.resource.code] = rows_read.get(source.resource.code, 0) + source.rows
        read[indicator.pk] = source
        value_at[indicator.pk] = times
    inputs = {
        i.pk: index.IndicatorInput(
            code=i.code,
            dimension=i.dimension,
            weight=i.weight,
            raw=read[i.pk].values,
            higher_is_riskier=i.higher_is_riskier,
            lower_bound=i.lower_bound,
            upper_bound=i.upper_bound,
        )
        for i in indicators
    }
    normalised = index.normalise_all(list(inputs.values()))
    values = []
    for indicator in indicators:
        source = read[indicator.pk]
        is_stale = indicator.code in stale
        for district in codes:
            raw = source.values.get(district)
            status = source.status
            if status == IndicatorStatus.OK and raw is None:
                status = IndicatorStatus.NO_DATA
            values.append(
                RiskIndicatorValue(
                    snapshot=snapshot,
                    indicator=indicator,
                    indicator_code=indicator.code,
                    config_key=indicator.config_key(),
                    dimension=indicator.dimension,
                    hazard=indicator.hazard,
                    weight=indicator.weight,
                    district_code=district,
                    raw=raw,
                    normalised=normalised[indicator.code].get(district),
                    status=status,
                    resource=indicator.resource,
                    source_loaded_at=source.loaded_at,
                    update_cycle_seconds=source.cycle_seconds,
                    stale=is_stale,
                    value_at=value_at[indicator.pk][district],
                )
            )
    RiskIndicatorValue.objects.bulk_create(values, batch_size=1000)
    classes = risk_classes()
    scores = []
    for hazard in _hazards(indicators):
        chosen = [i for i in indicators if hazard == Hazard.ALL or i.hazard in (hazard, Hazard.ALL)]
        chosen_inputs = [inputs[i.pk] for i in chosen]
        stale_count = sum(1 for i in chosen if i.code in stale)
        for district, name in districts.items():
            result = index.district_risk(district, chosen_inputs, normalised, classes)
            scores.append(
                RiskScore(
                    snapshot=snapshot,
                    district_code=district,
                    district_name=name,
                    hazard=hazard,
                    hazard_exposure=result.hazard_exposure,
                    vulnerability=result.vulnerability,
                    coping=result.coping,
                    risk=result.risk,
                    risk_class=result.risk_class,
                    stale_indicators=stale_count,
                )
            )
    RiskScore.objects.bulk_create(scores, batch_size=1000)
    snapshot.stale_indicators = stale
    snapshot.unavailable_indicators = unavailable
    snapshot.save(update_fields=["stale_indicators", "unavailable_indicators"])
    log_event(
        actor=user,
        action="risk_compute",
        rows=sum(rows_read.values()),
        detail={
            "snapshot": snapshot.pk,
            "trigger": trigger,
            "resources": rows_read,
            "stale": stale,
            "unavailable": unavailable,
        },
    )
    return Computation(snapshot=snapshot, scores=len(scores), stale=stale, unavailable=unavailable)


@write_service
@transaction.atomic
def prune_snapshots(*, keep_days: int, now: datetime | None = None) -> int:
    """Delete snapshots older than ``keep_days`` (the latest one always stays)."""
    now = now or timezone.now()
    latest = RiskSnapshot.objects.order_by("-computed_at", "-id").values_list("pk", flat=True)
    keep = latest.first()
    old = RiskSnapshot.objects.filter(computed_at__lt=now - timedelta(days=keep_days))
    if keep is not None:
        old = old.exclude(pk=keep)
    ids = list(old.values_list("pk", flat=True))
    if ids:
        RiskSnapshot.objects.filter(pk__in=ids).delete()
        log_event(actor=None, action="risk_prune", rows=len(ids), detail={"days": keep_days})
    return len(ids)


# Indicator configuration ------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorChange:
    """One audited configuration write: the indicator and the values before/after."""

    indicator: RiskIndicator
    before: dict[str, Any]
    after: dict[str, Any]


def _snapshot_of(indicator: RiskIndicator) -> dict[str, Any]:
    data = {}
    for name in INDICATOR_FIELDS:
        value = getattr(indicator, "resource_id" if name == "resource" else name)
        data[name] = value
    return data


def _may_add(user: UserLike) -> bool:
    from risk.policies import is_operator

    return is_operator(user)


@write_service
@transaction.atomic
def create_indicator(*, user: UserLike, indicator: RiskIndicator) -> IndicatorChange:
    """Validate and save a new indicator (operators only); audited."""
    if not _may_add(user):
        raise PermissionDenied(_("只有城运中心或超级管理员可以配置风险指标。"))
    indicator.full_clean()
    indicator.save()
    after = _snapshot_of(indicator)
    log_event(actor=user, action="risk_indicator", detail={"op": "create", "after": after})
    return IndicatorChange(indicator=indicator, before={}, after=after)


@write_service
@transaction.atomic
def update_indicator(
    *, user: UserLike, indicator: RiskIndicator, changes: Mapping[str, Any]
) -> IndicatorChange:
    """Apply ``changes`` (field → value) to an indicator; audits old and new values."""
    unknown = set(changes) - set(INDICATOR_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    stored = RiskIndicator.objects.restrict(user, CHANGE).filter(pk=indicator.pk).first()
    if stored is None:
        raise PermissionDenied(_("只有城运中心或超级管理员可以配置风险指标。"))
    before = _snapshot_of(stored)
    for name, value in changes.items():
        setattr(stored, name, value)
    stored.full_clean()
    stored.save()
    after = _snapshot_of(stored)
    diff = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    log_event(
        actor=user,
        action="risk_indicator",
        detail={"op": "update", "code": stored.code, "changes": diff},
    )
    return IndicatorChange(indicator=stored, before=before, after=after)


@write_service
@transaction.atomic
def delete_indicator(*, user: UserLike, indicator: RiskIndicator) -> IndicatorChange:
    """Delete an indicator (snapshots keep its values by code); audited."""
    stored = RiskIndicator.objects.restrict(user, DELETE).filter(pk=indicator.pk).first()
    if stored is None:
        raise PermissionDenied(_("只有城运中心或超级管理员可以配置风险指标。"))
    before = _snapshot_of(stored)
    stored.delete()
    log_event(actor=user, action="risk_indicator", detail={"op": "delete", "before": before})
    return IndicatorChange(indicator=stored, before=before, after={})
