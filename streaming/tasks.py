"""Thin Celery entry points of the push path; the work is in streaming.services."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="streaming.tasks.flush_pushes",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def flush_pushes(self, resource_id: int) -> dict:
    """Load the resource's waiting pushes in coalesced batches (a no-op when none wait)."""
    from streaming.services import flush_resource

    try:
        result = flush_resource(resource_id=resource_id)
    except (OperationalError, InterfaceError) as exc:
        # Claimed receipts stay in loading with their batch: the retry or the sweeper
        # finishes them; nothing acknowledged is dropped.
        raise self.retry(exc=exc, countdown=min(60, 2 * 2**self.request.retries)) from exc
    return {"batches": result.batches, "loaded": result.loaded, "rejected": result.rejected}


@shared_task(
    bind=True,
    name="streaming.tasks.finish_push_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def finish_push_batch(self, batch_id: int) -> dict:
    """Load a claimed batch whose worker died (idempotent) and give its receipts their
    verdicts; then flush whatever its resource has waiting."""
    from connectors.services import run_batch
    from streaming.services import finish_batch, flush_resource

    try:
        batch = run_batch(batch_id=batch_id)
    except (OperationalError, InterfaceError) as exc:
        raise self.retry(exc=exc, countdown=min(60, 2 * 2**self.request.retries)) from exc
    if not batch.is_final:
        # Its row is locked by a load still running (or by a dead worker's connection
        # the server has not reaped yet): look again shortly; the sweeper after that.
        raise self.retry(countdown=min(60, 2 * 2**self.request.retries))
    counts = finish_batch(batch_id=batch_id)
    flush_resource(resource_id=batch.resource_id)
    return {str(k): v for k, v in counts.items()}


@shared_task(name="streaming.tasks.sweep_push_receipts")
def sweep_push_receipts() -> dict:
    """Re-enqueue pushes whose task was lost or whose worker died (run from beat)."""
    from streaming.services import sweep_receipts

    return sweep_receipts()
