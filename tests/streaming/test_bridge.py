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


@pytest.fixture
def bridge(monkeypatch):
    made = Bridge(BrokerSettings(client_id="test-bridge"), batch_size=10, linger=0)
    acks: list[tuple[int, int]] = []
    monkeypatch.setattr(made.client, "ack", lambda mid, qos: acks.append((mid, qos)))
    monkeypatch.setattr(made.stopping, "wait", lambda delay: made.stopping.is_set())
    monkeypatch.setattr(bridge_module.connections, "close_all", lambda: None)
    made.acks = acks
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
