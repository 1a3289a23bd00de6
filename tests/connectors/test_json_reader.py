"""The JSON reader's table (pushed records take the same path): its string cells equal
one ``_cell_text`` per cell, whatever mix of types a column holds."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import InputError
from connectors.readers.jsonfile import _cell_text, records_table

KEYS = ["point_id", "observed_at", "pressure", "备注"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
)
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(st.text(max_size=4), scalars, max_size=2),
)
# Columns of one type (as pushes nearly always are) or of any mix, keys sometimes absent.
column_kinds = st.sampled_from(
    [st.text(max_size=12), st.floats(), st.integers(-(10**6), 10**6), values]
)


@st.composite
def record_lists(draw):
    kinds = {key: draw(column_kinds) for key in KEYS}
    n = draw(st.integers(min_value=1, max_value=30))
    records = []
    for _ in range(n):
        present = draw(st.lists(st.sampled_from(KEYS), min_size=1, unique=True))
        records.append({key: draw(kinds[key]) for key in present})
    return records


def _score(headers: list[str]) -> int:
    return 1


def _reference(records: list[dict], chunk_rows: int) -> list[pd.DataFrame]:
    headers: list[str] = []
    for item in records:
        headers += [key for key in item if key not in headers]
    rows = [[_cell_text(item.get(key)) for key in headers] for item in records]
    return [
        pd.DataFrame(rows[i : i + chunk_rows], columns=list(range(len(headers))), dtype=str)
        for i in range(0, len(rows), chunk_rows)
    ]


@settings(max_examples=150, deadline=None)
@given(record_lists(), st.integers(min_value=1, max_value=40))
def test_cells_equal_one_cell_text_per_cell(records, chunk_rows):
    table = records_table(records, scorer=_score, chunk_rows=chunk_rows)
    chunks = list(table.chunks)
    expected = _reference(records, chunk_rows)
    assert len(chunks) == len(expected)
    start = 1
    for chunk, frame in zip(chunks, expected, strict=True):
        pd.testing.assert_frame_equal(chunk.frame, frame)
        assert chunk.source_rows.tolist() == list(range(start, start + len(frame)))
        start += len(frame)


def test_cell_texts_by_type():
    records = [
        {"a": 1.0, "b": "x", "c": None, "d": True, "e": {"k": [1, "二"]}, "f": 12},
        {"a": 2.5, "b": "", "d": False, "e": [], "f": -3},
        {"a": 1e16, "b": "三", "c": 0.1, "f": 2**64},
    ]
    frame = next(records_table(records, scorer=_score, chunk_rows=10).chunks).frame
    assert frame.values.tolist() == [
        ["1", "x", "", "true", json.dumps({"k": [1, "二"]}, ensure_ascii=False), "12"],
        ["2.5", "", "", "false", "[]", "-3"],
        ["1e+16", "三", "0.1", "", "", str(2**64)],
    ]


@pytest.mark.parametrize("data", [[], {"records": []}, [1, 2], "text", {"rows": [{}]}])
def test_not_a_list_of_objects_is_refused(data):
    with pytest.raises(InputError):
        records_table(data, scorer=_score, chunk_rows=10)
