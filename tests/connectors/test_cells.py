"""Vectorised cell formatting equals the per-cell reference for every value type."""

from __future__ import annotations

from datetime import date, datetime, time

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from connectors.cells import cell_text, column_text

VALUES = st.one_of(
    st.text(max_size=8),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e16, max_value=1e16),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.booleans(),
    st.none(),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda moment: moment.replace(microsecond=0)
    ),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 1, 1)),
    st.times(),
)


@given(st.lists(VALUES, max_size=30))
def test_column_text_matches_cell_text(values):
    array = np.empty(len(values), dtype=object)
    array[:] = values
    assert column_text(array).tolist() == [cell_text(v) for v in values]


def test_examples():
    array = np.empty(8, dtype=object)
    array[:] = [0.35, 300.0, 7, None, True, datetime(2025, 7, 1, 14, 30), "0012", time(8, 15)]
    assert column_text(array).tolist() == [
        "0.35", "300", "7", "", "true", "2025-07-01 14:30:00", "0012", "08:15:00",
    ]  # fmt: skip
