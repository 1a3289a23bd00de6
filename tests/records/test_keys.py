"""The key canonicaliser (hub.records.keys): properties and the vectorised form."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from hub.records.keys import (
    BLANKS,
    canonical_key_series,
    canonical_number,
    canonical_part,
    recanonicalise,
)

finite = st.floats(allow_nan=False, allow_infinity=False)
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: dt.timezone(dt.timedelta(minutes=m))
)
instants = st.datetimes(
    min_value=dt.datetime(1900, 1, 2), max_value=dt.datetime(2200, 1, 1), timezones=offsets
)
codes = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12).filter(
    lambda s: "|" not in s
)


@given(finite)
def test_numbers_are_idempotent_and_reread_equal(value):
    text = canonical_number(value)
    assert float(text) == value or (value == 0 and text == "0")
    assert canonical_part(text, "number") == text
    assert "e" not in text.lower()
    if "." in text:
        assert not text.endswith("0") and not text.endswith(".")


@given(finite, st.integers(min_value=0, max_value=4))
def test_equal_numbers_give_equal_keys(value, zeros):
    # The same number spelt with trailing zeros, as text, as Decimal, as an int.
    spelt = (
        repr(value)
        if "e" in repr(value)
        else repr(value) + ("0" * zeros if "." in repr(value) else "")
    )
    assert canonical_part(spelt, "number") == canonical_part(value)
    assert canonical_part(Decimal(spelt)) == canonical_part(value)
    if value.is_integer() and abs(value) < 2**53:
        assert canonical_part(int(value)) == canonical_part(value)
        assert canonical_part(str(int(value)), "integer") == canonical_part(value)


@given(instants, offsets)
def test_equal_instants_give_equal_keys(instant, other):
    moved = instant.astimezone(other)
    assert canonical_part(instant) == canonical_part(moved)
    utc = canonical_part(instant)
    assert utc.endswith("Z") and len(utc) == 20
    # Read back from a stored key in any ISO spelling (+08:00, +00:00, Z).
    for spelling in (moved.isoformat(), instant.isoformat(), utc):
        assert canonical_part(spelling, "datetime") == utc
    assert canonical_part(utc, "datetime") == utc


@given(codes)
def test_codes_are_trimmed_and_idempotent(code):
    text = canonical_part(code, "string")
    assert text == code.strip(BLANKS)
    assert canonical_part(text, "string") == text
    assert canonical_part(f" {code}\u3000", "code") == text


@given(st.lists(st.tuples(finite, codes, instants), min_size=1, max_size=20))
def test_vectorised_keys_equal_the_scalar_ones(rows):
    frame = pl.DataFrame(
        {
            "n": [r[0] for r in rows],
            "c": [r[1] for r in rows],
            "t": [r[2].astimezone(dt.UTC) for r in rows],
        },
        schema={"n": pl.Float64, "c": pl.String, "t": pl.Datetime("us", "UTC")},
    )
    keys = canonical_key_series(frame, ["n", "c", "t"]).to_list()
    kinds = ["number", "string", "datetime"]
    expected = ["|".join(canonical_part(v, k) for v, k in zip(r, kinds, strict=True)) for r in rows]
    assert keys == expected
    assert [recanonicalise(k, kinds) for k in keys] == keys


def test_examples():
    assert canonical_part(2.0) == "2" and canonical_part("2.50", "number") == "2.5"
    assert canonical_part(-0.0) == "0" and canonical_part(1e-7) == "0.0000001"
    assert canonical_part("007", "code") == "007"  # codes are not numbers
    assert canonical_part("2025-07-01T14:30:00+08:00", "datetime") == "2025-07-01T06:30:00Z"
    assert canonical_part(dt.date(2025, 7, 1)) == "2025-07-01"
    assert canonical_part(True) == "true"
    assert recanonicalise("a|b|c", ["string", "string"]) == "a|b|c"
