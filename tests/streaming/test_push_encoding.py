"""The push front encodes a push's records once: the text it hands on is what the
receipt's digest hashes and what its insert stores."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from streaming import services
from streaming.front import _records

# What the front stores: no NUL, no lone surrogate (the view answers those).
texts = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(texts, children, max_size=3),
    max_leaves=8,
)
records = st.lists(st.dictionaries(texts, values, max_size=4), min_size=1, max_size=5)


def _environ():
    return {"CONTENT_TYPE": "application/json"}


@given(records=records, ascii_only=st.booleans())
def test_the_front_text_is_the_canonical_text(records, ascii_only):
    body = json.dumps(records, ensure_ascii=ascii_only).encode()
    parsed, encoded = _records(_environ(), body)
    assert parsed == records
    assert encoded == services.canonical_records(records)
    assert json.loads(encoded) == records
    assert services.records_digest(records, encoded=encoded) == services.records_digest(records)


def test_refused_bodies_carry_no_text():
    for body in (b"[]", b'[{"a": NaN}]', b'[{"a": "\\u0000"}]', b'[{"a": "\\ud800"}]', b"{}"):
        assert _records(_environ(), body) == (None, "")
