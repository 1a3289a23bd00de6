"""Dates and times in the layouts departments actually send, parsed column-wise.

Supported: ISO 8601 (with or without offset), ``2025/7/1 14:30``, ``2025.7.1``,
``2025年7月1日 14时30分``, ``2025年07月01日14:30``, compact ``20250701143000`` /
``202507011430`` / ``20250701``, day-first ``01/07/2025`` (when the connector says so),
Excel serial numbers (1900 date system), epoch seconds and milliseconds. Naive times are
Asia/Shanghai; results are UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectors.normalisers.text import clean

LOCAL_TZ = "Asia/Shanghai"
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials between these bounds are 1954-10-11 .. 2173-10-14; outside, a bare
# number is a compact date or an epoch.
EXCEL_MIN, EXCEL_MAX = 20000.0, 100000.0

_TIME = (
    r"(?:[\sT]*(?P<H>\d{1,2})\s*[:时点]\s*(?:(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?:(?P<S>\d{1,2}(?:\.\d{1,9})?)\s*秒?)?)?\s*分?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
_YMD = r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME
_DMY = r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})" + _TIME
_MDY = r"^(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})[-/.](?P<y>\d{4})" + _TIME
_COMPACT = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}


def _from_parts(parts: pd.DataFrame) -> pd.Series:
    """UTC instants from extracted y/m/d/H/M/S/tz string columns (invalid -> NaT)."""
    numbers = {
        "year": pd.to_numeric(parts["y"], errors="coerce"),
        "month": pd.to_numeric(parts["m"], errors="coerce"),
        "day": pd.to_numeric(parts["d"], errors="coerce"),
        "hour": pd.to_numeric(parts["H"], errors="coerce").fillna(0),
        "minute": pd.to_numeric(parts["M"], errors="coerce").fillna(0),
    }
    seconds = pd.to_numeric(parts["S"], errors="coerce").fillna(0.0)
    frame = pd.DataFrame(numbers)
    frame["second"] = np.floor(seconds)
    invalid = (
        frame.isna().any(axis=1)
        | ~frame["month"].between(1, 12)
        | ~frame["day"].between(1, 31)
        | (frame["hour"] > 23)
        | (frame["minute"] > 59)
        | (frame["second"] > 59)
    )
    naive = pd.to_datetime(frame.where(~invalid, None).astype("float64"), errors="coerce")
    naive = naive + pd.to_timedelta(((seconds - np.floor(seconds)) * 1e9).round(), unit="ns")
    tz = parts["tz"].fillna("")
    local = naive.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT").dt.tz_convert("UTC")
    has_tz = tz != ""
    if has_tz.any():
        offset = tz[has_tz].str.replace(":", "", regex=False).replace("Z", "+0000")
        sign = np.where(offset.str[0] == "-", -1, 1)
        minutes = (
            sign * (pd.to_numeric(offset.str[1:3]) * 60 + pd.to_numeric(offset.str[3:5])).to_numpy()
        )
        utc = naive[has_tz] - pd.to_timedelta(minutes, unit="min")
        local[has_tz] = utc.dt.tz_localize("UTC")
    return local


def parse_datetimes(series: pd.Series, *, day_first: bool = False) -> tuple[pd.Series, ...]:
    """Parse a column to ``datetime64[ns, UTC]``; return (values, missing, bad)."""
    text, missing = clean(series)
    result = pd.Series(pd.NaT, index=series.index, dtype="datetime64[ns, UTC]")
    todo = ~missing
    # Fast path: the most common layout, parsed by pandas' C parser.
    for layout in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M"):
        if not todo.any():
            break
        naive = pd.to_datetime(text[todo], format=layout, errors="coerce")
        hit = naive.notna()
        if hit.any():
            local = naive[hit].dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
            result[hit[hit].index] = local.dt.tz_convert("UTC")
            todo &= result.isna()
    if todo.any():
        _parse_numeric(text, todo, result)
        todo &= result.isna()
    if todo.any():
        patterns = [_YMD, _DMY if day_first else _MDY]
        for pattern in patterns:
            parts = text[todo].str.extract(pattern)
            hit = parts["y"].notna()
            if hit.any():
                result[hit[hit].index] = _from_parts(parts[hit])
                todo &= result.isna()
    bad = result.isna() & ~missing
    return result, missing, bad


def _parse_numeric(text: pd.Series, todo: pd.Series, result: pd.Series) -> None:
    """Compact digits, Excel serials and epochs, written into ``result`` in place."""
    candidates = text[todo]
    digits = candidates.str.fullmatch(r"\d+")
    lengths = candidates.str.len()
    for length, layout in _COMPACT.items():
        mask = digits & (lengths == length)
        if mask.any():
            naive = pd.to_datetime(candidates[mask], format=layout, errors="coerce")
            local = naive.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
            result[mask[mask].index] = local.dt.tz_convert("UTC")
    numbers = pd.to_numeric(candidates.where(~(digits & lengths.isin(_COMPACT))), errors="coerce")
    serial = numbers.between(EXCEL_MIN, EXCEL_MAX)
    if serial.any():
        # Excel stores local wall time; round to the millisecond to undo float noise.
        naive = EXCEL_EPOCH + pd.to_timedelta(numbers[serial], unit="D").dt.round("ms")
        local = naive.dt.tz_localize(LOCAL_TZ, ambiguous="NaT", nonexistent="NaT")
        result[serial[serial].index] = local.dt.tz_convert("UTC")
    seconds = numbers.between(1e9, 1e11, inclusive="left")
    if seconds.any():
        result[seconds[seconds].index] = pd.to_datetime(numbers[seconds], unit="s", utc=True)
    millis = numbers.between(1e11, 1e14, inclusive="left")
    if millis.any():
        result[millis[millis].index] = pd.to_datetime(numbers[millis], unit="ms", utc=True)


def parse_dates(series: pd.Series, *, day_first: bool = False) -> tuple[pd.Series, ...]:
    """Parse a date column to ISO "YYYY-MM-DD" strings (local date); (values, missing, bad)."""
    instants, missing, bad = parse_datetimes(series, day_first=day_first)
    local = instants.dt.tz_convert(LOCAL_TZ).dt.strftime("%Y-%m-%d")
    values = local.astype(object).where(instants.notna(), None)
    return values, missing, bad
