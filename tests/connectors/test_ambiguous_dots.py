"""Dots before exactly three digits ("2.000", "12.250") in a ";"-delimited file: read as
decimal points unless the profile says otherwise, and never silently (``ambiguous_dot``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import numbers
from connectors.pipeline.commas import FileCommas
from hub.records.notices import AMBIGUOUS_DOT, Notice


@dataclass
class _Profile:
    decimal_comma: bool | None = None


def _read(cells: list[str], size: int, delimiter: str, stated: bool | None = None):
    """Values of ``cells`` read ``size`` at a time with one file's decisions (rows from
    2), and the notices of the column."""
    commas = FileCommas(_Profile(stated), delimiter)
    values: list[float] = []
    notes: list[Notice] = []
    for start in range(0, len(cells), size):
        series = pd.Series(cells[start : start + size])
        rows = np.arange(start + 2, start + 2 + len(series))
        mode = commas.mode("capacity", series, rows)
        notes += commas.notices("capacity", "排水能力")
        read, _units, _missing, bad = numbers.split_numbers(series, commas=mode)
        assert not bad.any()
        values += read.tolist()
    return values, notes


_THREE = st.tuples(st.integers(1, 999), st.integers(0, 999)).map(lambda p: f"{p[0]}.{p[1]:03d}")
_WHOLE = st.integers(0, 99999).map(str)
_COLUMN = st.lists(st.one_of(_THREE, _WHOLE), min_size=1, max_size=30).filter(
    lambda cells: any("." in cell for cell in cells)
)


def _grouped(cell: str) -> float:
    return float(cell.replace(".", ""))


@settings(deadline=None, max_examples=80)
@given(_COLUMN, st.integers(1, 8))
def test_three_digit_dots_are_decimal_points_and_said(cells, size):
    values, notes = _read(cells, size, ";")
    assert values == [float(cell) for cell in cells]
    first = next(i for i, cell in enumerate(cells) if "." in cell)
    value = np.format_float_positional(float(cells[first]), trim="-")
    other = np.format_float_positional(_grouped(cells[first]), trim="-")
    params = {"row": first + 2, "example": cells[first], "value": value, "other": other}
    assert notes == [Notice(AMBIGUOUS_DOT, "排水能力", params)]


@settings(deadline=None, max_examples=60)
@given(_COLUMN, st.sampled_from([True, False]))
def test_the_profile_decides_and_nothing_is_said(cells, decimal_comma):
    values, notes = _read(cells, 5, ";", stated=decimal_comma)
    expected = _grouped if decimal_comma else float
    assert values == [expected(cell) for cell in cells]
    assert notes == []


@settings(deadline=None, max_examples=60)
@given(_COLUMN, st.sampled_from(["3.25", "0.5", "0.082", "12.5", ".75", "0,5"]), st.booleans())
def test_a_cell_that_proves_the_reading_silences_it(cells, proof, before):
    # "3.25" or "0.082" can only hold a decimal point, and a comma cell decides the
    # column's reading itself (decimal_comma): the dots are no longer in doubt.
    column = [proof, *cells] if before else [*cells, proof]
    assert numbers.ambiguous_dots(pd.Series(column)) == -1
    _values, notes = _read(column, len(column), ";")
    assert [note.code for note in notes if note.code == AMBIGUOUS_DOT] == []


@settings(deadline=None, max_examples=40)
@given(_COLUMN)
def test_a_comma_delimited_file_keeps_its_dots_quietly(cells):
    values, notes = _read(cells, 7, ",")
    assert values == [float(cell) for cell in cells]
    assert notes == []
