"""Celery entry points of the ingest side, and sending them.

``enqueue_load`` sends a batch's load and the beat's sweeper re-sends lost ones;
``connectors.services`` re-exports both, so services import this module and it never
imports them back. The work is in ``connectors.pipeline.load``.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from connectors.pipeline import load
from hub.records.models import BatchStatus, UploadBatch

MAX_RETRIES = 5

logger = logging.getLogger(__name__)


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
    try:
        return load.run_batch(batch_id=batch_id).status
    except (OperationalError, InterfaceError) as exc:
        if self.request.retries >= MAX_RETRIES:
            load.mark_failed(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
            raise
        raise self.retry(exc=exc, countdown=min(300, 5 * 2**self.request.retries)) from exc


def enqueue_load(batch_id: int) -> bool:
    """Send the load task of a batch; False (logged) when it cannot be sent.

    Called on commit, so the batch is already stored in status received with its
    ``submitted_at`` mark: an upload accepted while the broker is down is not lost, the
    periodic sweeper (``sweep_stuck_batches`` in the beat schedule) sends it later.
    """
    try:
        ingest_batch.delay(batch_id)
    except Exception:
        # Broker down (kombu OperationalError) or, with a Redis result backend, the result
        # store down (RuntimeError from its reconnect): either way the batch is committed.
        logger.warning(
            "broker unreachable: batch %s stays received until the sweeper re-enqueues it",
            batch_id,
            exc_info=True,
        )
        return False
    return True


@shared_task(name="connectors.tasks.sweep_stuck_batches")
def sweep_stuck_batches(
    *, received_for: timedelta = timedelta(minutes=10), parsing_for: timedelta = timedelta(hours=1)
) -> list[int]:
    """Re-enqueue batches whose task was lost (outbox-style sweeper); returns their ids.

    Re-running is safe: a batch being loaded holds a row lock and the second run leaves
    it alone; a batch left in parsing by a killed worker had its writes rolled back.
    """
    now = timezone.now()
    stuck = list(
        UploadBatch.objects.filter(
            Q(
                status=BatchStatus.RECEIVED,
                timings__has_key="submitted_at",
                created_at__lt=now - received_for,
            )
            | Q(status=BatchStatus.PARSING, started_at__lt=now - parsing_for)
        ).values_list("id", flat=True)
    )
    for batch_id in stuck:
        transaction.on_commit(lambda batch_id=batch_id: enqueue_load(batch_id))
    return stuck
