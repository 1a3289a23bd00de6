"""MQTT topics, envelopes and signatures: parsing never fails other than by MessageError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streaming import mqtt

KEY = "AbCd1234.s3cretS3cretS3cretS3cretS3cr"
TOPIC = "hub/housing/gas-pipeline-pressure"
ROWS = [{"point_id": "GP1", "pressure": 0.35}, {"point_id": "GP2", "pressure": 1e-7}]

codes = st.from_regex(r"\A[-a-zA-Z0-9_]{1,64}\Z")


@given(codes, codes)
def test_topic_round_trip(department, resource):
    assert mqtt.parse_topic(mqtt.topic_for(department, resource)) == (department, resource)


@given(st.text(max_size=120))
def test_any_topic_parses_or_is_rejected_as_bad_topic(topic):
    try:
        department, resource = mqtt.parse_topic(topic)
    except mqtt.MessageError as exc:
        assert exc.reason == "bad_topic" and exc.message
    else:
        assert topic == f"hub/{department}/{resource}"


@pytest.mark.parametrize(
    "topic",
    ["hub/housing", "hub/housing/gas/extra", "other/housing/gas", "hub//gas", "hub/+/gas",
     "hub/housing/#", "hub/住建/gas", "/hub/housing/gas"],
)  # fmt: skip
def test_bad_topics(topic):
    with pytest.raises(mqtt.MessageError) as caught:
        mqtt.parse_topic(topic)
    assert caught.value.reason == "bad_topic"


def test_envelope_round_trip_and_signature():
    payload = mqtt.envelope(KEY, TOPIC, ROWS, message_id="m-1")
    parsed = mqtt.parse_payload(payload, max_rows=1000)
    assert (parsed.key_prefix, parsed.rows, parsed.message_id) == ("AbCd1234", ROWS, "m-1")
    secret = mqtt.signing_secret(KEY)
    assert len(secret) == 128  # the hex SHA-512 the hub stores of the key
    assert mqtt.verify(secret, TOPIC, parsed.body, parsed.signature)
    # Another topic, another body or another key: the signature no longer matches.
    assert not mqtt.verify(secret, "hub/housing/bridge-structural-health", parsed.body,
                           parsed.signature)  # fmt: skip
    assert not mqtt.verify(secret, TOPIC, parsed.body.replace("0.35", "0.36"), parsed.signature)
    assert not mqtt.verify(mqtt.signing_secret(KEY + "x"), TOPIC, parsed.body, parsed.signature)


def test_signature_covers_the_body_text_as_sent():
    # A partner's JSON encoder writes floats its own way: the bytes are what is signed.
    body = '{"rows": [{"point_id": "GP1", "pressure": 3.50E-1}]}'
    signature = mqtt.sign(mqtt.signing_secret(KEY), TOPIC, body)
    payload = json.dumps({"key": "AbCd1234", "sig": signature, "body": body}).encode()
    parsed = mqtt.parse_payload(payload, max_rows=10)
    assert parsed.rows == [{"point_id": "GP1", "pressure": 0.35}]
    assert mqtt.verify(mqtt.signing_secret(KEY), TOPIC, parsed.body, parsed.signature)


def _payload(**fields) -> bytes:
    outer = {"key": "AbCd1234", "sig": "a" * 64, "body": json.dumps({"rows": ROWS})}
    outer.update(fields)
    return json.dumps({k: v for k, v in outer.items() if v is not None}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\xff\xfe", "bad_json"),
        (b"{not json", "bad_json"),
        (b"[1, 2]", "bad_envelope"),
        (_payload(key=None), "bad_envelope"),
        (_payload(key="x" * 17), "bad_envelope"),
        (_payload(sig="zz"), "bad_envelope"),
        (_payload(body={"rows": ROWS}), "bad_envelope"),
        (_payload(body="{oops"), "bad_json"),
        (_payload(body=json.dumps({"rows": "GP1"})), "bad_rows"),
        (_payload(body=json.dumps({"rows": [1, 2]})), "bad_rows"),
        (_payload(body=json.dumps([ROWS])), "bad_rows"),
        (_payload(body=json.dumps({"rows": []})), "bad_rows"),
        # A NUL or an unpaired surrogate cannot be stored: refused here, naming the row.
        (_payload(body=json.dumps({"rows": [{"point_id": "GP\u0000"}]})), "bad_rows"),
        (_payload(body=json.dumps({"rows": [{"point_id": "\ud800"}]})), "bad_rows"),
        (_payload(body=json.dumps({"rows": ROWS * 3})), "too_many_rows"),
        (_payload(body=json.dumps({"rows": ROWS, "id": ["m"]})), "bad_envelope"),
        # The id is the message's idempotency key: refused, never cut to 100 characters.
        (_payload(body=json.dumps({"rows": ROWS, "id": "m" * 101})), "bad_envelope"),
        (_payload(body=json.dumps({"rows": ROWS, "id": "m-1\n"})), "bad_envelope"),
        (_payload(body=json.dumps({"rows": ROWS, "id": "m\u0000"})), "bad_envelope"),
        (b" " * (mqtt.MAX_PAYLOAD_BYTES + 1), "too_large"),
    ],
)
def test_bad_payloads_name_their_fault(payload, reason):
    with pytest.raises(mqtt.MessageError) as caught:
        mqtt.parse_payload(payload, max_rows=5)
    assert caught.value.reason == reason and caught.value.message


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode()))
def test_any_payload_parses_or_is_rejected_with_a_reason(payload):
    try:
        parsed = mqtt.parse_payload(payload, max_rows=5)
    except mqtt.MessageError as exc:
        assert exc.reason in {"bad_json", "bad_envelope", "bad_rows", "too_many_rows"}
    else:
        assert 1 <= len(parsed.rows) <= 5


@given(st.lists(st.dictionaries(st.text(max_size=8), json_values, max_size=4), min_size=1,
                max_size=5),
       st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=100))  # fmt: skip
def test_any_rows_survive_the_envelope(rows, message_id):
    # Rows holding text no store can hold (NUL, an unpaired surrogate) are refused as
    # bad_rows (hub.records.pushed_text); every other row survives as sent.
    def storable(value) -> bool:
        if isinstance(value, str):
            return "\x00" not in value and not any("\ud800" <= c <= "\udfff" for c in value)
        if isinstance(value, list):
            return all(storable(item) for item in value)
        if isinstance(value, dict):
            return all(storable(k) and storable(v) for k, v in value.items())
        return True

    payload = mqtt.envelope(KEY, TOPIC, rows, message_id=message_id)
    if not storable(rows):
        with pytest.raises(mqtt.MessageError) as caught:
            mqtt.parse_payload(payload, max_rows=5)
        assert caught.value.reason == "bad_rows"
        return
    parsed = mqtt.parse_payload(payload, max_rows=5)
    assert parsed.rows == rows and parsed.message_id == message_id


def test_a_message_id_of_100_visible_characters_is_kept_whole():
    message_id = "gw-7 " + "x" * 95
    parsed = mqtt.parse_payload(mqtt.envelope(KEY, TOPIC, ROWS, message_id=message_id), max_rows=5)
    assert parsed.message_id == message_id
    too_long = mqtt.envelope(KEY, TOPIC, ROWS, message_id=message_id + "y")
    with pytest.raises(mqtt.MessageError) as caught:
        mqtt.parse_payload(too_long, max_rows=5)
    assert caught.value.message == "body.id 最长 100 个字符，只能包含可见的 ASCII 字符和空格。"
    assert mqtt.verify(mqtt.signing_secret(KEY), TOPIC, parsed.body, parsed.signature)
