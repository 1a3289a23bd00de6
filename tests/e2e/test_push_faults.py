"""Micro-batched pushes under a PostgreSQL restart: every acknowledged push is stored
exactly once after recovery.

A private PostgreSQL cluster (tests/e2e/test_faults.py) holds the hub. Pushes are
acknowledged (their receipts committed) while no worker consumes (an in-memory broker:
their flush tasks are lost with the process). A flush then claims them into one window
batch and blocks inside its load on a lock of the records table; PostgreSQL restarts,
killing the load mid-transaction. What the worker's retry or the sweeper runs next
(``streaming.tasks.finish_push_batch``) loads the batch once and settles every receipt.
The worker-kill case is tests/e2e/test_push_worker.py; the broker outage is there too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.test_faults import ROOT, _manage, private_postgres, wait_until

__all__ = ["private_postgres"]  # fixture, re-used

PUSHES, ROWS = 20, 50

ACCEPT = f"""
import json
from hub.demo import load_catalog
from hub.catalog.models import DataResource
from streaming.services import accept_push
load_catalog()
gas = DataResource.objects.select_related("provider").get(code="gas-pipeline-pressure")
ids = []
for n in range({PUSHES}):
    rows = [{{"point_id": f"GP{{i:06d}}", "observed_at": "2025-07-01T14:30:00+08:00",
             "district": "310101", "pressure": 0.35}} for i in range(n * {ROWS}, (n + 1) * {ROWS})]
    ids.append(accept_push(resource=gas, department=gas.provider, records=rows,
                           idempotency_key=f"k{{n}}").receipt.pk)
print(json.dumps({{"resource": gas.pk, "ids": ids}}))
"""

FLUSH = "from streaming.services import flush_resource; flush_resource(resource_id={resource})"

RECOVER = """
from streaming.tasks import finish_push_batch
print(finish_push_batch.apply(({batch},)).get())
"""


@pytest.mark.postgres
def test_postgres_restart_during_a_micro_batch_stores_every_push_once(private_postgres, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": private_postgres.url,
        # Not eager, and nothing consumes: every flush task is lost (the sweeper's case).
        "CELERY_BROKER_URL": "memory://localhost/",
        "CELERY_RESULT_BACKEND": "cache+memory://",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    accepted = _manage(env, "shell", "-c", ACCEPT)
    assert accepted.returncode == 0, accepted.stderr
    pushed = json.loads(accepted.stdout.strip().splitlines()[-1])
    assert len(pushed["ids"]) == PUSHES
    with private_postgres.connect() as db:  # acknowledged: committed, waiting
        assert db.execute(
            "SELECT count(*) FROM streaming_pushreceipt WHERE status = 'accepted'"
        ).fetchone() == (PUSHES,)

    locker = private_postgres.connect()
    locker.execute("BEGIN")
    locker.execute("LOCK TABLE hub_record IN ACCESS EXCLUSIVE MODE")
    flush = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", FLUSH.format(resource=pushed["resource"])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watcher = private_postgres.connect()

    def load_is_blocked() -> bool:
        assert flush.poll() is None, flush.communicate()
        return watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = 'hub'"
        ).fetchone()[0]

    try:
        wait_until(load_is_blocked, 120, "the micro-batch load to wait on the records table")
        watcher.close()
        private_postgres.ctl("restart", "-m", "fast")  # kills the load mid-transaction
        _out, err = flush.communicate(timeout=120)
    finally:
        if flush.poll() is None:
            flush.kill()
            flush.wait(timeout=10)
        locker.close()
        watcher.close()

    assert flush.returncode != 0 and "OperationalError" in err, err[-2000:]
    with private_postgres.connect() as db:
        # The claim was committed before the load: one batch holds every push, nothing
        # of it is stored, and the receipts wait in loading for the retry or the sweeper.
        receipts = db.execute(
            "SELECT DISTINCT status, batch_id FROM streaming_pushreceipt"
        ).fetchall()
        assert len(receipts) == 1 and receipts[0][0] == "loading", receipts
        batch = receipts[0][1]
        assert db.execute("SELECT count(*) FROM hub_record").fetchone() == (0,)

    recovered = _manage(env, "shell", "-c", RECOVER.format(batch=batch))
    assert recovered.returncode == 0, recovered.stderr
    again = _manage(env, "shell", "-c", RECOVER.format(batch=batch))  # a late redelivery
    assert again.returncode == 0, again.stderr

    rows = PUSHES * ROWS
    with private_postgres.connect() as db:
        assert db.execute(
            "SELECT status, count(*), count(DISTINCT batch_id) FROM streaming_pushreceipt"
            " GROUP BY status"
        ).fetchall() == [("loaded", PUSHES, 1)]
        assert db.execute(
            "SELECT id, status, attempts, rows_read, inserted, updated FROM hub_uploadbatch"
        ).fetchall() == [(batch, "loaded", 2, rows, rows, 0)]
        assert db.execute(
            "SELECT count(*), count(DISTINCT key), count(DISTINCT batch_id) FROM hub_record"
        ).fetchone() == (rows, rows, 1)
