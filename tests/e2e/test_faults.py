"""Fault tests against the real stack: database restart, broker outage, racing uploads.

Each fault uses throwaway servers of its own (a private Redis, a private PostgreSQL
cluster) started and removed by fixtures, so the shared servers are never touched.
Synchronisation is by conditions with deadlines (process waits, database polling,
``pg_stat_activity``), never by bare sleeps.

Covered elsewhere, not repeated here: a worker SIGKILLed mid-load
(tests/ingest/test_worker.py::test_worker_killed_mid_load_restarts_cleanly) and mid-sync
(tests/e2e/test_ops_worker.py::test_worker_killed_mid_sync_loses_and_duplicates_nothing).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import HEADER, RESOURCE, gas_csv

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path("/usr/lib/postgresql/15/bin")
UPLOAD = f"/api/v1/resources/{RESOURCE}/uploads/"


def wait_until(predicate, timeout: float, what: str):
    """Poll ``predicate`` until it returns a truthy value; fail naming ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    tick = threading.Event()
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        tick.wait(0.05)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def readings_csv(start: int, count: int, pressure: str) -> bytes:
    """Gas readings GP{start}…GP{start+count-1}, all with the given pressure."""
    lines = [HEADER]
    for i in range(start, start + count):
        lines.append(f"GP{i:06d},2025-07-01 14:30:00,黄浦区,{pressure},21.5,中压A,31.23,121.47")
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def gas(catalog):
    return catalog["resources"][RESOURCE]


@pytest.fixture
def steward(make_user, catalog):
    """A steward of the gas resource's provider (housing)."""
    return make_user("housing", steward=True)


# --- private servers -------------------------------------------------------------------


class PrivateRedis:
    """A redis-server on a free port that a test may stop and start again."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def _answers(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(port=self.port, socket_timeout=1).ping())
        except redis.exceptions.ConnectionError:
            return False

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--daemonize", "no"),
                *("--dir", str(self.workdir)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, 20, f"private redis on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        wait_until(lambda: not self._answers(), 10, "private redis to go away")


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        pytest.skip("needs redis-server: apt-get install redis-server")
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        if server.proc is not None and server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=10)


_CACHED = ("pool", "producer_pool", "backend_cache", "local_backend")


def _cached_connections(app) -> dict:
    return {
        "pool": app._pool,
        "producer_pool": app.amqp._producer_pool,
        "backend_cache": app._backend_cache,
        "local_backend": app._local.__dict__.get("backend"),
    }


def _set_cached_connections(app, cached: dict) -> None:
    """Set (or, with None values, forget) the app's cached broker pools and result
    backend, so changed broker and backend URLs take effect. kombu keeps one pool per
    broker URL, so nothing is closed here."""
    app._pool = cached["pool"]
    app.amqp._producer_pool = cached["producer_pool"]
    app._backend_cache = cached["backend_cache"]
    if cached["local_backend"] is None:
        app._local.__dict__.pop("backend", None)
    else:
        app._local.backend = cached["local_backend"]


@pytest.fixture
def worker_on_private_redis(transactional_db, private_redis, monkeypatch, request):
    """The real worker of tests/conftest.py, with web side and worker on a private Redis.

    The app's cached connections are put back as they were afterwards, so later tests
    on the shared broker are not left holding pools to the removed private Redis.
    """
    from hub.celery import app

    monkeypatch.setenv("CELERY_BROKER_URL", private_redis.url(0))
    monkeypatch.setenv("CELERY_RESULT_BACKEND", private_redis.url(1))
    before = _cached_connections(app)
    forget = dict.fromkeys(_CACHED)
    _set_cached_connections(app, forget)
    request.addfinalizer(lambda: _set_cached_connections(app, before))
    worker = request.getfixturevalue("celery_worker_process")
    _set_cached_connections(app, forget)
    return worker


class PrivatePostgres:
    """A throwaway PostgreSQL 15 cluster (owned by the postgres OS user) on a free port."""

    def __init__(self):
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="hub-faults-pg-"))
        self.data = self.dir / "data"
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/hub"
        if os.geteuid() == 0:  # initdb refuses root: the cluster belongs to postgres
            shutil.chown(self.dir, user="postgres", group="postgres")

    def _as_postgres(self, *args: str, timeout: float = 120) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run(
            prefix + list(args),
            check=True,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )

    def ctl(self, action: str, *extra: str) -> None:
        self._as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-w",
            "-l",
            str(self.dir / "server.log"),
            *extra,
            action,
        )

    def init(self) -> None:
        self._as_postgres(
            str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust"
        )
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self.ctl("start", "-o", options)
        with self.connect("postgres") as conn:
            conn.execute("CREATE DATABASE hub")

    def connect(self, dbname: str = "hub"):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def remove(self) -> None:
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(subprocess.SubprocessError):
                self.ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_postgres():
    if not (PG_BIN / "initdb").exists():
        pytest.skip(f"needs PostgreSQL 15 server binaries in {PG_BIN}")
    server = PrivatePostgres()
    try:
        server.init()
        yield server
    finally:
        server.remove()


# --- 2. PostgreSQL restarted during an upload ---------------------------------------------


def _manage(env: dict, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.postgres
def test_postgres_restart_mid_load_fails_clearly_and_reupload_loads(private_postgres, tmp_path):
    env = {
        **os.environ,
        "DATABASE_URL": private_postgres.url,
        "CELERY_BROKER_URL": "",
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    migrated = _manage(env, "migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    seeded = _manage(env, "shell", "-c", "from hub.demo import load_catalog; load_catalog()")
    assert seeded.returncode == 0, seeded.stderr
    rows = 2000
    path = tmp_path / "gas.csv"
    path.write_text(gas_csv(rows), encoding="utf-8")
    command = ["manage.py", "ingest", str(path), "--resource", RESOURCE, "--json"]

    # Hold the records table so the load blocks inside its transaction, after the claim.
    locker = private_postgres.connect()
    locker.execute("BEGIN")
    locker.execute("LOCK TABLE hub_record IN ACCESS EXCLUSIVE MODE")
    ingest = subprocess.Popen(
        [sys.executable, *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watcher = private_postgres.connect()

    def load_is_blocked() -> bool:
        assert ingest.poll() is None, ingest.communicate()
        # Its own connection: pg_stat_activity is a snapshot within a transaction.
        return watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            " AND datname = 'hub'"
        ).fetchone()[0]

    try:
        wait_until(load_is_blocked, 90, "the load to wait on the records table")
        watcher.close()
        # A restart kills every session, the load's and the lock holder's alike.
        private_postgres.ctl("restart", "-m", "fast")
        out, err = ingest.communicate(timeout=120)
    finally:
        if ingest.poll() is None:
            ingest.kill()
            ingest.wait(timeout=10)
        locker.close()
        watcher.close()

    assert ingest.returncode == 1, (out, err)
    summary = json.loads(out)
    assert summary["status"] == "failed"
    assert summary["message"].startswith("OperationalError: "), summary["message"]
    assert "connection" in summary["message"]
    with private_postgres.connect() as db:
        batches = db.execute("SELECT id, status, message FROM hub_uploadbatch").fetchall()
        assert [(b[0], b[1]) for b in batches] == [(summary["batch"], "failed")]
        assert batches[0][2] == summary["message"]
        assert db.execute("SELECT count(*) FROM hub_record").fetchone()[0] == 0

    # The same file again: a new batch (failed ones may be re-uploaded) loads every row.
    again = _manage(env, *command[1:])
    assert again.returncode == 0, (again.stdout, again.stderr)
    retry = json.loads(again.stdout)
    assert retry["batch"] != summary["batch"]
    assert (retry["status"], retry["rows_read"], retry["inserted"], retry["updated"]) == (
        "loaded",
        rows,
        rows,
        0,
    )
    with private_postgres.connect() as db:
        assert db.execute(
            "SELECT count(*), count(DISTINCT key) FROM hub_record WHERE batch_id = %s",
            [retry["batch"]],
        ).fetchone() == (rows, rows)
        assert db.execute("SELECT count(*) FROM hub_record").fetchone()[0] == rows


# --- 3. Redis unavailable when an upload is accepted ---------------------------------------


@pytest.mark.broker
@pytest.mark.postgres
def test_upload_accepted_while_broker_down_is_loaded_after_it_returns(
    worker_on_private_redis, private_redis, api_client, steward, gas, caplog
):
    from hub.beat import SCHEDULE

    assert "connectors.tasks.sweep_stuck_batches" in {task for task, _, _ in SCHEDULE}
    private_redis.stop()

    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.csv", gas_csv(300).encode("utf-8"))
    with caplog.at_level("WARNING", logger="connectors.tasks"):
        response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert response.status_code == 202, response.content
    batch_id = response.json()["id"]
    assert response.json()["status"] == "received"
    assert [r.getMessage() for r in caplog.records if r.name == "connectors.tasks"] == [
        f"broker unreachable: batch {batch_id} stays received until the sweeper re-enqueues it"
    ]
    batch = UploadBatch.objects.get(pk=batch_id)
    assert batch.status == BatchStatus.RECEIVED and "submitted_at" in batch.timings
    assert not Record.objects.filter(resource=gas).exists()

    private_redis.start()
    # What beat's periodic sweep does, without waiting for its interval.
    with transaction.atomic():
        from connectors.services import sweep_stuck_batches

        assert sweep_stuck_batches(received_for=timedelta(0)) == [batch_id]

    wait_until(
        lambda: UploadBatch.objects.filter(pk=batch_id, status__in=["loaded", "failed"]).exists(),
        120,
        "the worker to load the swept batch",
    )
    batch.refresh_from_db()
    assert (batch.status, batch.attempts, batch.rows_read, batch.inserted) == (
        "loaded",
        1,
        300,
        300,
    )
    assert Record.objects.filter(resource=gas, batch=batch).count() == 300


def test_failed_send_leaves_the_batch_for_the_sweeper(
    api_client, steward, gas, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    """The same path without servers: the on-commit send raises, the request still 202s."""
    from kombu.exceptions import OperationalError as BrokerError

    from connectors import tasks

    def broker_down(*args, **kwargs):
        raise BrokerError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.ingest_batch, "delay", broker_down)
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.csv", gas_csv(5).encode("utf-8"))
    with (
        caplog.at_level("WARNING", logger="connectors.tasks"),
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert len(callbacks) == 1
    assert response.status_code == 202, response.content
    batch = UploadBatch.objects.get(pk=response.json()["id"])
    assert batch.status == BatchStatus.RECEIVED and "submitted_at" in batch.timings
    assert "broker unreachable" in caplog.text

    monkeypatch.undo()
    from connectors.services import sweep_stuck_batches

    with django_capture_on_commit_callbacks(execute=True):
        assert sweep_stuck_batches(received_for=timedelta(0)) == [batch.pk]
    batch.refresh_from_db()
    assert (batch.status, batch.inserted) == ("loaded", 5)


# --- 4. and 5. concurrent uploads -----------------------------------------------------------


def _post_concurrently(user, files: list[tuple[str, bytes]], timeout: float = 120) -> list:
    """POST every file at once from its own thread (own DB connection); the responses."""
    barrier = threading.Barrier(len(files))
    responses: list = [None] * len(files)
    errors: list[BaseException] = []

    def post(i: int, name: str, content: bytes) -> None:
        try:
            client = APIClient()
            client.force_authenticate(user)
            upload = SimpleUploadedFile(name, content)
            barrier.wait(timeout=30)
            responses[i] = client.post(UPLOAD, {"file": upload}, format="multipart")
        except BaseException as exc:  # re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=post, args=(i, name, content), daemon=True)
        for i, (name, content) in enumerate(files)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "an upload request is still hanging"
    if errors:
        raise errors[0]
    return responses


def _no_session_left_waiting() -> None:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
            " AND (wait_event_type = 'Lock' OR state LIKE 'idle in transaction%')"
        )
        assert cursor.fetchone()[0] == 0


@pytest.mark.broker
@pytest.mark.postgres
def test_identical_uploads_at_once_make_one_batch(celery_worker_process, steward, gas):
    rows = 400
    content = gas_csv(rows).encode("utf-8")
    responses = _post_concurrently(steward, [("a.csv", content), ("b.csv", content)])

    assert all(r.status_code in (200, 202) for r in responses), [r.content for r in responses]
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1
    batch_id = ids.pop()
    assert list(UploadBatch.objects.values_list("id", flat=True)) == [batch_id]

    wait_until(
        lambda: UploadBatch.objects.filter(pk=batch_id, status__in=["loaded", "failed"]).exists(),
        120,
        "the worker to load the batch",
    )
    # Both requests may have sent the (idempotent) task; the second run is a no-op.
    from connectors.tasks import ingest_batch

    assert ingest_batch.apply_async(args=[batch_id]).get(timeout=120) == "loaded"
    batch = UploadBatch.objects.get(pk=batch_id)
    assert (batch.status, batch.attempts, batch.inserted, batch.updated) == ("loaded", 1, rows, 0)
    assert Record.objects.filter(resource=gas).count() == rows
    assert Record.objects.filter(resource=gas).exclude(batch=batch).count() == 0


@pytest.fixture
def join_flag_restored():
    """Eager apply_async sets and resets Celery's process-wide "joining a result would
    block" flag; from concurrent threads the resets interleave and can leave it set,
    which would break AsyncResult.get() in later tests. Put it back afterwards."""
    from celery._state import _set_task_join_will_block, task_join_will_block

    before = task_join_will_block()
    yield
    _set_task_join_will_block(before)


@pytest.mark.postgres
def test_concurrent_uploads_with_overlapping_keys_end_consistent(
    transactional_db, join_flag_restored, steward, gas
):
    # Loads run in the request threads (eager tasks), so the three transactions really
    # overlap in the database: keys 100-199 are in files A and B, 200-299 in B and C.
    files = {
        "a.csv": (0, "0.31"),
        "b.csv": (100, "0.32"),
        "c.csv": (200, "0.33"),
    }
    responses = _post_concurrently(
        steward, [(name, readings_csv(start, 200, p)) for name, (start, p) in files.items()]
    )
    _no_session_left_waiting()

    batches = {b.original_filename: b for b in UploadBatch.objects.filter(resource=gas)}
    assert sorted(batches) == sorted(files)
    for batch in batches.values():
        # A deadlock victim would have been retried by the task (transient error).
        assert (batch.status, batch.rows_read, batch.rejected) == ("loaded", 200, 0), batch.message
    assert sorted(r.json()["id"] for r in responses) == sorted(b.pk for b in batches.values())

    assert sum(b.inserted for b in batches.values()) == 400
    assert sum(b.updated for b in batches.values()) == 200
    assert sum(b.unchanged for b in batches.values()) == 0
    records = list(Record.objects.filter(resource=gas).select_related("batch"))
    assert len(records) == 400 and len({r.key for r in records}) == 400

    # Every key holds the value of the last batch to commit among those containing it.
    by_file = {name: (start, pressure) for name, (start, pressure) in files.items()}
    for record in records:
        number = int(record.data["point_id"][2:])
        holders = [
            batches[name] for name, (start, _) in by_file.items() if start <= number < start + 200
        ]
        last = max(holders, key=lambda b: b.finished_at)
        assert record.batch_id == last.pk, record.data["point_id"]
        assert record.data["pressure"] == float(by_file[last.original_filename][1])
