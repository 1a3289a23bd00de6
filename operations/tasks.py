"""Thin Celery entry points of the operations view; the work is in services."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from operations.services import partitions, periodic, workorders
from operations.services.sync import sync_batch as sync_batch_service

# Deadlocks or serialisation failures between two syncs are worth a few retries;
# bad input (a missing batch) is not retried.
RETRY = {
    "autoretry_for": (DatabaseError,),
    "retry_backoff": 2,
    "retry_backoff_max": 60,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name="operations.tasks.sync_batch", acks_late=True, **RETRY)
def sync_batch(batch_id: int) -> dict[str, int]:
    """Sync one loaded batch into the operations view (idempotent)."""
    return sync_batch_service(batch_id=batch_id)


@shared_task(name="operations.tasks.check_freshness", acks_late=True)
def check_freshness() -> dict[str, int]:
    """Governance alerts for resources late against their update cycle."""
    return periodic.check_freshness()


@shared_task(name="operations.tasks.check_staleness", acks_late=True)
def check_staleness() -> dict[str, int]:
    """Evaluate staleness rules against the clock."""
    return periodic.check_staleness()


@shared_task(name="operations.tasks.mark_overdue_work_orders", acks_late=True)
def mark_overdue_work_orders() -> int:
    """Flag work orders past their deadlines."""
    return workorders.mark_overdue()


@shared_task(name="operations.tasks.sweep_syncs", acks_late=True)
def sweep_syncs() -> list[int]:
    """Re-enqueue syncs that are stuck or were never started (idempotent)."""
    batch_ids = periodic.sweep_syncs()
    for batch_id in batch_ids:
        sync_batch.delay(batch_id)
    return batch_ids


@shared_task(name="operations.tasks.maintain_readings", acks_late=True)
def maintain_readings() -> dict[str, object]:
    """Create the next months' reading partitions, then apply the retention policy."""
    created = partitions.ensure_partitions()
    retained = partitions.apply_retention()
    return {
        "created": created.created,
        "moved": created.moved,
        "aggregated": retained.aggregated,
        "deleted": retained.deleted,
        "dropped": retained.dropped,
        "hourly_deleted": retained.hourly_deleted,
    }
