"""Numbers as written in spreadsheets: full width, thousands separators, percent, units."""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectors.normalisers.text import clean

# A number, optionally with thousands separators, followed by an optional unit text.
_NUMBER_WITH_UNIT = (
    r"^(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*(?P<unit>\D.*)?$"
)


def split_numbers(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse number cells; return (float64 values, cell unit text, missing, bad).

    Clean cells take the fast path (``pd.to_numeric``); only the rest go through one
    regular expression for separators and trailing units ("1,234.5", "350kPa", "85%").
    """
    text, missing = clean(series)
    values = pd.to_numeric(text.where(~missing, None), errors="coerce").astype("float64")
    units = pd.Series("", index=series.index, dtype=object)
    slow = values.isna() & ~missing
    if slow.any():
        parts = text[slow].str.extract(_NUMBER_WITH_UNIT)
        num = parts["num"].fillna("").str.replace(",", "", regex=False)
        parsed = pd.to_numeric(num.where(num != "", None), errors="coerce").astype("float64")
        values[slow] = parsed
        units[slow] = parts["unit"].fillna("").astype(object).str.strip()
    bad = values.isna() & ~missing
    # inf from "1e999" is not a usable measurement
    bad |= np.isinf(values.to_numpy())
    values[bad] = np.nan
    return values, units, missing, bad


def parse_integers(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Integer cells ("1,234", "１２", "12.0"); return (Int64 values, missing, bad)."""
    values, units, missing, bad = split_numbers(series)
    bad = bad | (units != "") | (values.notna() & (values != np.floor(values)))
    bad |= values.abs() > 2**53
    values = values.where(~bad)
    return values.round().astype("Int64"), missing, bad


_TRUE = {"1", "true", "t", "yes", "y", "是", "有", "对", "√", "✓", "开", "正常"}
_FALSE = {"0", "false", "f", "no", "n", "否", "无", "错", "×", "✗", "关", "异常"}


def parse_booleans(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Boolean cells (是/否, 1/0, true/false, √/×); return ("boolean" values, missing, bad)."""
    # "无" is a missing marker elsewhere but means False in a yes/no column.
    raw = series.astype(object).where(series.notna(), "").astype(str).str.strip().str.lower()
    text, missing = clean(series)
    text = text.str.lower()
    is_true = text.isin(_TRUE)
    is_false = text.isin(_FALSE) | (raw == "无")
    missing = missing & ~is_false
    values = pd.Series(pd.NA, index=series.index, dtype="boolean")
    values[is_true] = True
    values[is_false] = False
    bad = ~(is_true | is_false | missing)
    return values, missing, bad
