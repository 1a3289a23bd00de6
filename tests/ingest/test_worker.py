"""Real Celery worker on Redis: REST upload → worker load; a worker killed mid-load."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import gas_csv

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"


def _barrier(batch_id: int, timeout: float = 180) -> str:
    """Send the same (idempotent) task again and wait for it: the solo worker handles
    messages in order, so when it answers the earlier one has finished too."""
    from connectors.tasks import ingest_batch

    return ingest_batch.apply_async(args=[batch_id]).get(timeout=timeout)


def _wait_for(predicate, timeout: float) -> bool:
    """Poll the database until ``predicate()`` holds or the deadline passes."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while time.monotonic() < deadline:
        if predicate():
            return True
        tick.wait(0.02)
    return predicate()


def test_upload_via_rest_is_loaded_by_the_worker(celery_worker_process, api_client, steward, gas):
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.csv", gas_csv(500).encode("utf-8"))
    response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]

    assert _barrier(batch_id) == "loaded"
    batch = UploadBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.inserted, batch.rows_read, batch.attempts) == (
        "loaded",
        500,
        500,
        1,
    )
    assert Record.objects.filter(resource=gas, batch=batch).count() == 500


def test_worker_killed_mid_load_restarts_cleanly(celery_worker_process, api_client, steward, gas):
    rows = 300_000
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("big.csv", gas_csv(rows).encode("utf-8"))
    response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert response.status_code == 202
    batch_id = response.json()["id"]

    started = _wait_for(
        lambda: UploadBatch.objects.filter(pk=batch_id, status=BatchStatus.PARSING).exists(), 60
    )
    assert started
    os.kill(celery_worker_process.proc.pid, signal.SIGKILL)
    celery_worker_process.proc.wait(timeout=30)

    # The load's transaction died with the worker: nothing written, batch still parsing.
    batch = UploadBatch.objects.get(pk=batch_id)
    assert batch.status == BatchStatus.PARSING and batch.attempts == 1
    assert not Record.objects.filter(resource=gas).exists()

    celery_worker_process.proc = celery_worker_process.start()
    from django.db import transaction

    from connectors.services import sweep_stuck_batches

    with transaction.atomic():
        assert sweep_stuck_batches(parsing_for=timedelta(0)) == [batch_id]
    assert _barrier(batch_id, timeout=300) == "loaded"

    batch.refresh_from_db()
    assert (batch.status, batch.attempts) == ("loaded", 2)
    assert (batch.rows_read, batch.inserted, batch.updated, batch.rejected) == (rows, rows, 0, 0)
    assert Record.objects.filter(resource=gas).count() == rows
    assert Record.objects.filter(resource=gas).values("key").distinct().count() == rows
