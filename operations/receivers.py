"""Signal receivers: a loaded batch (or a record corrected in place) enqueues its sync;
deleting a point waits for syncs."""

from __future__ import annotations

from django.db import connections


def enqueue_sync(sender, batch, **kwargs) -> None:
    """``batch_loaded`` receiver (already sent after commit): enqueue the sync."""
    from operations.tasks import sync_batch

    sync_batch.delay(batch.pk)


def resync_corrected(sender, resource_id, batch_ids, **kwargs) -> None:
    """``records_corrected`` receiver (sent after commit): records changed in place are
    synced again through their batches, the sync a load runs (idempotent), so their
    points, readings and events carry the corrected values and the rules re-evaluate."""
    from operations.tasks import sync_batch

    for batch_id in sorted(set(batch_ids)):
        sync_batch.delay(batch_id)


def lock_point_for_delete(sender, instance, using: str = "default", **kwargs) -> None:
    """pre_delete of a monitoring point: wait for any sync writing readings to it.

    Readings have no database foreign key (see ``Reading``). A sync upserts its points
    first, which locks their rows until it commits; taking the same row lock here makes
    Django's cascade run after that commit and see the sync's readings, instead of
    deleting the point under readings it could not yet see. A sync starting meanwhile
    waits on this lock, then creates the point anew.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers on its own
    table = sender._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {table} WHERE id = %s FOR UPDATE", [instance.pk])  # noqa: S608 - a model's table name
