"""Signal receivers: a loaded batch enqueues its sync."""

from __future__ import annotations


def enqueue_sync(sender, batch, **kwargs) -> None:
    """``hub.signals.batch_loaded`` receiver (already sent after commit): enqueue the sync."""
    from operations.tasks import sync_batch

    sync_batch.delay(batch.pk)
