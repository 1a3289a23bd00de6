"""The MQTT door: signed messages become pushes through the HTTP push's service; every
rejection (key, signature, department, resource, content) is final, logged and audited."""

from __future__ import annotations

import pytest

from hub.records.models import Record
from permissions.models import AuditEvent
from streaming import mqtt
from streaming.models import PushReceipt
from streaming.mqtt_service import accept_messages
from tests.streaming.conftest import RESOURCE, readings

pytestmark = pytest.mark.django_db(transaction=True)

TOPIC = f"hub/housing/{RESOURCE}"


@pytest.fixture
def push_key(catalog):
    """make(department, scopes) -> the full key text of a new key of that department."""
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    def make(department: str = "housing", scopes=("push",)):
        department = Department.objects.get(code=department)
        return create_api_key(department=department, name="platform", scopes=list(scopes))

    return make


def send(*messages):
    return accept_messages(messages=list(messages))


def test_signed_message_is_stored_once_and_a_redelivery_is_a_replay(push_key):
    api_key, key = push_key()
    payload = mqtt.envelope(key, TOPIC, readings(0, 10), message_id="scada-1")
    first, again = send((TOPIC, payload), (TOPIC, payload))  # QoS 1 redelivery
    assert (first.status, first.rows) == ("accepted", 10)
    assert (again.status, again.receipt) == ("replayed", first.receipt)
    receipt = PushReceipt.objects.get()
    assert (receipt.status, receipt.api_key_prefix) == ("loaded", api_key.prefix)
    assert receipt.idempotency_key == "mqtt:scada-1"
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10
    event = AuditEvent.objects.get(action="upload", outcome="ok", detail__source="mqtt")
    assert (event.api_key_prefix, event.rows, event.resource_code) == (api_key.prefix, 10, RESOURCE)
    assert event.detail["receipts"] == [receipt.pk]
    # Redelivered in a later batch (the bridge was killed before its PUBACK): still once.
    assert send((TOPIC, payload))[0].status == "replayed"
    assert PushReceipt.objects.count() == 1


def test_message_without_id_is_keyed_by_its_digest(push_key):
    _api_key, key = push_key()
    payload = mqtt.envelope(key, TOPIC, readings(0, 3))
    outcomes = send((TOPIC, payload), (TOPIC, payload))
    assert [o.status for o in outcomes] == ["accepted", "replayed"]
    assert PushReceipt.objects.get().idempotency_key.startswith("mqtt:")
    assert len(PushReceipt.objects.get().idempotency_key) == len("mqtt:") + 64


def _denied(reason: str) -> AuditEvent:
    return AuditEvent.objects.get(action="upload", outcome="denied", detail__reason=reason)


def test_bad_signature_is_rejected_and_audited(push_key, caplog):
    api_key, key = push_key()
    forged = mqtt.envelope(key + "x", TOPIC, readings(0, 3))  # right prefix, wrong secret
    with caplog.at_level("WARNING", logger="streaming.mqtt_service"):
        (outcome,) = send((TOPIC, forged))
    assert (outcome.status, outcome.reason) == ("rejected", "bad_signature")
    assert "rejected (bad_signature)" in caplog.text
    event = _denied("bad_signature")
    assert (event.api_key_prefix, event.resource_code) == (api_key.prefix, RESOURCE)
    assert event.detail == {"source": "mqtt", "reason": "bad_signature", "topic": TOPIC}
    assert not PushReceipt.objects.exists()


def test_message_signed_for_another_topic_is_rejected(push_key):
    _api_key, key = push_key()
    other = "hub/housing/bridge-structural-health"
    (outcome,) = send((other, mqtt.envelope(key, TOPIC, readings(0, 3))))
    assert outcome.reason == "bad_signature"


def test_unknown_revoked_and_expired_keys_are_rejected(push_key):
    import datetime as dt

    revoked, revoked_text = push_key()
    revoked.revoked = True
    revoked.save()
    expired, expired_text = push_key()
    expired.expiry_date = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    expired.save()
    unknown = "Zz9Zz9Zz.nopenopenopenopenopenopenope"
    outcomes = send(*[(TOPIC, mqtt.envelope(k, TOPIC, readings(0, 1)))
                      for k in (revoked_text, expired_text, unknown)])  # fmt: skip
    assert [o.reason for o in outcomes] == ["unknown_key"] * 3
    assert AuditEvent.objects.filter(outcome="denied", detail__reason="unknown_key").count() == 3


def test_other_departments_topic_or_resource_is_rejected(push_key):
    _fire_key, fire = push_key("fire")
    # The fire brigade's key, signing for housing's topic: not its department.
    (outcome,) = send((TOPIC, mqtt.envelope(fire, TOPIC, readings(0, 3))))
    assert outcome.reason == "wrong_department"
    # Its own department's topic, but housing's resource: the push door says no.
    topic = f"hub/fire/{RESOURCE}"
    (outcome,) = send((topic, mqtt.envelope(fire, topic, readings(0, 3))))
    assert outcome.reason == "unknown_resource"
    assert _denied("unknown_resource").resource_code == RESOURCE
    unknown = "hub/fire/no-such-resource"
    (outcome,) = send((unknown, mqtt.envelope(fire, unknown, readings(0, 3))))
    assert outcome.reason == "unknown_resource"
    assert not PushReceipt.objects.exists()


def test_key_without_push_scope_is_rejected(push_key):
    _api_key, key = push_key(scopes=["read"])
    (outcome,) = send((TOPIC, mqtt.envelope(key, TOPIC, readings(0, 3))))
    assert outcome.reason == "no_push_scope"


def test_bad_topic_and_payload_are_rejected_with_their_reason(push_key):
    _api_key, key = push_key()
    outcomes = send(
        ("hub/housing", mqtt.envelope(key, TOPIC, readings(0, 1))),
        (TOPIC, b"{not json"),
        (TOPIC, mqtt.envelope(key, TOPIC, [])),
    )
    assert [o.reason for o in outcomes] == ["bad_topic", "bad_json", "bad_rows"]
    assert all(o.message for o in outcomes)


def test_same_id_other_rows_is_a_conflict(push_key):
    _api_key, key = push_key()
    first = mqtt.envelope(key, TOPIC, readings(0, 3), message_id="m-9")
    other = mqtt.envelope(key, TOPIC, readings(0, 4), message_id="m-9")
    outcomes = send((TOPIC, first), (TOPIC, other))
    assert [o.status for o in outcomes] == ["accepted", "rejected"]
    assert outcomes[1].reason == "conflict"


def test_rejections_do_not_stop_the_batch(push_key):
    _api_key, key = push_key()
    outcomes = send(
        (TOPIC, b"garbage"),
        (TOPIC, mqtt.envelope(key, TOPIC, readings(0, 5), message_id="a")),
        (TOPIC, mqtt.envelope(key + "x", TOPIC, readings(5, 5), message_id="b")),
        (TOPIC, mqtt.envelope(key, TOPIC, readings(10, 5), message_id="c")),
    )
    assert [o.status for o in outcomes] == ["rejected", "accepted", "rejected", "accepted"]
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10


def test_an_unexpected_failure_rejects_that_message_only(push_key, monkeypatch):
    from streaming import services

    _api_key, key = push_key()
    real = services.records_digest

    def flaky(records, **kwargs):
        if records[0]["point_id"] == "GP000000":
            raise ValueError("boom")
        return real(records, **kwargs)

    monkeypatch.setattr(services, "records_digest", flaky)
    outcomes = send(
        (TOPIC, mqtt.envelope(key, TOPIC, readings(0, 2), message_id="poison")),
        (TOPIC, mqtt.envelope(key, TOPIC, readings(2, 2), message_id="fine")),
    )
    assert [(o.status, o.reason) for o in outcomes] == [("rejected", "error"), ("accepted", "")]
    assert list(PushReceipt.objects.values_list("idempotency_key", flat=True)) == ["mqtt:fine"]


def test_a_batch_is_audited_once_per_key_and_resource(push_key):
    api_key, key = push_key()
    outcomes = send(
        *[(TOPIC, mqtt.envelope(key, TOPIC, readings(10 * n, 10), message_id=f"b-{n}"))
          for n in range(5)]
    )  # fmt: skip
    assert [o.status for o in outcomes] == ["accepted"] * 5
    event = AuditEvent.objects.get(action="upload", outcome="ok", detail__source="mqtt")
    assert (event.rows, event.api_key_prefix) == (50, api_key.prefix)
    assert event.detail["receipts"] == [o.receipt for o in outcomes]
    assert PushReceipt.objects.filter(status="loaded").count() == 5
    assert Record.objects.filter(resource__code=RESOURCE).count() == 50
