"""The file-wide key registry against a plain dictionary of first occurrences."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.chunking import KeyRegistry


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.text(alphabet="ab|1", max_size=3), max_size=80),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6),
)
def test_registry_reports_every_repeat_with_its_first_row(keys, cuts):
    bounds = sorted({0, len(keys), *(min(cut, len(keys)) for cut in cuts)})
    registry = KeyRegistry()
    first_row: dict[str, int] = {}
    for start, end in itertools.pairwise(bounds):
        chunk = keys[start:end]
        rows = np.arange(start, end, dtype=np.int64) + 2
        expected = {}
        for position, key in enumerate(chunk):
            if key in first_row:
                expected[position] = first_row[key]
            else:
                first_row[key] = int(rows[position])
        assert registry.check(pl.Series(chunk, dtype=pl.String), rows) == expected
    assert len(registry.hashes) == len(first_row)
    assert np.all(registry.hashes[1:] >= registry.hashes[:-1])
