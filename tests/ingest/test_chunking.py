"""The file-wide key registry against a plain dictionary of first occurrences."""

from __future__ import annotations

import itertools

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.pipeline.chunking import KeyRegistry


@settings(max_examples=200, deadline=None)
@given(
    keys=st.lists(st.text(alphabet="ab|1", max_size=3), max_size=80),
    cuts=st.lists(st.integers(min_value=0, max_value=80), max_size=6),
    run_size=st.sampled_from([1, 3, 16, 1 << 20]),
)
def test_registry_reports_every_repeat_with_its_first_row(keys, cuts, run_size):
    bounds = sorted({0, len(keys), *(min(cut, len(keys)) for cut in cuts)})
    registry = KeyRegistry(run_size=run_size)
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
    # Runs stay sorted and bounded; only a chunk larger than a run makes a larger one.
    for run_hashes, run_rows in registry.runs:
        assert np.all(run_hashes[1:] > run_hashes[:-1])
        assert len(run_rows) == len(run_hashes)


def test_registry_keeps_rows_compact_and_bounds_its_runs():
    registry = KeyRegistry(run_size=1000)
    for start in range(0, 5000, 400):
        keys = pl.Series([f"k{index}" for index in range(start, start + 400)])
        assert registry.check(keys, np.arange(start, start + 400, dtype=np.int64) + 2) == {}
    assert [len(hashes) for hashes, _ in registry.runs] == [800, 800, 800, 800, 800, 800, 400]
    assert {rows.dtype for _, rows in registry.runs} == {np.dtype(np.uint32)}
    again = pl.Series(["k0", "k4999", "new"])
    assert registry.check(again, np.array([9000, 9001, 9002])) == {0: 2, 1: 5001}


def _source(events: list[str], count: int = 10, fail_at: int | None = None):
    try:
        for index in range(count):
            if index == fail_at:
                raise ValueError(f"bad chunk {index}")
            events.append(f"made {index}")
            yield index
    finally:
        events.append("source closed")


def test_prefetch_chain_yields_in_order_and_closes_every_stage_when_stopped_early():
    import threading

    from connectors.pipeline.chunking import prefetch

    events: list[str] = []
    before = threading.active_count()
    chain = prefetch(prefetch(_source(events)))
    assert [next(chain), next(chain)] == [0, 1]
    chain.close()
    # Both helper threads are gone and the source ran its finally, without waiting for GC.
    assert threading.active_count() == before
    assert events[-1] == "source closed"
    assert len([e for e in events if e.startswith("made")]) < 10


def test_prefetch_chain_passes_a_source_error_through_unchanged():
    import pytest

    from connectors.pipeline.chunking import prefetch

    events: list[str] = []
    chain = prefetch(prefetch(_source(events, fail_at=3)))
    with pytest.raises(ValueError, match="bad chunk 3"):
        list(chain)
    assert events[-1] == "source closed"
