"""Micro-batched pushes on the real stack: ``python -m bench push``.

8 concurrent clients (keep-alive connections) push 10-row JSON readings to
``POST /api/v1/resources/{code}/pushes/`` for 30 s against gunicorn as the Procfile
runs it (2 gthread workers × 8 threads, or ``BENCH_PUSH_WEB_WORKERS`` and
``BENCH_PUSH_WEB_THREADS``; pushes take the push front, streaming/front.py) and one
Celery worker for ingest and one for sync (solo pools) on PostgreSQL and Redis (broker
and shared cache). Every 20th push of a client carries one reading of a new point above the red
threshold of a resource-wide rule: it opens one alert. Reported:
- pushes/s acknowledged (202) and their latency;
- push → record visible: from the client sending the push to its receipt's
  ``finished_at``, which is written after the load's commit (an upper bound); push →
  operations view and push → alert opened (the carrying batch's SyncRun finished: the
  alert is committed by that sync);
- lost (acknowledged rows not in the record store) and duplicated (rows read by the
  resource's loaded batches beyond the rows acknowledged: a push loaded twice);
- the floor: the same rows written by one COPY per second of pushes into a keyed JSONB
  table, and the hub's load time (sum of its batches' load timings) against it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

from django.db.models import Count

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = "gas-pipeline-pressure"
CLIENTS, ROWS = 8, 10
HOT_EVERY = 20  # every 20th push of a client opens one red alert (a new point at 0.65)
TICK = threading.Event()


def _wait(predicate, timeout: float, what: str, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        TICK.wait(every)
    raise TimeoutError(f"bench push: timed out waiting for {what}")


def _http_parser() -> str:
    """Which HTTP parser gunicorn's workers use: its C one (gunicorn_h1c) when installed."""
    from gunicorn.config import Config
    from gunicorn.http import message

    return "C" if message._check_fast_parser(Config()) else "Python"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _database_url() -> str:
    from django.conf import settings

    db = settings.DATABASES["default"]
    url = f"postgres://{db.get('USER') or 'postgres'}@{db.get('HOST') or '127.0.0.1'}:"
    return url + f"{db.get('PORT') or 5432}/{db['NAME']}"


def _env(broker: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": os.environ.get("CELERY_RESULT_BACKEND") or broker,
        # Persistent connections, as docs/DEPLOY.md sizes the web tier: a new PostgreSQL
        # connection per push costs more than the push's own queries.
        "DATABASE_CONN_MAX_AGE": os.environ.get("DATABASE_CONN_MAX_AGE", "60"),
        # Throttles counted across the web processes, as docs/DEPLOY.md configures them.
        "HUB_CACHE_URL": broker.rsplit("/", 1)[0] + "/13",
        "HUB_LOG_LEVEL": "WARNING",
        "DJANGO_DEBUG": "0",
    }


def _start(broker: str, port: int) -> list[subprocess.Popen]:
    env = _env(broker)
    quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    web = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "hub.wsgi", "--bind", f"127.0.0.1:{port}",
         "--workers", str(_web_workers()), "--worker-class", "gthread",
         "--threads", str(_web_threads()), "--log-level", "warning"], **quiet,
    )  # fmt: skip
    workers = [
        subprocess.Popen(_worker_command(name, queues), **quiet)
        for name, queues in (("ingest", "ingest,default"), ("sync", "sync"))
    ]
    return [web, *workers]


def _worker_name(name: str) -> str:
    return f"benchpush-{name}-{os.getpid()}@{socket.gethostname()}"


def _worker_command(name: str, queues: str) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "hub", "worker", "-Q", queues, "--pool=solo",
        "--without-gossip", "--without-mingle", "-n", _worker_name(name), "--loglevel=WARNING",
    ]  # fmt: skip


def _wait_for_workers(*names: str) -> None:
    """Until each Celery worker answers a ping: the load starts on running workers, as
    in a deployment, not while they still import the hub."""
    from hub.celery import app

    wanted = {_worker_name(name) for name in names}

    def answered() -> bool:
        replies = app.control.ping(timeout=0.5) or []
        return wanted <= {node for reply in replies for node in reply}

    _wait(answered, 90, "the Celery workers")


def _cpu(pid: int) -> float:
    """CPU seconds (user + system) a live process has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in children:
            found += _tree(int(child))
    return found


def _cpu_snapshot(procs: list[subprocess.Popen]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of the web tier (gunicorn and its workers), the worker, and the
    PostgreSQL backends of the bench database (persistent: DATABASE_CONN_MAX_AGE)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    web, *workers = procs
    return {
        "web": {pid: _cpu(pid) for pid in _tree(web.pid)},
        "worker": {pid: _cpu(pid) for worker in workers for pid in _tree(worker.pid)},
        "postgres": {pid: _cpu(pid) for pid in backends},
        "clients": {os.getpid(): _cpu(os.getpid())},
    }


def _cpu_used(before: dict, after: dict) -> dict[str, float]:
    return {
        part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in pids.items())
        for part, pids in after.items()
    }


def _web_workers() -> int:
    return int(os.environ.get("BENCH_PUSH_WEB_WORKERS", "2"))


def _web_threads() -> int:
    return int(os.environ.get("BENCH_PUSH_WEB_THREADS", "8"))


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _prepare():
    """The gas resource emptied, its mapping to readings, a push key with a high rate."""
    from django.contrib.auth import get_user_model

    from bench.isolation import vacuum
    from hub.catalog.models import DataResource
    from hub.demo import load_catalog
    from hub.records.models import Record, UploadBatch
    from hub.records.recordstore import RecordStore
    from operations.models import Alert, MonitoringPoint, Reading, Rule, SyncRun
    from operations.services.mappings import upsert_mapping
    from permissions.api_key_services import create_api_key
    from streaming.models import PushReceipt
    from streaming.services import set_push_rate

    load_catalog()
    resource = DataResource.objects.select_related("provider").get(code=RESOURCE)
    upsert_mapping(
        resource=resource, entity="reading", point_field="point_id", metrics=["pressure"]
    )
    PushReceipt.objects.filter(resource=resource).delete()
    RecordStore(resource).delete()
    Alert.objects.filter(resource=resource).delete()
    UploadBatch.objects.filter(resource=resource).delete()
    MonitoringPoint.objects.filter(resource=resource).delete()
    Rule.objects.filter(resource=resource).delete()
    vacuum(PushReceipt, Record, UploadBatch, SyncRun, Alert, MonitoringPoint, Reading)
    Rule.objects.create(
        name="bench push 超压", kind="threshold", hazard="燃气管网超压", resource=resource,
        metric="pressure", blue=0.4, yellow=0.45, orange=0.5, red=0.6,
    )  # fmt: skip
    root, _ = get_user_model().objects.get_or_create(
        username="bench-root", defaults={"is_staff": True, "is_superuser": True}
    )
    api_key, plaintext = create_api_key(
        department=resource.provider,
        name="bench-push",
        scopes=["read", "push"],
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    set_push_rate(user=root, api_key=api_key, rate="1000000/min")
    return resource, plaintext


class Client(threading.Thread):
    """Pushes 10-row readings of its own 10 points, one timestamp per push, until told."""

    def __init__(self, n: int, url: str, key: str, stop: threading.Event, base: dt.datetime):
        super().__init__(daemon=True)
        self.n, self.url, self.key, self.stop, self.base = n, url, key, stop, base
        # (receipt id, sent at, acked at, seq)
        self.sent: list[tuple[int, float, float, int]] = []
        self.refused = 0

    @staticmethod
    def hot_point(n: int, seq: int) -> str | None:
        # The resource's point ids are GP + 6 digits: GP8 n seq here, GP9 nn rrr otherwise.
        return f"GP8{n}{seq:04d}" if seq % HOT_EVERY == HOT_EVERY - 1 else None

    def rows(self, seq: int) -> list[dict]:
        at = (self.base + dt.timedelta(seconds=seq)).isoformat()
        rows = [
            {"point_id": f"GP9{self.n:02d}{r:03d}", "observed_at": at, "district": "310101",
             "pressure": round(0.30 + 0.001 * ((seq + r) % 50), 4)}
            for r in range(ROWS)
        ]  # fmt: skip
        if hot := self.hot_point(self.n, seq):
            rows[-1] = {**rows[-1], "point_id": hot, "pressure": 0.65}
        return rows

    def body(self, seq: int) -> bytes:
        return json.dumps(self.rows(seq)).encode()

    def run(self) -> None:
        seq = 0
        target = urlsplit(self.url)
        connection = HTTPConnection(target.hostname, target.port, timeout=30)
        while not self.stop.is_set():
            headers = {
                "Authorization": f"Api-Key {self.key}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{self.n}-{seq}",
            }
            started = time.time()
            try:
                connection.request("POST", target.path, body=self.body(seq), headers=headers)
                response = connection.getresponse()
                payload = response.read()
                if response.status == 202:
                    self.sent.append((json.loads(payload)["id"], started, time.time(), seq))
                else:
                    self.refused += 1
            except (OSError, ValueError):
                # Not acknowledged: a sensor platform would retry with the same key.
                self.refused += 1
                connection.close()
                connection = HTTPConnection(target.hostname, target.port, timeout=30)
            seq += 1
        connection.close()


def _floor(rows: list[list[dict]]) -> float:
    """Seconds to write the same rows by one COPY per second of pushes (keyed JSONB)."""
    from django.db import connection

    total = 0.0
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE push_floor (key text PRIMARY KEY, data jsonb, t timestamptz)"
        )
        for second in rows:
            buffer = io.StringIO()
            for row in second:
                key = f"{row['point_id']}|{row['observed_at']}"
                data = json.dumps(row).replace("\\", "\\\\")
                buffer.write(f"{key}\t{data}\t{row['observed_at']}\n")
            started = time.perf_counter()
            with cursor.cursor.copy("COPY push_floor (key, data, t) FROM STDIN") as copy:
                copy.write(buffer.getvalue())
            total += time.perf_counter() - started
        cursor.execute("DROP TABLE push_floor")
    return total


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(q * len(ordered)) - 1)] if ordered else float("nan")


def run(args: argparse.Namespace) -> str:
    from bench.isolation import purge_broker
    from operations.models import SyncRun
    from streaming.models import PushReceipt

    seconds = 5 if getattr(args, "quick", False) else 30
    broker = os.environ.get("CELERY_BROKER_URL")
    if not broker:
        raise SystemExit("bench push needs a broker: set CELERY_BROKER_URL=redis://…")
    resource, key = _prepare()
    purge_broker(broker)
    port = _free_port()
    procs = _start(broker, port)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: _up(f"{base_url}/api/v1/resources/"), 90, "gunicorn")
        _wait_for_workers("ingest", "sync")
        stop = threading.Event()
        base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        url = f"{base_url}/api/v1/resources/{RESOURCE}/pushes/"
        clients = [Client(n, url, key, stop, base) for n in range(CLIENTS)]
        _warm_up(url, key)
        cpu_before = _cpu_snapshot(procs)
        started = time.time()
        for client in clients:
            client.start()
        TICK.wait(seconds)
        stop.set()
        for client in clients:
            client.join(timeout=60)
        ended = time.time()
        acked = [(c, *entry) for c in clients for entry in c.sent]
        ids = [receipt for _, receipt, _, _, _ in acked]
        _wait(
            lambda: (
                PushReceipt.objects.filter(pk__in=ids, finished_at__isnull=False).count()
                == len(ids)
            ),
            600,
            "every acknowledged push to be loaded",
            every=0.5,
        )
        batch_ids = set(
            PushReceipt.objects.filter(pk__in=ids, status="loaded").values_list(
                "batch_id", flat=True
            )
        )
        _wait(
            lambda: (
                SyncRun.objects.filter(batch_id__in=batch_ids, state="done").count()
                == len(batch_ids)
            ),
            600,
            "the syncs of the pushed batches",
            every=0.5,
        )
        cpu = _cpu_used(cpu_before, _cpu_snapshot(procs))
    finally:
        _stop(procs)
    return _report(resource, clients, acked, started, ended, cpu)


def _report(resource, clients, acked, started: float, ended: float, cpu: dict) -> str:
    from hub.records.models import Record, UploadBatch
    from operations.models import Alert, SyncRun
    from streaming.models import PushReceipt

    ids = [receipt for _, receipt, _, _, _ in acked]
    elapsed = ended - started
    receipts = {
        pk: (status, batch, finished)
        for pk, status, batch, finished in PushReceipt.objects.filter(pk__in=ids).values_list(
            "pk", "status", "batch_id", "finished_at"
        )
    }
    batch_ids = {batch for status, batch, _ in receipts.values() if status == "loaded"}
    synced = dict(
        SyncRun.objects.filter(batch_id__in=batch_ids).values_list("batch_id", "finished_at")
    )
    visible = [receipts[r][2].timestamp() - sent for _, r, sent, _, _ in acked]
    in_view = [
        synced[b].timestamp() - sent
        for _, r, sent, _, _ in acked
        if (b := receipts[r][1]) in synced
    ]
    answer = [done - sent for _, _, sent, done, _ in acked]
    # Hot pushes: one new point each, one red alert each, committed by its batch's sync.
    hot = {
        c.hot_point(c.n, seq): (r, sent) for c, r, sent, _, seq in acked if c.hot_point(c.n, seq)
    }
    opened = dict(
        Alert.objects.filter(resource=resource, point__external_id__in=list(hot))
        .values_list("point__external_id")
        .annotate(n=Count("id"))
    )
    alert_latency = [
        synced[b].timestamp() - sent
        for point, (r, sent) in hot.items()
        if opened.get(point) and (b := receipts[r][1]) in synced
    ]
    missing_alerts = sum(1 for point in hot if opened.get(point, 0) != 1)
    expected_rows = len(acked) * ROWS
    records = Record.objects.filter(resource=resource)
    stored = records.count()
    distinct = records.values("key").distinct().count()
    loads = UploadBatch.objects.filter(resource=resource, status="loaded")
    read_by_loads = sum(loads.values_list("rows_read", flat=True))
    load_seconds = sum(float(t.get("total", 0)) for t in loads.values_list("timings", flat=True))
    lost = max(0, expected_rows - stored)
    duplicated = max(0, read_by_loads - expected_rows) + (stored - distinct)
    not_loaded = sum(1 for status, _, _ in receipts.values() if status != "loaded")
    # The floor: the same rows, one COPY per second of pushes.
    per_second: dict[int, list[dict]] = {}
    for client, _, sent, _, seq in acked:
        per_second.setdefault(int(sent - started), []).extend(client.rows(seq))
    floor = _floor(list(per_second.values()))
    rate = len(acked) / elapsed
    workers = _web_workers()
    per_push = {part: seconds * 1000 / max(1, len(acked)) for part, seconds in cpu.items()}
    total_ms = sum(ms for part, ms in per_push.items() if part != "clients")
    return "\n".join(
        [
            "## Micro-batched pushes (bench_push)",
            "",
            f"{CLIENTS} clients × 10-row pushes (keep-alive) for {elapsed:.1f} s over "
            f"loopback, gunicorn ({workers} gthread workers × {_web_threads()} threads, "
            f"{_http_parser()} HTTP parser, push front) + 2 Celery workers (solo; "
            "ingest+default, sync), PostgreSQL, Redis; window "
            f"{os.environ.get('HUB_PUSH_WINDOW_SECONDS', '0.5')} s; load average at the end "
            f"{os.getloadavg()[0]:.1f} (2 cores).",
            "",
            "| measure | result | target |",
            "| --- | --- | --- |",
            f"| pushes acknowledged (202) | {len(acked):,} = **{rate:,.0f} pushes/s** "
            f"({rate * ROWS:,.0f} rows/s); refused/failed: "
            f"{sum(c.refused for c in clients)} | ≥ 500/s |",
            f"| push answer (202) | p50 {statistics.median(answer) * 1000:.0f} ms, "
            f"p95 {_pct(answer, 0.95) * 1000:.0f} ms | |",
            f"| push → record visible (receipt finished after the load's commit) | p50 "
            f"{statistics.median(visible):.2f} s, **p95 {_pct(visible, 0.95):.2f} s**, max "
            f"{max(visible):.2f} s | p95 < 2 s |",
            f"| push → operations view (SyncRun done) | p50 {statistics.median(in_view):.2f} s,"
            f" **p95 {_pct(in_view, 0.95):.2f} s** | |",
            f"| push → alert opened ({len(hot)} hot pushes, one new red alert each; "
            f"missing or doubled: {missing_alerts}) | p50 "
            f"{statistics.median(alert_latency) if alert_latency else float('nan'):.2f} s, "
            f"**p95 {_pct(alert_latency, 0.95):.2f} s** | p95 < 2 s |",
            f"| loads | {len(batch_ids)} batches, {expected_rows / max(1, len(batch_ids)):,.0f}"
            f" rows per batch on average; receipts not loaded: {not_loaded} | |",
            f"| lost (acknowledged rows not stored) | **{lost}** | 0 |",
            f"| duplicated (rows loaded twice) | **{duplicated}** | 0 |",
            f"| floor: same {expected_rows:,} rows by one COPY per second ({len(per_second)} "
            f"COPYs) | {floor:.2f} s | |",
            f"| hub load time (sum of batch timings) / floor | {load_seconds:.2f} s / "
            f"{floor:.2f} s = **{load_seconds / floor:.1f}×** | |",
            f"| CPU per acknowledged push, from /proc (pushing, loading, syncing) | web "
            f"{per_push['web']:.1f} ms, worker {per_push['worker']:.1f} ms, PostgreSQL "
            f"{per_push['postgres']:.1f} ms: {total_ms:.1f} ms (the 8 clients, same "
            f"machine: {per_push['clients']:.1f} ms) | |",
            f"| derived: pushes/s that 2 cores given to the hub alone could take "
            f"(2,000 ms / {total_ms:.1f} ms; not measured throughput) | "
            f"**{2000 / max(total_ms, 0.001):,.0f}/s** | ≥ 500/s |",
        ]
    )


def _warm_up(url: str, key: str) -> None:
    """Empty pushes (400 after the key, throttle and resource checks), so every web
    worker has loaded its URLconf and code before the CPU is counted."""
    for _ in range(4 * _web_workers()):
        request = urllib.request.Request(
            url,
            data=b"[]",
            method="POST",
            headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        )
        try:
            urllib.request.urlopen(request, timeout=30).close()
        except urllib.error.HTTPError as refused:
            assert refused.code == 400, refused.code


def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # answering (401/403 without a key)
    except (urllib.error.URLError, OSError):
        return False
