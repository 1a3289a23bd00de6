"""MQTT on the real stack: a private Mosquitto (passwords, ACL, persistence), the
``mqtt_bridge`` process, a ``celery worker`` process, PostgreSQL and Redis.

Every message the broker acknowledged to the publisher is stored exactly once although
the bridge is SIGKILLed mid-stream and the broker restarted while messages wait for it.
Synchronisation by database polling with deadlines, never bare sleeps.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import paho.mqtt.client as paho
import pytest

from bench.mosquitto import Mosquitto, platform_user
from hub.records.models import Record, UploadBatch
from permissions.models import AuditEvent
from streaming import mqtt
from streaming.models import PushReceipt
from tests.conftest import ROOT, process_alive
from tests.e2e.test_faults import wait_until
from tests.streaming.conftest import RESOURCE, readings

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.mosquitto]

TOPIC = f"hub/housing/{RESOURCE}"


@pytest.fixture
def broker(tmp_path):
    server = Mosquitto(tmp_path / "mqtt", ["housing", "fire"])
    server.start()
    try:
        yield server
    finally:
        server.kill()


class BridgeProcess:
    """One ``mqtt_bridge`` process on the test database; ``start()`` again after a kill."""

    def __init__(self, env: dict, log, args: tuple[str, ...] = ()):
        self.env, self.log, self.args = env, log, args
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "mqtt_bridge", "--batch", "50", *self.args],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def logged(self, text: str) -> int:
        return self.log.read_text(errors="replace").count(text)

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def bridges(celery_worker_process, broker, tmp_path):
    """bridges(name) -> a started BridgeProcess (all alike: one client id, one session)."""
    env = {**celery_worker_process.env, **broker.bridge_env()}
    started: list[BridgeProcess] = []

    def make(name: str, *args: str) -> BridgeProcess:
        started.append(BridgeProcess(env, tmp_path / f"{name}.log", args))
        started[-1].start()
        return started[-1]

    try:
        yield make
    finally:
        for process in started:
            process.stop()


@pytest.fixture
def bridge(bridges):
    handle = bridges("bridge")
    # Until the bridge's first subscription the broker has no session to queue for.
    wait_until(lambda: handle.logged("mqtt bridge subscribed"), 120, "the subscription")
    return handle


@pytest.fixture
def housing_key(catalog):
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    _api_key, key = create_api_key(
        department=Department.objects.get(code="housing"), name="scada", scopes=["push"]
    )
    return key


class Publisher:
    """A department platform's client: QoS 1 publishes, each waited for (PUBACK)."""

    def __init__(self, broker: Mosquitto, department: str, *, v5: bool = False):
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2,
            client_id=f"{department}-{id(self)}",
            protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        )
        user = platform_user(department)
        self.client.username_pw_set(user, broker.passwords[user])
        self.reasons: dict[int, int] = {}
        self.client.on_publish = lambda c, u, mid, reason, props: self.reasons.update(
            {mid: reason.value}
        )
        self.client.connect("127.0.0.1", broker.port)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes) -> int:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=30)
        assert info.is_published(), f"message {info.mid} not acknowledged by the broker"
        return info.mid

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _messages(key: str, start: int, count: int) -> list[bytes]:
    return [
        mqtt.envelope(key, TOPIC, readings(10 * n, 10), message_id=f"m-{n}")
        for n in range(start, start + count)
    ]


def _loaded(count: int) -> bool:
    return PushReceipt.objects.filter(status="loaded").count() >= count


def test_acknowledged_readings_are_stored_once_across_bridge_kill_and_broker_restart(
    broker, bridge, housing_key
):
    publisher = Publisher(broker, "housing")
    first = _messages(housing_key, 0, 30)
    for payload in first[:10]:
        publisher.publish(TOPIC, payload)
    wait_until(lambda: PushReceipt.objects.count() >= 3, 120, "the bridge to accept pushes")

    # Mid-stream: the bridge dies while the platform keeps publishing.
    done = threading.Event()

    def publish_rest():
        for payload in first[10:]:
            publisher.publish(TOPIC, payload)
        done.set()

    sender = threading.Thread(target=publish_rest, daemon=True)
    sender.start()
    bridge.kill()
    sender.join(timeout=120)
    assert done.is_set(), "the broker stopped acknowledging while the bridge was down"
    publisher.close()

    # The broker restarts (a clean stop writes the queued messages to its store).
    broker.stop()
    broker.start()
    bridge.start()
    publisher = Publisher(broker, "housing")
    for payload in _messages(housing_key, 30, 10):
        publisher.publish(TOPIC, payload)
    publisher.close()

    wait_until(lambda: _loaded(40), 240, "all 40 acknowledged messages to be loaded")
    assert PushReceipt.objects.count() == 40  # one receipt per message: redeliveries replayed
    keys = set(PushReceipt.objects.values_list("idempotency_key", flat=True))
    assert keys == {f"mqtt:m-{n}" for n in range(40)}
    assert Record.objects.filter(resource__code=RESOURCE).count() == 400
    loaded = UploadBatch.objects.filter(status="loaded", resource__code=RESOURCE)
    assert sum(batch.rows_read for batch in loaded) == 400  # no message loaded twice
    assert set(PushReceipt.objects.values_list("status", flat=True)) == {"loaded"}


def test_broker_acl_and_hub_refuse_other_departments(broker, bridge, housing_key, catalog):
    # The broker: housing's platform may not publish on the fire brigade's topics (MQTT 5
    # tells the publisher: reason 135, not authorised).
    publisher = Publisher(broker, "housing", v5=True)
    other_topic = "hub/fire/fire-incidents"
    denied = publisher.publish(other_topic, mqtt.envelope(housing_key, other_topic, [{"a": 1}]))
    # The hub: a topic the broker lets through, signed with another key, is rejected.
    forged = mqtt.envelope(housing_key + "x", TOPIC, readings(0, 10), message_id="forged")
    publisher.publish(TOPIC, forged)
    publisher.publish(TOPIC, mqtt.envelope(housing_key, TOPIC, readings(10, 10), message_id="ok"))
    publisher.close()
    assert publisher.reasons[denied] == 135
    wait_until(lambda: _loaded(1), 120, "the signed message to be loaded")
    wait_until(
        lambda: AuditEvent.objects.filter(detail__reason="bad_signature").exists(),
        60,
        "the forged message's audit event",
    )
    assert list(PushReceipt.objects.values_list("idempotency_key", flat=True)) == ["mqtt:ok"]
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10
    assert not AuditEvent.objects.filter(resource_code="fire-incidents").exists()

    # A wrong password never connects.
    intruder = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="intruder")
    intruder.username_pw_set(platform_user("housing"), "wrong")
    refused = threading.Event()
    intruder.on_connect = lambda c, u, flags, reason, props: reason.is_failure and refused.set()
    intruder.connect("127.0.0.1", broker.port)
    intruder.loop_start()
    try:
        assert refused.wait(30)
    finally:
        intruder.loop_stop()


def _lock_holders(client_id: str) -> list[int]:
    """Backends holding the bridge lock of ``client_id`` (bigint advisory lock: the key's
    high and low 32 bits are pg_locks' classid and objid)."""
    from django.db import connection

    from streaming.leadership import lock_key

    key = lock_key(client_id) & (2**64 - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 1"
            # Another test database's bridge (another test run) holds its own lock.
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [key >> 32, key & (2**32 - 1)],
        )
        return [pid for (pid,) in cursor.fetchall()]


def test_a_standby_bridge_takes_over_the_session_when_the_serving_one_dies(
    broker, bridge, bridges, housing_key
):
    client_id = broker.bridge_env()["HUB_MQTT_CLIENT_ID"]
    standby = bridges("standby")
    wait_until(lambda: standby.logged("standing by"), 120, "the second bridge to stand by")
    publisher = Publisher(broker, "housing")
    messages = _messages(housing_key, 0, 30)
    for payload in messages[:10]:
        publisher.publish(TOPIC, payload)
    wait_until(lambda: _loaded(10), 120, "the serving bridge to load the first messages")
    assert standby.logged("mqtt bridge subscribed") == 0  # it only stood by

    # The serving bridge dies; nobody restarts it: the standby takes the session over,
    # with what the dead one held unacknowledged.
    bridge.kill()
    for payload in messages[10:20]:
        publisher.publish(TOPIC, payload)
    wait_until(lambda: _loaded(20), 120, "the standby to take over and load")
    assert standby.logged("mqtt bridge subscribed") == 1

    # The first one comes back and stands by. Then the serving bridge's lock session
    # ends (as in a network cut): it stops serving, and one bridge serves on.
    bridge.start()
    wait_until(lambda: bridge.logged("standing by"), 120, "the restarted bridge to stand by")
    from django.db import connection

    holders = _lock_holders(client_id)
    assert len(holders) == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", holders)
    wait_until(lambda: standby.logged("lock is lost"), 60, "the standby to stop serving")
    for payload in messages[20:]:
        publisher.publish(TOPIC, payload)
    publisher.close()
    wait_until(lambda: _loaded(30), 120, "the messages after the lock moved to be loaded")

    assert len(_lock_holders(client_id)) == 1
    assert bridge.logged("mqtt bridge subscribed") + standby.logged("mqtt bridge subscribed") <= 4
    keys = list(PushReceipt.objects.values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(f"mqtt:m-{n}" for n in range(30))
    assert Record.objects.filter(resource__code=RESOURCE).count() == 300
    loaded = UploadBatch.objects.filter(status="loaded", resource__code=RESOURCE)
    assert sum(batch.rows_read for batch in loaded) == 300  # no message loaded twice


def _pids(process: BridgeProcess, pattern: str) -> list[int]:
    return [int(pid) for pid in re.findall(pattern, process.log.read_text(errors="replace"))]


SERVING = r"serving the session \S+ \(process (\d+)\)"
STARTED = r"process (\d+) started"
STANDING_BY = r"standing by \(another bridge serves \S+; process (\d+)\)"


def test_processes_forked_by_one_bridge_replace_a_killed_one_and_end_with_it(
    broker, bridges, housing_key
):
    supervisor = bridges("supervisor", "--processes", "2")
    wait_until(lambda: _pids(supervisor, SERVING) and _pids(supervisor, STANDING_BY), 120,
               "one bridge process serving, one standing by")  # fmt: skip
    (serving,), (standby,) = _pids(supervisor, SERVING), _pids(supervisor, STANDING_BY)
    publisher = Publisher(broker, "housing")
    messages = _messages(housing_key, 0, 20)
    for payload in messages[:10]:
        publisher.publish(TOPIC, payload)
    wait_until(lambda: _loaded(10), 120, "the serving process to load")

    os.kill(serving, signal.SIGKILL)
    for payload in messages[10:]:
        publisher.publish(TOPIC, payload)
    publisher.close()
    wait_until(lambda: _loaded(20), 120, "the standby process to take over and load")
    # The parent forked a replacement at once; the standby or the replacement serves.
    wait_until(lambda: len(_pids(supervisor, STARTED)) == 3, 60, "a replacement process")
    (replacement,) = set(_pids(supervisor, STARTED)) - {serving, standby}
    assert _pids(supervisor, SERVING)[-1] in (standby, replacement)
    assert supervisor.logged(f"process {serving} ended (signal 9): starting another") == 1
    assert supervisor.proc.poll() is None
    keys = list(PushReceipt.objects.values_list("idempotency_key", flat=True))
    assert sorted(keys) == sorted(f"mqtt:m-{n}" for n in range(20))
    assert Record.objects.filter(resource__code=RESOURCE).count() == 200

    # The parent killed: its processes notice and end; none is left serving.
    supervisor.kill()
    wait_until(
        lambda: not (process_alive(standby) or process_alive(replacement)),
        60,
        "the children to end",
    )


def test_a_stopped_bridge_stops_its_processes(bridges):
    supervisor = bridges("supervisor", "--processes", "3")
    wait_until(
        lambda: len(_pids(supervisor, SERVING)) == 1 and len(_pids(supervisor, STANDING_BY)) == 2,
        120,
        "one process serving and two standing by",
    )
    children = _pids(supervisor, SERVING) + _pids(supervisor, STANDING_BY)
    assert len(children) == 3
    supervisor.proc.terminate()
    assert supervisor.proc.wait(timeout=60) == 0
    assert not any(process_alive(pid) for pid in children)
