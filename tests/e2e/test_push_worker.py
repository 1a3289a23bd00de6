"""Micro-batched pushes on the real stack: gunicorn-free but real PostgreSQL, Redis and a
``celery worker`` process. Pushes coalesce into one load; a push accepted while the
broker is down and a micro-batch whose worker is SIGKILLed are loaded exactly once by
the sweeper. Synchronisation by database polling with deadlines, never bare sleeps.
"""

from __future__ import annotations

import os
import signal
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction

from hub.records.models import BatchStatus, Record, UploadBatch
from streaming import services
from streaming.models import PushReceipt
from tests.e2e.test_faults import private_redis, wait_until, worker_on_private_redis
from tests.streaming.conftest import PUSHES, RESOURCE, key_client, readings

__all__ = ["key_client", "private_redis", "worker_on_private_redis"]  # fixtures, re-used

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def _loaded(ids: list[int]) -> bool:
    return PushReceipt.objects.filter(pk__in=ids, status="loaded").count() == len(ids)


def test_pushes_in_one_window_load_as_one_batch(
    celery_worker_process, catalog, key_client, settings
):
    settings.HUB_PUSH_WINDOW_SECONDS = 5.0  # the producer (this process) sets the countdown
    cache.clear()
    client, _key = key_client("housing", scopes=["read", "push"])
    answers = [client.post(PUSHES, readings(10 * n, 10), format="json") for n in range(3)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json()["status"] for a in answers] == ["accepted"] * 3
    ids = [a.json()["id"] for a in answers]
    wait_until(lambda: _loaded(ids), 120, "the worker to load the window")
    batches = set(PushReceipt.objects.filter(pk__in=ids).values_list("batch_id", flat=True))
    assert len(batches) == 1
    batch = UploadBatch.objects.get(pk=batches.pop())
    assert (batch.source, batch.status, batch.inserted) == ("api", "loaded", 30)
    assert Record.objects.filter(resource__code=RESOURCE).count() == 30
    shown = client.get(f"/api/v1/push-receipts/{ids[1]}/").json()
    assert (shown["status"], shown["batch"]) == ("loaded", batch.pk)


def test_push_accepted_while_broker_down_is_loaded_once_by_the_sweeper(
    worker_on_private_redis, private_redis, catalog, key_client, caplog
):
    from hub.beat import SCHEDULE

    assert "streaming.tasks.sweep_push_receipts" in {task for task, _, _ in SCHEDULE}
    cache.clear()
    client, _key = key_client("housing", scopes=["push"])
    private_redis.stop()
    with caplog.at_level("WARNING", logger="streaming.services"):
        answer = client.post(PUSHES, readings(0, 10), format="json")
    assert answer.status_code == 202, answer.content
    assert "broker unreachable" in caplog.text
    receipt = PushReceipt.objects.get(pk=answer.json()["id"])
    assert receipt.status == "accepted" and len(receipt.records) == 10  # durable, waiting

    private_redis.start()
    with transaction.atomic():  # what beat's sweep does, without waiting for its interval
        swept = services.sweep_receipts(older_than=timedelta(0))
    assert swept["resources"] == [receipt.resource_id]
    wait_until(lambda: _loaded([receipt.pk]), 120, "the swept push to load")
    with transaction.atomic():  # a second sweep finds nothing left
        assert services.sweep_receipts(older_than=timedelta(0)) == {
            "resources": [],
            "batches": [],
        }
    assert UploadBatch.objects.count() == 1
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10


@pytest.fixture
def big_batch_worker(transactional_db, monkeypatch, request):
    """The real worker, claiming up to 200k rows per micro-batch (a load long enough to
    be killed in the middle of)."""
    monkeypatch.setenv("HUB_PUSH_MAX_ROWS", "200000")
    return request.getfixturevalue("celery_worker_process")


def test_worker_killed_during_a_micro_batch_loses_and_duplicates_nothing(
    big_batch_worker, catalog, monkeypatch
):
    from hub.catalog.models import DataResource, Department
    from streaming.tasks import flush_pushes

    monkeypatch.setattr(services, "schedule_flush", lambda **kwargs: False)
    gas = DataResource.objects.get(code=RESOURCE)
    housing = Department.objects.get(code="housing")
    pushes, rows = 150, 1000
    ids = [
        services.accept_push(
            resource=gas, department=housing, records=readings(rows * n, rows)
        ).receipt.pk
        for n in range(pushes)
    ]
    flush_pushes.delay(gas.pk)
    batch_id = wait_until(
        lambda: (
            UploadBatch.objects.filter(resource=gas, status=BatchStatus.PARSING)
            .values_list("pk", flat=True)
            .first()
        ),
        120,
        "the micro-batch to start loading",
    )
    os.kill(big_batch_worker.proc.pid, signal.SIGKILL)
    big_batch_worker.proc.wait(timeout=30)
    assert not Record.objects.filter(resource=gas).exists()  # rolled back with the worker
    assert set(PushReceipt.objects.values_list("status", "batch_id")) == {("loading", batch_id)}

    big_batch_worker.proc = big_batch_worker.start()
    with transaction.atomic():
        assert services.sweep_receipts(older_than=timedelta(0))["batches"] == [batch_id]
    wait_until(lambda: _loaded(ids), 300, "the swept micro-batch to load")
    batch = UploadBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.attempts, batch.rows_read, batch.inserted, batch.rejected) == (
        "loaded",
        2,
        pushes * rows,
        pushes * rows,
        0,
    ), (batch.updated, batch.unchanged, batch.timings)
    assert UploadBatch.objects.filter(resource=gas).count() == 1
    assert Record.objects.filter(resource=gas).count() == pushes * rows
    assert Record.objects.filter(resource=gas).values("key").distinct().count() == pushes * rows
