"""Spreadsheet cell values (as python-calamine returns them) to the text a user typed.

Conversion is per column and by type mask: floats, integers, booleans and datetimes are
formatted with numpy/pandas in one go; only rare types (times, durations) fall back to a
per-cell function.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd


def cell_text(value: object) -> str:
    """One cell value as the string a user would have typed."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value)


def _floats(values: np.ndarray) -> np.ndarray:
    numbers = values.astype("float64")
    text = numbers.astype(str)  # shortest round-trip repr, like Python's repr()
    with np.errstate(invalid="ignore"):
        whole = (numbers == np.floor(numbers)) & (np.abs(numbers) < 1e15)
    text = text.astype(object)
    text[whole] = numbers[whole].astype("int64").astype(str)
    return text


def column_text(values: np.ndarray) -> np.ndarray:
    """An object array of cell values -> an object array of str ("" for empty)."""
    kinds = pd.Series(values, dtype=object).map(type).to_numpy()
    out = np.empty(len(values), dtype=object)
    done = np.zeros(len(values), dtype=bool)
    for kind, convert in (
        (str, lambda v: v),
        (float, _floats),
        (int, lambda v: v.astype("int64").astype(str).astype(object)),
        (type(None), lambda v: np.full(len(v), "", dtype=object)),
        (bool, lambda v: np.where(v.astype(bool), "true", "false").astype(object)),
        (datetime, lambda v: pd.DatetimeIndex(v).strftime("%Y-%m-%d %H:%M:%S").to_numpy()),
        (date, lambda v: pd.DatetimeIndex(v).strftime("%Y-%m-%d").to_numpy()),
    ):
        mask = kinds == kind
        if mask.any():
            out[mask] = convert(values[mask])
            done |= mask
    if not done.all():
        out[~done] = [cell_text(value) for value in values[~done]]
    return out
