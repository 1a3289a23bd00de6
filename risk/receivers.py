"""Signal receivers: a loaded or corrected batch of an indicator's source recomputes the
index."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def recompute_delay() -> int:
    """Seconds between a load and its recomputation (setting RISK_RECOMPUTE_DELAY, 120):
    time for the operations sync to raise its alerts, and one computation for a burst of
    loads."""
    return int(getattr(settings, "RISK_RECOMPUTE_DELAY", 120))


def enqueue_recompute(sender, batch, **kwargs) -> None:
    """``batch_loaded`` receiver (sent after commit): schedule one recomputation.

    Loads within the delay share it (a cache key marks one as pending); the task itself
    checks whether any active indicator reads the loaded resource or the alerts.
    """
    schedule_recompute(batch.resource_id)


def recompute_corrected(sender, resource_id: int, **kwargs) -> None:
    """``records_corrected`` receiver (sent after commit): values corrected in place (an
    objection's correction) change the indicators read from them, as a load would."""
    schedule_recompute(resource_id)


def schedule_recompute(resource_id: int) -> None:
    """One recomputation after the delay, shared by every change within it."""
    from risk.tasks import DEBOUNCE_KEY, recompute_after_load

    delay = recompute_delay()
    if not cache.add(DEBOUNCE_KEY, resource_id, timeout=max(delay, 1)):
        return
    recompute_after_load.apply_async(args=[resource_id], countdown=delay)
