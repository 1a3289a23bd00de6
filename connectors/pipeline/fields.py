"""One field of a chunk: its cells read as the field's type (``typed``), and the row errors of
cells written in degrees, minutes and seconds that cannot be read (``degree_errors``)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import pandas as pd

from connectors.base import RowError
from connectors.normalisers import dates, dms, geopoints, numbers, units
from connectors.normalisers.headers import ColumnMatch
from connectors.normalisers.schema import FieldInfo
from connectors.normalisers.text import clean
from connectors.pipeline import parse_notices
from hub.records.notices import Notice


class Typed(NamedTuple):
    """Typed values, missing mask, bad mask and a second problem mask of one field.

    The second mask is "unit cannot be converted" for numbers and "point out of range"
    for geopoints (see :func:`connectors.normalisers.validation.type_message`); None
    otherwise. ``problems``: the ``dms.PROBLEMS`` code of each geopoint cell ("" none).
    """

    values: pd.Series
    missing: pd.Series
    bad: pd.Series
    unit_bad: pd.Series | None
    problems: pd.Series | None = None


def degree_errors(
    problems: pd.Series | None,
    shown: pd.Series,
    rows,
    *,
    column: str,
    field: str,
    pair: bool = False,
) -> tuple[list[RowError], np.ndarray]:
    """Row errors for the cells written in degrees that cannot be read (``problems``: their
    ``dms.PROBLEMS`` codes), quoting the original cell; and their mask."""
    if problems is None:
        return [], np.zeros(len(shown), dtype=bool)
    codes = problems.to_numpy(dtype=object)
    mask = codes != ""
    errors = [
        RowError(
            int(rows[position]),
            column,
            dms.message(codes[position], str(shown.iat[position]), pair=pair),
            field,
        )
        for position in np.flatnonzero(mask)
    ]
    return errors, mask


def typed(
    info: FieldInfo,
    series: pd.Series,
    match: ColumnMatch | None,
    connector,
    *,
    notes: list[Notice] | None = None,
    column: str = "",
    rows=None,
    commas: str = "auto",
) -> Typed:
    """The cells of one field read as its type (``commas``: the column's comma reading)."""
    kind = info.field_type
    unit_bad = None
    if kind == "number":
        values, cell_units, missing, bad = numbers.split_numbers(series, commas=commas or "auto")
        target = info.unit if info.unit in units.UNITS else ""
        source = (match.unit if match else None) or units.canonical_unit(
            connector.source_units.get(info.name, "")
        )
        if not source:
            source = target
        elif not target and units.UNITS[source].dimension != "ratio":
            # A unit in the header of a field without one (or with one the registry does
            # not know) cannot be converted: take the numbers as they are.
            source = ""
        values, unit_bad = units.convert_cells(values, cell_units, source or "", target)
        unit_bad &= ~bad & ~missing
        if notes is not None:
            parse_notices.note_negatives(notes, series, ~bad & ~missing & ~unit_bad, column, rows)
        if notes is not None and target:
            parse_notices.note_converted(
                notes, cell_units, ~bad & ~missing & ~unit_bad, target, column, rows
            )
        return Typed(values.astype("float64"), missing, bad, unit_bad)
    if kind == "integer":
        values, missing, bad = numbers.parse_integers(series, commas=commas or "auto")
        if notes is not None:
            parse_notices.note_negatives(notes, series, ~bad & ~missing, column, rows)
        return Typed(values, missing, bad, unit_bad)
    if kind == "boolean":
        return Typed(*numbers.parse_booleans(series), unit_bad)
    if kind in ("datetime", "date"):
        parse = dates.parse_datetimes if kind == "datetime" else dates.parse_dates
        values, missing, bad = parse(
            series,
            day_first=connector.day_first,
            layouts=connector.date_layouts,
            tz=connector.source_timezone,
        )
        return Typed(values, missing, bad, unit_bad)
    if kind == "geopoint":
        # A coordinate system named in the header ("坐标(GCJ02)") wins over the connector's.
        crs = (match.crs if match is not None else None) or connector.source_crs
        points = geopoints.parse_geopoints(series, crs=crs)
        # The second problem mask of a geopoint is "readable but out of range".
        return Typed(
            points.values, points.missing, points.bad, points.out_of_range, points.problems
        )
    if info.matcher is not None:
        return Typed(*info.matcher.map(series), unit_bad)
    # Free text keeps its characters (names, addresses); only trim and missing markers.
    _text, missing = clean(series)
    if series.dtype == "str":  # the readers' cells: no round trip through objects
        original = series.fillna("").str.strip()
    else:
        original = series.astype(object).where(series.notna(), "").astype(str).str.strip()
    values = original.astype(object).where(~missing, None)
    bad = pd.Series(False, index=series.index)
    return Typed(values, missing, bad, unit_bad)


# What ``typed`` makes of one empty cell, per everything that decides it; a field with
# no column in the file (a push naming half the schema's fields) is that, repeated.
_EMPTY: dict[tuple, Typed] = {}


def absent(info: FieldInfo, connector, n: int) -> Typed:
    """``typed`` of a column of ``n`` empty cells (a field the file does not have),
    without reading the cells: every cell missing, none bad."""
    key = (
        info.field_type,
        info.unit,
        type(info.matcher).__name__,
        connector.source_timezone if info.field_type in ("datetime", "date") else None,
    )
    one = _EMPTY.get(key)
    if one is None:
        one = typed(info, pd.Series([""], dtype=object), None, connector)
        settled = bool(one.missing.all()) and not bool(one.bad.any())
        if not settled or (one.unit_bad is not None and bool(one.unit_bad.any())):
            return typed(info, pd.Series([""] * n, dtype=object), None, connector)
        if len(_EMPTY) > 1_000:
            _EMPTY.clear()
        _EMPTY[key] = one
    first = np.zeros(n, dtype=np.intp)
    return Typed(
        *(None if part is None else part.iloc[first].reset_index(drop=True) for part in one)
    )
