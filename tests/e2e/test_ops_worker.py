"""Operations with a real Celery worker on Redis and PostgreSQL.

* a loaded batch (signal after commit) is synced by the worker: alert + work order in the API;
* a REST upload of readings over a threshold ends as an alert (needs the ingest app);
* a worker SIGKILLed in the middle of a sync: after restart and acks_late redelivery the
  state is exactly that of one clean run, nothing lost or duplicated.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from hub.records.models import UploadBatch
from hub.records.signals import batch_loaded
from operations.models import (
    Alert,
    AlertTransition,
    MonitoringPoint,
    Reading,
    Rule,
    SyncRun,
    WorkOrder,
)
from tests.operations.conftest import gas, ponding

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def wait_for(predicate: Callable[[], object], timeout: float, what: str) -> object:
    """Poll until ``predicate()`` is truthy or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        tick.wait(0.05)
    value = predicate()
    assert value, f"timed out after {timeout} s waiting for {what}"
    return value


@pytest.fixture
def ops_live(celery_worker_process, catalog):
    """The catalog with the demo mappings, in a database the worker process shares."""
    from operations.services.mappings import ensure_default_mappings

    ensure_default_mappings()
    return catalog


def test_loaded_batch_is_synced_by_the_worker(ops_live, api_client, make_user):
    from operations.samples import load_rows

    resources = ops_live["resources"]
    Rule.objects.create(
        name="积水",
        kind="threshold",
        hazard="道路积水",
        metric="depth",
        yellow=15,
        red=40,
        resource=resources["road-ponding"],
    )
    rows = [ponding("PD01", 0, 5), ponding("PD01", 10, 22), ponding("PD02", 10, 3)]
    with transaction.atomic():
        batch = load_rows(resource=resources["road-ponding"], rows=rows, label="live")
        transaction.on_commit(lambda: batch_loaded.send(sender=UploadBatch, batch=batch))

    api_client.force_authenticate(make_user("emergency"))
    alerts = wait_for(
        lambda: api_client.get("/api/v1/ops/alerts/?state=open").json()["results"],
        60,
        "the alert in the API",
    )
    assert len(alerts) == 1
    assert (alerts[0]["level"], alerts[0]["district_code"], alerts[0]["value"]) == (2, "310115", 22)
    assert alerts[0]["work_order"]["state"] == "dispatched"
    orders = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert [o["department"] for o in orders] == ["water"]
    assert SyncRun.objects.get(batch=batch).attempts == 1


def test_rest_upload_over_threshold_raises_alert(ops_live, api_client, make_user):
    pytest.importorskip(
        "connectors.services", reason="the ingest pipeline (connectors app) is not merged yet"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    resources = ops_live["resources"]
    Rule.objects.create(
        name="积水",
        kind="threshold",
        hazard="道路积水",
        metric="depth",
        orange=25,
        resource=resources["road-ponding"],
    )
    # Units in the header, as stewards write them (the connector converts to the field's cm).
    csv = "point_id,observed_at,district,road_name,积水深度(cm),latitude,longitude\n" + "".join(
        f"PD{i:02d},2025-07-01 08:{i:02d}:00,浦东新区,张杨路,{30 if i == 7 else 4},31.22,121.55\n"
        for i in range(20)
    )
    api_client.force_authenticate(make_user("water", steward=True))
    upload = SimpleUploadedFile("ponding.csv", csv.encode("utf-8"))
    response = api_client.post(
        "/api/v1/resources/road-ponding/uploads/", {"file": upload}, format="multipart"
    )
    assert response.status_code in (200, 201, 202), response.content
    alerts = wait_for(
        lambda: api_client.get("/api/v1/ops/alerts/?state=open").json()["results"],
        90,
        "the alert of the uploaded file",
    )
    assert [(a["level"], a["point_name"]) for a in alerts] == [(3, "张杨路")]
    assert WorkOrder.objects.get().department.code == "water"


def _waiting_backend(table: str) -> int | None:
    """PID of a backend waiting for a lock on ``table`` (the worker, blocked mid-sync)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [table]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _backend_alive(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
        return cursor.fetchone() is not None


def test_worker_killed_mid_sync_loses_and_duplicates_nothing(ops_live, celery_worker_process):
    from operations.samples import load_rows
    from operations.services.sync import sync_batch as sync_in_process
    from operations.tasks import sync_batch

    resources = ops_live["resources"]
    Rule.objects.create(
        name="压力",
        kind="threshold",
        hazard="燃气管网超压",
        metric="pressure",
        blue=0.4,
        red=0.6,
        resource=resources["gas-pipeline-pressure"],
    )
    points, steps = 40, 50  # 2,000 records, 20 points end above red
    rows = [
        gas(f"GP{p:06d}", m, 0.3 + (0.35 if p % 2 and m == steps - 1 else 0.0))
        for p in range(points)
        for m in range(steps)
    ]
    batch = load_rows(resource=resources["gas-pipeline-pressure"], rows=rows, label="kill")

    # Hold the alert table so the worker's sync blocks after writing points and readings
    # inside its transaction; then kill the worker there.
    alert_table = Alert._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {alert_table} IN ACCESS EXCLUSIVE MODE")
        sync_batch.delay(batch.pk)
        wait_for(
            lambda: SyncRun.objects.filter(batch=batch, state="running").exists(),
            60,
            "the SyncRun marker",
        )
        backend = wait_for(lambda: _waiting_backend(alert_table), 60, "the sync to block")
        os.kill(celery_worker_process.proc.pid, signal.SIGKILL)
        celery_worker_process.proc.wait(timeout=30)
    # The orphaned backend notices its client is gone and rolls back.
    wait_for(lambda: not _backend_alive(backend), 60, "the killed worker's backend to end")

    run = SyncRun.objects.get(batch=batch)
    assert (run.state, run.attempts) == ("running", 1)
    assert Reading.objects.count() == 0 and MonitoringPoint.objects.count() == 0

    # Restart; the unacknowledged message comes back (acks_late + visibility timeout).
    # The worker restores unacked messages when it starts polling, and otherwise on
    # kombu's throttled restore cycle (every 10th 10-second tick): hence the deadline.
    celery_worker_process.env["CELERY_VISIBILITY_TIMEOUT"] = "1"
    celery_worker_process.proc = celery_worker_process.start()
    wait_for(
        lambda: SyncRun.objects.filter(batch=batch, state="done").exists(),
        240,
        "the redelivered sync to finish",
    )
    run.refresh_from_db()
    assert run.attempts == 2
    expected = {
        "points": points,
        "readings": points * steps,
        "alerts": points // 2,
        "work_orders": points // 2,
        "transitions": points // 2,
    }

    def state() -> dict:
        return {
            "points": MonitoringPoint.objects.count(),
            "readings": Reading.objects.count(),
            "alerts": Alert.objects.count(),
            "work_orders": WorkOrder.objects.count(),
            "transitions": AlertTransition.objects.count(),
        }

    assert state() == expected
    distinct = Reading.objects.values("resource", "record_key", "metric").distinct().count()
    assert distinct == expected["readings"]
    assert set(Alert.objects.values_list("level", flat=True)) == {4}
    # One more clean run changes nothing: the redelivered run equals a clean one.
    before = list(Reading.objects.order_by("id").values_list("id", "value", "point_id"))
    sync_in_process(batch_id=batch.pk)
    assert state() == expected
    assert list(Reading.objects.order_by("id").values_list("id", "value", "point_id")) == before
