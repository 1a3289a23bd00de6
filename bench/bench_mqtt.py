"""MQTT as a way in, on the real stack: ``python -m bench mqtt``.

8 concurrent platform clients publish signed 10-row readings (QoS 1) for 30 s to a
private Mosquitto (passwords, ACL, persistence: bench/mosquitto.py); ``mqtt_bridge
--processes 2`` (as the Procfile runs it) accepts them as pushes: one forked process
serves, the other stands by; one Celery worker (solo; ingest, default) loads the
micro-batches into PostgreSQL and another (solo; sync) syncs the operations view
(readings, rules, alerts). Halfway through, the serving process is SIGKILLed: the standby
takes the session over and the parent forks a replacement. ``BENCH_MQTT_STANDBY``:
``fork`` (that, the default), ``process`` (two ``mqtt_bridge`` processes; the killed one
started again by the bench, ``BENCH_MQTT_RESTART=0``: left down) or ``0`` (one process,
killed and started again). Reported:
- readings/s: acknowledged readings over the time from the first publish to the last
  acknowledged reading stored (the drain after the publishers stop included);
- publish → record (its receipt finished after the load's commit) and publish → alert:
  one row in about a second of each client's messages reads a new point over the red
  threshold; its alert's creation time (``updated_at``, never touched afterwards);
- lost (acknowledged by the broker, not stored) and duplicated (a message stored twice).
Each client publishes at a fixed pace (``BENCH_MQTT_RATE`` messages/s, default 70: 5,600
readings/s offered), so latency is measured below the saturation point, not in a queue.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho

from bench.bench_push import (
    _cpu,
    _database_url,
    _pct,
    _stop,
    _tree,
    _wait,
    _wait_for_workers,
    _worker_command,
)
from bench.mosquitto import Mosquitto, binary, platform_user

ROOT = Path(__file__).resolve().parent.parent
RESOURCE = "gas-pipeline-pressure"
DEPARTMENT = "housing"
TOPIC = f"hub/{DEPARTMENT}/{RESOURCE}"
CLIENTS, ROWS = 8, 10
TICK = threading.Event()


def _env(broker_url: str, mosquitto: Mosquitto) -> dict:
    return {
        **os.environ,
        **mosquitto.bridge_env(),
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        "CELERY_RESULT_BACKEND": os.environ.get("CELERY_RESULT_BACKEND") or broker_url,
        "HUB_LOG_LEVEL": "INFO",
        "DJANGO_DEBUG": "0",
    }


def _prepare():
    """The gas resource emptied, mapped to readings, one threshold rule, a push key."""
    from bench.isolation import vacuum
    from hub.catalog.models import DataResource
    from hub.demo import load_catalog
    from hub.records.models import Record, UploadBatch
    from hub.records.recordstore import RecordStore
    from operations.models import Alert, MonitoringPoint, Reading, Rule, SyncRun
    from operations.services.mappings import upsert_mapping
    from permissions.api_key_services import create_api_key
    from streaming.models import PushReceipt

    load_catalog()
    resource = DataResource.objects.select_related("provider").get(code=RESOURCE)
    upsert_mapping(
        resource=resource, entity="reading", point_field="point_id", metrics=["pressure"]
    )
    PushReceipt.objects.filter(resource=resource).delete()
    Alert.objects.filter(resource=resource).delete()
    Rule.objects.filter(resource=resource).delete()
    RecordStore(resource).delete()
    UploadBatch.objects.filter(resource=resource).delete()
    MonitoringPoint.objects.filter(resource=resource).delete()
    vacuum(PushReceipt, Record, UploadBatch, SyncRun, Alert, MonitoringPoint, Reading)
    Rule.objects.create(
        name="bench mqtt 超压", kind="threshold", hazard="燃气管网超压", resource=resource,
        metric="pressure", blue=0.40, yellow=0.45, orange=0.52, red=0.60,
    )  # fmt: skip
    _api_key, key = create_api_key(
        department=resource.provider,
        name="bench-mqtt",
        scopes=["push"],
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(days=1),
    )
    return resource, key


class Publisher(threading.Thread):
    """One platform connection publishing 10-row messages at a fixed pace until told."""

    def __init__(self, n: int, mosquitto: Mosquitto, key: str, rate: float, stop, base):
        super().__init__(daemon=True)
        self.n, self.key, self.rate, self.stop, self.base = n, key, rate, stop, base
        self.sent: dict[int, tuple[str, float, str]] = {}  # mid -> (message id, at, probe)
        # No lock of ours around publish(): paho calls on_publish holding its own.
        self.acked: dict[int, float] = {}
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-{n}")
        user = platform_user(DEPARTMENT)
        client.username_pw_set(user, mosquitto.passwords[user])
        client.max_inflight_messages_set(1000)
        client.on_publish = self._on_publish
        client.connect("127.0.0.1", mosquitto.port)
        self.client = client

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self.acked[mid] = time.time()

    def rows(self, seq: int) -> tuple[list[dict], str]:
        # One second per message: the resource keeps observed_at to the second.
        at = (self.base + dt.timedelta(seconds=seq)).isoformat()
        rows = [
            {"point_id": f"GP9{self.n:02d}{r:03d}", "observed_at": at, "district": "310101",
             "pressure": round(0.30 + 0.001 * ((seq + r) % 50), 4)}
            for r in range(ROWS)
        ]  # fmt: skip
        probe = ""
        if seq % max(1, round(self.rate)) == 0:  # about one alert a second per client
            probe = f"GP8{self.n}{seq:04d}"  # point ids are GP + 6 digits
            rows[-1] = {**rows[-1], "point_id": probe, "pressure": 0.7}
        return rows, probe

    def run(self) -> None:
        from streaming.mqtt import envelope

        self.client.loop_start()
        started, seq = time.monotonic(), 0
        while not self.stop.is_set():
            delay = started + seq / self.rate - time.monotonic()
            if delay > 0:
                TICK.wait(delay)  # pacing the publisher, not synchronising
            rows, probe = self.rows(seq)
            message_id = f"bench-{self.n}-{seq}"
            payload = envelope(self.key, TOPIC, rows, message_id=message_id)
            at = time.time()
            info = self.client.publish(TOPIC, payload, qos=1)
            self.sent[info.mid] = (message_id, at, probe)
            seq += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _bridge(env: dict, log: Path, *args: str) -> subprocess.Popen:
    """A bridge process; with another holding the session's lock, it stands by."""
    return subprocess.Popen(
        [sys.executable, "manage.py", "mqtt_bridge", *args], cwd=ROOT, env=env,
        stdout=log.open("ab"), stderr=subprocess.STDOUT,
    )  # fmt: skip


SERVING = re.compile(r"serving the session \S+ \(process (\d+)\)")


class Bridges:
    """The bridges in one of the set-ups of ``BENCH_MQTT_STANDBY`` (module docstring)."""

    def __init__(self, mode: str, env: dict, workdir: Path, *, restart: bool):
        self.mode, self.env, self.restart = mode, env, restart
        self.logs = [workdir / "bridge.log", workdir / "standby.log"]
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        first = self.logs[0]
        args = ("--processes", "2") if self.mode == "fork" else ()
        self.procs.append(_bridge(self.env, first, *args))
        _wait(lambda: _subscribed(first, 1), 90, "the bridge's subscription")
        if self.mode == "process":
            self.procs.append(_bridge(self.env, self.logs[1]))
        if self.mode in ("fork", "process"):
            _wait(lambda: any(_logged(log, "standing by") for log in self.logs), 90, "a standby")

    def _subscriptions(self) -> int:
        return sum(
            log.read_text(errors="replace").count("mqtt bridge subscribed")
            for log in self.logs
            if log.exists()
        )

    def kill_serving(self) -> float:
        """SIGKILL the serving bridge; seconds until a bridge serves again (subscribed)."""
        before, killed_at = self._subscriptions(), time.time()
        if self.mode == "fork":
            serving = int(SERVING.findall(self.logs[0].read_text(errors="replace"))[-1])
            os.kill(serving, signal.SIGKILL)  # the parent reaps it and forks another
        else:
            self.procs[0].send_signal(signal.SIGKILL)
            self.procs[0].wait(timeout=30)
            if self.mode == "none":
                self.procs[0] = _bridge(self.env, self.logs[0])
        _wait(lambda: self._subscriptions() > before, 90, "a bridge serving again", every=0.01)
        downtime = time.time() - killed_at
        if self.mode == "fork":
            _wait(lambda: _logged(self.logs[0], " started", 3), 90, "the replacement process")
        elif self.mode == "process" and self.restart:
            self.procs[0] = _bridge(self.env, self.logs[0])
            _wait(lambda: _logged(self.logs[0], "standing by"), 90, "the restarted bridge")
        return downtime

    def describe(self, downtime: float) -> str:
        return {
            "fork": "mqtt_bridge --processes 2 (one forked process serving, one standing by); "
            "the serving process SIGKILLed halfway (the standby serving {:.2f} s after the "
            "kill; a replacement forked)",
            "process": "2 mqtt_bridge processes (one serving, one standing by); the serving "
            "one SIGKILLed halfway (the standby serving {:.2f} s after the kill)"
            + ("; started again" if self.restart else "; not restarted"),
            "none": "1 mqtt_bridge; SIGKILLed halfway and started again (down {:.2f} s)",
        }[self.mode].format(downtime)


def _logged(log: Path, text: str, times: int = 1) -> bool:
    return log.exists() and log.read_text(errors="replace").count(text) >= times


def _subscribed(log: Path, times: int) -> bool:
    return _logged(log, "mqtt bridge subscribed", times)


def _cpu_snapshot(parts: dict[str, list[int]]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of each part's processes (and threads' children), with the
    PostgreSQL backends of the bench database."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        backends = [pid for (pid,) in cursor.fetchall()]
    snapshot = {
        part: {pid: _cpu(pid) for root in roots for pid in _tree(root)}
        for part, roots in parts.items()
    }
    snapshot["clients"] = {os.getpid(): _cpu(os.getpid())}  # not its children: the hub's
    snapshot["PostgreSQL"] = {pid: _cpu(pid) for pid in backends}
    return snapshot


def _cpu_per_reading(before: dict, after: dict, readings: int) -> str:
    used = {
        part: sum(seconds - before[part].get(pid, 0.0) for pid, seconds in pids.items())
        for part, pids in after.items()
    }
    per = {part: seconds * 1e6 / max(1, readings) for part, seconds in used.items()}
    return " / ".join(f"{part} {us:.0f}" for part, us in per.items()) + (
        f" = {sum(per.values()):.0f} µs"
    )


def run(args: argparse.Namespace) -> str:
    from bench.isolation import purge_broker
    from hub.records.models import Record, UploadBatch
    from operations.models import Alert, SyncRun
    from streaming.models import PushReceipt

    if binary() is None:
        raise SystemExit("bench mqtt needs Mosquitto: apt-get install mosquitto")
    broker_url = os.environ.get("CELERY_BROKER_URL")
    if not broker_url:
        raise SystemExit("bench mqtt needs a broker: set CELERY_BROKER_URL=redis://…")
    seconds = 8 if getattr(args, "quick", False) else 30
    rate = float(os.environ.get("BENCH_MQTT_RATE", "70"))
    mode = os.environ.get("BENCH_MQTT_STANDBY", "fork").replace("0", "none")
    if mode not in ("fork", "process", "none"):
        raise SystemExit("BENCH_MQTT_STANDBY: fork, process or 0")
    resource, key = _prepare()
    purge_broker(broker_url)
    workdir = Path(tempfile.mkdtemp(prefix="bench-mqtt-"))
    mosquitto = Mosquitto(workdir, [DEPARTMENT])
    mosquitto.start()
    env = _env(broker_url, mosquitto)
    bridges = Bridges(mode, env, workdir, restart=os.environ.get("BENCH_MQTT_RESTART", "1") != "0")
    quiet = {"cwd": ROOT, "env": {**env, "HUB_LOG_LEVEL": "WARNING"},
             "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}  # fmt: skip
    # One worker for the window loads, one for the syncs (as the Procfile runs them).
    workers = [
        subprocess.Popen(_worker_command(name, queues), **quiet)
        for name, queues in (("ingest", "ingest,default"), ("sync", "sync"))
    ]
    try:
        bridges.start()
        _wait_for_workers("ingest", "sync")
        stop = threading.Event()
        base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
        clients = [Publisher(n, mosquitto, key, rate, stop, base) for n in range(CLIENTS)]
        started = time.time()
        for client in clients:
            client.start()
        TICK.wait(seconds / 8)  # past the start-up: the first loads, the first syncs
        parts = {
            "bridge": [p.pid for p in bridges.procs], "ingest worker": [workers[0].pid],
            "sync worker": [workers[1].pid], "Mosquitto": [mosquitto.proc.pid],
        }  # fmt: skip
        cpu_before = _cpu_snapshot(parts)
        sent_before = sum(len(c.sent) for c in clients)
        TICK.wait(max(0.0, started + seconds / 2 - time.time()))
        cpu_steady = _cpu_per_reading(
            cpu_before,
            _cpu_snapshot(parts),
            ROWS * (sum(len(c.sent) for c in clients) - sent_before),
        )
        killed_at = time.time()
        downtime = bridges.kill_serving()
        TICK.wait(max(0.0, started + seconds - time.time()))
        stop.set()
        for client in clients:
            client.join(timeout=60)
        published_until = time.time()
        _wait(lambda: all(len(c.acked) >= len(c.sent) for c in clients), 60, "the PUBACKs")
        for client in clients:
            client.close()
        acked = [
            (message_id, at, probe)
            for c in clients
            for mid, (message_id, at, probe) in c.sent.items()
            if mid in c.acked
        ]
        keys = [f"mqtt:{message_id}" for message_id, _, _ in acked]
        receipts = PushReceipt.objects.filter(resource=resource, idempotency_key__in=keys)
        _wait(
            lambda: receipts.filter(finished_at__isnull=False).count() == len(keys),
            600,
            "every acknowledged message to be loaded",
            every=0.5,
        )
        batch_ids = set(receipts.values_list("batch_id", flat=True))
        _wait(
            lambda: (
                SyncRun.objects.filter(batch_id__in=batch_ids, state="done").count()
                == len(batch_ids)
            ),
            600,
            "the syncs of the loaded batches",
            every=0.5,
        )
    finally:
        _stop([*workers, *bridges.procs])
        mosquitto.stop()
    finished = dict(receipts.values_list("idempotency_key", "finished_at"))
    last_stored = max(f.timestamp() for f in finished.values())
    to_record = [finished[f"mqtt:{m}"].timestamp() - at for m, at, _ in acked]
    probes = {probe: at for _, at, probe in acked if probe}
    alerts = dict(
        Alert.objects.filter(resource=resource, point__external_id__in=list(probes)).values_list(
            "point__external_id", "updated_at"
        )
    )
    to_alert = [alerts[p].timestamp() - at for p, at in probes.items() if p in alerts]
    # Before the kill: probes the first bridge took (their receipt stored) before it was
    # killed. The others include the outage: published during it, or in the dead
    # bridge's hands and delivered again by the broker after the restart.
    accepted = dict(receipts.values_list("idempotency_key", "created_at"))
    probe_messages = {probe: f"mqtt:{m}" for m, _, probe in acked if probe}
    steady = [
        alerts[p].timestamp() - at
        for p, at in probes.items()
        if p in alerts and accepted[probe_messages[p]].timestamp() < killed_at
    ]
    expected = len(acked) * ROWS
    stored = Record.objects.filter(resource=resource).count()
    loaded_rows = sum(
        b.rows_read for b in UploadBatch.objects.filter(pk__in=batch_ids, status="loaded")
    )
    offered = sum(len(c.sent) for c in clients)
    elapsed = published_until - started
    rate_stored = expected / (last_stored - started)
    return "\n".join(
        [
            "## MQTT way in (bench_mqtt)",
            "",
            f"{CLIENTS} platform clients × signed 10-row QoS 1 messages at {rate:.0f} msg/s each"
            f" for {elapsed:.1f} s through Mosquitto {mosquitto.port} (passwords, ACL, "
            f"persistence) → {bridges.describe(downtime)} → 2 Celery workers (solo; "
            "ingest+default, sync), PostgreSQL, Redis.",
            "",
            "| measure | result | target |",
            "| --- | --- | --- |",
            f"| messages published / acknowledged by the broker | {offered:,} / {len(acked):,}"
            f" ({expected:,} readings) | |",
            f"| readings/s, first publish → last acknowledged reading stored | "
            f"**{rate_stored:,.0f}** ({last_stored - published_until:.1f} s drain after the "
            "publishers stopped) | ≥ 5,000 |",
            f"| publish → record (receipt finished) | p50 {statistics.median(to_record):.2f} s,"
            f" p95 {_pct(to_record, 0.95):.2f} s, max {max(to_record):.2f} s | |",
            f"| publish → alert ({len(to_alert)} of {len(probes)} probes alerted) | p50 "
            f"{statistics.median(to_alert):.2f} s, **p95 {_pct(to_alert, 0.95):.2f} s** | "
            "p95 < 2 s |",
            "| publish → alert, probes taken before the kill (start-up included; "
            f"{len(steady)}) | p50 "
            f"{statistics.median(steady) if steady else float('nan'):.2f} s, "
            f"**p95 {_pct(steady, 0.95):.2f} s** | p95 < 2 s |",
            f"| CPU per reading from /proc, steady state (first half after the start-up) | "
            f"{cpu_steady} | |",
            f"| loads | {len(batch_ids)} batches, {expected / max(1, len(batch_ids)):,.0f} rows"
            " per batch on average | |",
            f"| lost (acknowledged, not stored) | **{max(0, expected - stored)}** | 0 |",
            f"| duplicated (receipts beyond messages; rows loaded twice) | "
            f"**{receipts.count() - len(set(keys))}; {max(0, loaded_rows - expected)}** | 0 |",
        ]
    )
