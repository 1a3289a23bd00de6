"""Thin Celery entry points of the risk index (scheduled in hub/beat.py)."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache

from risk import services
from risk.models import RiskIndicator, SourceKind
from risk.sources import NoOpsCentre

# Set while a recomputation is scheduled (risk.receivers.schedule_recompute): the changes
# within the delay share it.
DEBOUNCE_KEY = "risk:recompute-pending"

logger = logging.getLogger(__name__)


@shared_task(name="risk.tasks.compute_risk_index", acks_late=True, reject_on_worker_lost=True)
def compute_risk_index(trigger: str = "beat") -> int | None:
    """Compute a snapshot (beat) and prune history older than RISK_HISTORY_DAYS (90)."""
    if not RiskIndicator.objects.filter(is_active=True).exists():
        return None
    try:
        result = services.compute_snapshot(trigger=trigger)
    except NoOpsCentre as exc:
        logger.warning("risk index not computed: no ops centre department %s", exc)
        return None
    services.prune_snapshots(keep_days=int(getattr(settings, "RISK_HISTORY_DAYS", 90)))
    return result.snapshot.pk


@shared_task(name="risk.tasks.recompute_after_load", acks_late=True, reject_on_worker_lost=True)
def recompute_after_load(resource_id: int) -> int | None:
    """After a load: recompute when an active indicator reads that resource or alerts."""
    cache.delete(DEBOUNCE_KEY)
    active = RiskIndicator.objects.filter(is_active=True)
    if not (
        active.filter(resource_id=resource_id).exists()
        or active.filter(source_kind=SourceKind.ALERTS).exists()
    ):
        return None
    return compute_risk_index(trigger="load")
