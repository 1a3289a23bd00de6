"""Pushed text no store can hold (NUL, unpaired surrogates) is a 400 naming the record and
field, on both push doors, before anything is stored.

On PostgreSQL the NUL reached jsonb and came back as the generic "参数值无效" from a
DataError; a surrogate failed UTF-8 encoding the same way on every database.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.records.models import UploadBatch
from hub.records.pushed_text import text_problem
from streaming.models import PushReceipt
from tests.streaming.conftest import PUSHES, readings

RECORDS = PUSHES.replace("pushes", "records")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("url", [PUSHES, RECORDS])
@pytest.mark.parametrize(
    ("spelt", "where"),
    [
        ('"district": "a\\u0000b"', "district"),
        ('"district": "\\ud800"', "district"),
        ('"district": ["ok", {"x": "\\udc00"}]', "district"),
        ('"x\\u0000y": "1"', "x\\x00y"),
    ],
)
def test_unstorable_text_is_a_400_naming_record_and_field(catalog, key_client, url, spelt, where):
    client, _key = key_client("housing", scopes=["read", "push"])
    rows = readings(0, 2)
    first = json.dumps(rows[0])[1:-1].replace('"district": "310101"', spelt)
    raw = f"[{json.dumps(rows[0])}, {{{first}}}]".encode()
    response = client.post(url, raw, content_type="application/json")
    assert response.status_code == 400, response.content
    detail = response.json()["detail"]
    assert "第 2 条记录" in detail and f"字段 {where} " in detail
    assert not PushReceipt.objects.exists() and not UploadBatch.objects.exists()


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.dictionaries(st.text(max_size=4), st.text(max_size=4), max_size=3), max_size=3))
def test_text_problem_names_a_record_exactly_when_one_cannot_be_encoded(records):
    def storable(text: str) -> bool:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return "\x00" not in text

    fine = all(storable(k) and storable(v) for record in records for k, v in record.items())
    assert (text_problem(records) is None) == fine
