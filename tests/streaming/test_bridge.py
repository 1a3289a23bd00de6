"""The bridge acknowledges a batch only after it is stored; a database outage keeps the
batch unacknowledged (retried), a stop during the outage acknowledges nothing."""

from __future__ import annotations

import paho.mqtt.client as paho
import pytest
from django.db import OperationalError

from streaming import bridge as bridge_module
from streaming.bridge import Bridge, BrokerSettings
from streaming.mqtt_service import MessageOutcome


def message(mid: int) -> paho.MQTTMessage:
    msg = paho.MQTTMessage(mid=mid, topic=b"hub/housing/gas-pipeline-pressure")
    msg.payload, msg.qos = b"{}", 1
    return msg


class FakeLeadership:
    """Answers ``wait`` and ``held`` from lists; records ``release``."""

    def __init__(self, waits=(), held=None):
        self.waits, self.released = list(waits), 0
        self.helds = None if held is None else list(held)  # None: always held

    def wait(self, stopping) -> bool:
        return self.waits.pop(0)

    def held(self) -> bool:
        return True if self.helds is None else self.helds.pop(0)

    def release(self) -> None:
        self.released += 1


@pytest.fixture
def bridge(monkeypatch):
    made = Bridge(BrokerSettings(client_id="test-bridge"), batch_size=10, linger=0)
    acks: list[tuple[int, int]] = []
    monkeypatch.setattr(made.client, "ack", lambda mid, qos: acks.append((mid, qos)))
    monkeypatch.setattr(made.stopping, "wait", lambda delay: made.stopping.is_set())
    monkeypatch.setattr(bridge_module.connections, "close_all", lambda: None)
    made.acks = acks
    made.leadership = FakeLeadership()
    return made


def test_batch_is_acknowledged_after_it_is_accepted(bridge, monkeypatch):
    seen = []

    def accept(*, messages):
        assert bridge.acks == []  # nothing acknowledged before the commit
        seen.append([topic for topic, _ in messages])
        return [MessageOutcome(status="accepted"), MessageOutcome(status="rejected")]

    monkeypatch.setattr(bridge_module, "accept_messages", accept)
    assert bridge.handle([message(7), message(8)]) is True
    assert bridge.acks == [(7, 1), (8, 1)]
    assert seen == [["hub/housing/gas-pipeline-pressure"] * 2]
    assert bridge.counts == {"accepted": 1, "rejected": 1}


def test_database_outage_retries_then_acknowledges(bridge, monkeypatch, caplog):
    calls = []

    def accept(*, messages):
        calls.append(len(messages))
        if len(calls) < 3:
            raise OperationalError("connection refused")
        return [MessageOutcome(status="accepted")]

    monkeypatch.setattr(bridge_module, "accept_messages", accept)
    with caplog.at_level("WARNING", logger="streaming.bridge"):
        assert bridge.handle([message(3)]) is True
    assert calls == [1, 1, 1] and bridge.acks == [(3, 1)]
    assert "kept unacknowledged" in caplog.text


def test_stop_during_an_outage_acknowledges_nothing(bridge, monkeypatch):
    def accept(*, messages):
        bridge.stop()
        raise OperationalError("connection refused")

    monkeypatch.setattr(bridge_module, "accept_messages", accept)
    assert bridge.handle([message(5)]) is False
    assert bridge.acks == []  # the broker delivers it again to the next bridge


def test_take_gathers_what_waits_up_to_the_batch_size(bridge):
    for mid in range(15):
        bridge.inbox.put(message(mid))
    assert [m.mid for m in bridge._take()] == list(range(10))
    assert [m.mid for m in bridge._take()] == list(range(10, 15))


@pytest.fixture
def offline(bridge, monkeypatch):
    """The bridge's MQTT client without a network: calls recorded."""
    calls: list[str] = []
    for name in ("connect_async", "loop_start", "disconnect", "loop_stop"):
        monkeypatch.setattr(bridge.client, name, lambda *a, _n=name, **k: calls.append(_n))
    return calls


def test_a_lost_lock_during_an_outage_acknowledges_nothing(bridge, monkeypatch):
    bridge.leadership = FakeLeadership(held=[False])

    def accept(*, messages):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(bridge_module, "accept_messages", accept)
    assert bridge.handle([message(5)]) is False
    assert bridge.acks == []  # whoever serves the session next gets it again


def test_a_bridge_that_loses_its_lock_stops_serving_and_drops_what_it_holds(
    bridge, offline, monkeypatch
):
    bridge.leadership = FakeLeadership(held=[False])

    def accept(*, messages):
        bridge.connection_lost.set()  # the broker dropped it: a standby took the session
        return [MessageOutcome("accepted")] * len(messages)

    monkeypatch.setattr(bridge_module, "accept_messages", accept)
    for mid in range(12):
        bridge.inbox.put(message(mid))
    bridge._serve()
    assert bridge.acks == [(mid, 1) for mid in range(10)]  # the batch in hand, stored
    assert bridge.inbox.empty()  # the other two: the next server gets them from the broker
    assert offline == ["connect_async", "loop_start", "disconnect", "loop_stop"]
    assert not bridge.serving.is_set()


def test_run_serves_each_time_it_holds_the_lock_and_releases_it_at_the_end(
    bridge, offline, monkeypatch
):
    bridge.leadership = FakeLeadership(waits=[True, True, False], held=[False, False])
    for mid in range(2):
        bridge.inbox.put(message(mid))
    monkeypatch.setattr(
        bridge_module, "accept_messages", lambda *, messages: [MessageOutcome("accepted")]
    )
    monkeypatch.setattr(bridge, "linger", 0)
    monkeypatch.setattr(bridge, "batch_size", 1)
    monkeypatch.setattr(bridge_module, "CHECK_LEADERSHIP_EVERY", -1)  # check after each batch
    bridge.run()
    assert bridge.acks == [(0, 1)]  # message 1 was dropped when it stood down the first time
    assert offline == ["connect_async", "loop_start", "disconnect", "loop_stop"] * 2
    assert bridge.leadership.released == 1


def test_a_reconnect_without_a_recent_lock_check_does_not_take_the_session(bridge):
    class Client:
        disconnected = 0

        def disconnect(self):
            self.disconnected += 1

        def subscribe(self, *args, **kwargs):
            raise AssertionError("subscribed without a recent lock check")

    client = Client()
    bridge.confirmed_at = 0.0  # paho's own thread reconnecting while the lock is unsure
    bridge._on_connect(
        client, None, None, paho.ReasonCode(paho.PacketTypes.CONNACK, "Success"), None
    )
    assert client.disconnected == 1 and bridge.refused.is_set()
