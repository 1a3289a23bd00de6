"""Thin Celery entry points of the ingest side; the work is in connectors.pipeline."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

MAX_RETRIES = 5


@shared_task(
    bind=True,
    name="connectors.tasks.ingest_batch",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=MAX_RETRIES,
)
def ingest_batch(self, batch_id: int) -> str:
    """Load one batch; idempotent (a final batch is a no-op), so redelivery is safe.

    Only transient database errors are retried, with exponential backoff; bad input
    ends as a rejected batch inside run_batch and is never retried.
    """
    from connectors.pipeline import mark_failed, run_batch

    try:
        return run_batch(batch_id=batch_id).status
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries >= MAX_RETRIES:
            mark_failed(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


@shared_task(name="connectors.tasks.sweep_stuck_batches")
def sweep_stuck_batches() -> list[int]:
    """Re-enqueue batches whose message was lost or whose worker died (run from beat)."""
    from connectors.services import sweep_stuck_batches as sweep

    return sweep()
