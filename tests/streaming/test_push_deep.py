"""A pushed value nested deeper than a record needs is a 400 naming the record and field
on both push doors, never a 500 (a RecursionError walking or storing it)."""

from __future__ import annotations

import json
import sys

import pytest

from hub.records.models import UploadBatch
from hub.records.pushed_text import MAX_DEPTH, text_problem
from streaming.models import PushReceipt
from streaming.mqtt import MessageError, parse_payload
from tests.streaming.conftest import PUSHES, readings


def _nested(depth: int, inner="x"):
    value = inner
    for _ in range(depth):
        value = [value]
    return value


def test_text_problem_walks_values_nested_deeper_than_the_recursion_limit():
    deep = _nested(sys.getrecursionlimit() * 2)
    assert "字段 district " in text_problem([{"id": "1"}, {"district": deep}])
    assert "第 2 条记录" in text_problem([{"id": "1"}, {"district": deep}])
    assert text_problem([{"district": _nested(MAX_DEPTH - 2, {"k": ["ok"]})}]) is None
    assert "NUL" in text_problem([{"district": _nested(MAX_DEPTH - 2, {"k": ["\x00"]})}])


@pytest.mark.django_db(transaction=True)
def test_a_deeply_nested_pushed_value_is_a_400(catalog, key_client):
    client, _key = key_client("housing", scopes=["read", "push"])
    row = readings(0, 1)[0]
    # Deeper than a record may nest, shallow enough for the JSON parser on any test
    # runner's stack (an xdist worker starts deeper than a plain pytest process).
    depth = MAX_DEPTH * 4
    body = json.dumps([row])[:-2] + ', "extra": ' + "[" * depth + "]" * depth + "}]"
    response = client.post(PUSHES, body.encode(), content_type="application/json")
    assert response.status_code == 400, response.content[:300]
    assert "第 1 条记录的字段 extra " in response.json()["detail"]
    assert not PushReceipt.objects.exists() and not UploadBatch.objects.exists()


def test_a_deeply_nested_mqtt_row_is_refused():
    rows = [{"id": "1", "extra": _nested(900)}]
    envelope = {"key": "abc", "sig": "0" * 64, "body": json.dumps({"id": "m1", "rows": rows})}
    with pytest.raises(MessageError) as raised:
        parse_payload(json.dumps(envelope).encode(), max_rows=10)
    assert "字段 extra " in str(raised.value.args)
