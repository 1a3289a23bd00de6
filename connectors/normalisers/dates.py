"""Dates and times in the layouts departments actually send, parsed column-wise.

Supported: ISO 8601 (with or without offset), ``2025/7/1 14:30``, ``2025.7.1``,
``2025年7月1日 14时30分``, ``2025年07月01日14:30``, 12-hour times (``2025年7月1日 下午3时``,
``2025/7/1 下午 3:00:00``, ``7/1/2025 3:00 PM``), compact ``20250701143000`` /
``202507011430`` / ``20250701``, day-first ``01/07/2025`` (when the connector says so),
Excel serial numbers (1900 date system), epoch seconds and milliseconds. Naive times are
Asia/Shanghai; results are UTC.

Speed: each distinct text is parsed once (``pd.factorize``), the common ISO layout goes
through pandas' C parser, and the other layouts through one RE2 regular expression in
pyarrow plus numpy calendar arithmetic — no Python code per cell.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.normalisers.text import clean, halfwidth

LOCAL_TZ = "Asia/Shanghai"
LOCAL_OFFSET_MINUTES = 480  # China has kept UTC+8 without daylight saving since 1991
EXCEL_EPOCH = pd.Timestamp("1899-12-30")
# Excel serials between these bounds are 1954-10-11 .. 2173-10-14; outside, a bare
# number is a compact date or an epoch.
EXCEL_MIN, EXCEL_MAX = 20000.0, 100000.0
# Epoch seconds accepted: 1973-03-03 .. 2103-02-04 (milliseconds: the same span x 1000).
EPOCH_MIN_S, EPOCH_MAX_S = 1e8, 4.2e9

# A 12-hour time says which half of the day it is in before the hour ("下午3时",
# "下午 3:00:00" as zh-CN Excel writes it) or after the time ("3:00 PM").
_HALF = r"上午|下午|凌晨|早上|早晨|中午|晚上|傍晚|夜间|AM|PM|am|pm|A\.M\.|P\.M\.|a\.m\.|p\.m\."
_TIME = (
    r"(?:[\sT]*(?P<ap>" + _HALF + r")?\s*(?P<H>\d{1,2})\s*[:时点]\s*(?:(?P<M>\d{1,2})"
    r"(?:\s*[:分]\s*(?:(?P<S>\d{1,2}(?:\.\d{1,9})?)\s*秒?)?)?\s*分?)?"
    r"(?:\s*(?P<ap2>" + _HALF + r"))?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)
# Halves of the day whose hours 1–11 are afternoon or evening (下午3时 = 15:00); 中午
# covers 11–13 (中午1点 = 13:00). A morning half makes 12 midnight (上午12时 = 00:00).
_AFTERNOON = ("下午", "晚上", "傍晚", "夜间", "pm", "p.m.")
_MORNING = ("上午", "凌晨", "早上", "早晨", "am", "a.m.")
# A period of the day ("08:00-09:00", "8时-9时", "14:30至15:30"), alone or after a date, is
# no instant. Its "-09:00" is not read as a UTC offset: an offset follows a "T" or a time
# with seconds ("2025-07-01T14:30-05:00", "2025-07-01 14:30:00-05:00").
_PERIOD = (
    r"(?:^|[\s日号])(?:" + _HALF + r")?\s*\d{1,2}\s*[:时点]\s*(?:\d{1,2}\s*分?)?"
    r"\s*(?:[-~〜—–至到]|--)\s*(?:" + _HALF + r")?\s*\d{1,2}\s*[:时点]"
)
_PERIOD_RE = re.compile(_PERIOD)
_YMD = r"^(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME
_DMY = r"^(?P<d>\d{1,2})[-/.](?P<m>\d{1,2})[-/.](?P<y>\d{4})" + _TIME
_MDY = r"^(?P<m>\d{1,2})[-/.](?P<d>\d{1,2})[-/.](?P<y>\d{4})" + _TIME
_COMPACT = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 8: "%Y%m%d"}
_FAST_LAYOUTS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M")
_SAMPLE = 500
_NAT = np.iinfo(np.int64).min


def _floats(column: pa.Array) -> np.ndarray:
    """A string column of digits ("" for absent) as float64 with NaN."""
    empty = pc.equal(column, "")
    nulled = pc.if_else(empty, pa.scalar(None, pa.string()), column)
    return pc.cast(nulled, pa.float64()).to_numpy(zero_copy_only=False)


def _from_parts(parts: pa.StructArray, zone: str = LOCAL_TZ) -> np.ndarray:
    """int64 UTC nanoseconds (NaT sentinel when invalid) from regex groups."""
    matched = parts.is_valid().to_numpy(zero_copy_only=False)
    year, month, day = (_floats(parts.field(name)) for name in ("y", "m", "d"))
    hour = _twelve_hour(np.nan_to_num(_floats(parts.field("H"))), parts)
    minute = np.nan_to_num(_floats(parts.field("M")))
    second = np.nan_to_num(_floats(parts.field("S")))
    with np.errstate(invalid="ignore"):
        ok = (
            matched
            & (month >= 1)
            & (month <= 12)
            & (day >= 1)
            & (day <= 31)
            & (hour <= 23)
            & (minute <= 59)
            & (second < 60)
            & (year >= 1678)
            & (year <= 2261)
        )
    months = np.where(ok, (year - 1970) * 12 + month - 1, 0).astype("int64")
    month_start = months.astype("datetime64[M]")
    days = month_start.astype("datetime64[D]") + np.where(ok, day - 1, 0).astype("int64")
    ok &= days.astype("datetime64[M]") == month_start  # 31 June and 30 February overflow
    nanos = days.astype("datetime64[ns]").astype("int64")
    nanos += ((hour * 3600 + minute * 60) * 1_000_000_000).astype("int64")
    nanos += np.round(second * 1e9).astype("int64")
    tz = parts.field("tz")
    has_tz = pc.not_equal(tz, "").to_numpy(zero_copy_only=False)
    offset = np.full(len(nanos), LOCAL_OFFSET_MINUTES, dtype="int64")
    if has_tz.any():
        text = pc.replace_substring(pc.replace_substring(tz, ":", ""), "Z", "+0000")
        sign = np.where(pc.starts_with(text, "-").to_numpy(zero_copy_only=False), -1, 1)
        hours = np.nan_to_num(_floats(pc.utf8_slice_codeunits(text, 1, 3)))
        mins = np.nan_to_num(_floats(pc.utf8_slice_codeunits(text, 3, 5)))
        offset = np.where(has_tz, sign * (hours * 60 + mins), offset).astype("int64")
    if zone != LOCAL_TZ:
        # Naive wall times in another zone (a profile's source time zone).
        naive = ok & ~has_tz
        if naive.any():
            wall = pd.Series(nanos[naive].view("datetime64[ns]"))
            nanos[naive] = _localise(wall, zone)
            offset = np.where(naive, 0, offset)
            ok &= nanos != _NAT
    nanos -= offset * 60_000_000_000
    return np.where(ok, nanos, _NAT)


def _twelve_hour(hour: np.ndarray, parts: pa.StructArray) -> np.ndarray:
    """24-hour clock hours from a 12-hour time's half of the day; an hour that cannot be
    in the half stated ("上午15时", "下午0时") becomes invalid (99)."""
    first, second = (pc.fill_null(parts.field(name), "") for name in ("ap", "ap2"))
    half = pc.utf8_lower(pc.binary_join_element_wise(first, second, ""))
    if not pc.any(pc.not_equal(half, "")).as_py():
        return hour
    words = half.to_numpy(zero_copy_only=False).astype(str)
    afternoon = np.isin(words, _AFTERNOON)
    morning = np.isin(words, _MORNING)
    noon = words == "中午"
    both = (words != "") & ~afternoon & ~morning & ~noon
    result = hour.copy()
    result = np.where(afternoon & (hour >= 1) & (hour <= 11), hour + 12, result)
    result = np.where(morning & (hour == 12), 0, result)
    result = np.where(noon & (hour >= 1) & (hour <= 2), hour + 12, result)
    # "下午15时" is unambiguous and kept; a morning hour past noon, a "下午0时", an
    # "中午8时" or two halves in one value ("上午3时 PM") are not times.
    # "晚上12点" is midnight to some and noon to nobody: refused rather than guessed.
    late = np.isin(words, ("晚上", "夜间")) & (hour == 12)
    invalid = (morning & (hour > 12)) | (afternoon & (hour == 0)) | both | late
    invalid |= noon & ~((hour >= 11) & (hour <= 14) | (hour >= 1) & (hour <= 2))
    return np.where(invalid, 99, result)


def _localise(naive: pd.Series, tz: str = LOCAL_TZ) -> np.ndarray:
    """Naive local wall times -> int64 UTC nanoseconds (NaT sentinel)."""
    local = naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    utc = local.dt.tz_convert("UTC").dt.tz_localize(None)
    return utc.to_numpy(dtype="datetime64[ns]").astype("int64")


def _arrow(text: pd.Series) -> pa.Array:
    """The pyarrow string array behind a "str" Series (zero-copy when Arrow-backed)."""
    array = pa.array(text)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return array.cast(pa.string()) if array.type != pa.string() else array


def is_period(text: str) -> bool:
    """Whether a cell holds a period of the day ("2026年3月5日 08:00-09:00"), not an instant
    (its row error says so)."""
    return bool(_PERIOD_RE.search(halfwidth(str(text)).strip()))


def valid_layout(layout: str) -> bool:
    """Whether pandas can parse with a strftime layout ("%Q" and a stray "%" cannot)."""
    if "%" not in layout:
        return False
    try:
        pd.to_datetime(pd.Series(["2025-07-01"]), format=layout, errors="coerce")
    except ValueError:
        return False
    return True


def _parse_distinct(
    text: pd.Series, day_first: bool, layouts: tuple[str, ...] = (), tz: str = LOCAL_TZ
) -> np.ndarray:
    """Parse distinct, cleaned texts; int64 UTC nanoseconds with the NaT sentinel.

    ``layouts`` (a profile's) are tried first; naive times are wall times in ``tz``.
    """
    result = np.full(len(text), _NAT, dtype="int64")
    todo = np.array(text != "", dtype=bool)
    if todo.any():
        periods = pc.match_substring_regex(_arrow(text), _PERIOD)
        todo &= ~np.asarray(periods.to_numpy(zero_copy_only=False), dtype=bool)
    for layout in (*(x for x in layouts if valid_layout(x)), *_FAST_LAYOUTS):
        positions = np.flatnonzero(todo)
        if not len(positions):
            return result
        # Try a layout on everything only when it fits part of a sample.
        sample = text.iloc[positions[:_SAMPLE]]
        if pd.to_datetime(sample, format=layout, errors="coerce").notna().any():
            stamps = pd.to_datetime(text.iloc[positions], format=layout, errors="coerce")
            if isinstance(stamps.dtype, pd.DatetimeTZDtype):  # the layout has %z
                parsed = (
                    stamps.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy("datetime64[ns]")
                ).astype("int64")
            else:
                parsed = _localise(stamps, tz)
            result[positions] = np.where(parsed != _NAT, parsed, result[positions])
            todo &= result == _NAT
    if not todo.any():
        return result
    array = _arrow(text)
    numeric = pc.match_substring_regex(array, r"^\d+(\.\d+)?$").to_numpy(zero_copy_only=False)
    if (todo & numeric).any():
        _parse_numeric(text, todo & numeric, result, tz)
        todo &= result == _NAT
    for pattern in (_YMD, _DMY if day_first else _MDY):
        positions = np.flatnonzero(todo)
        if not len(positions):
            break
        parts = pc.extract_regex(array.take(pa.array(positions)), pattern)
        parsed = _from_parts(parts, tz)
        result[positions] = np.where(parsed != _NAT, parsed, result[positions])
        todo &= result == _NAT
    return result


def _parse_numeric(
    text: pd.Series, mask: np.ndarray, result: np.ndarray, tz: str = LOCAL_TZ
) -> None:
    """Compact digits, Excel serials and epochs, written into ``result`` in place."""
    positions = np.flatnonzero(mask)
    candidates = text.iloc[positions]
    lengths = candidates.str.len().to_numpy()
    # Compact layouts only for plausible years (19xx/20xx): "830405040000" is epoch millis.
    digits = ~candidates.str.contains(".", regex=False).to_numpy()
    digits &= candidates.str[:2].isin(["19", "20"]).to_numpy()
    compact = np.zeros(len(positions), dtype=bool)
    for length, layout in _COMPACT.items():
        subset = np.flatnonzero(digits & (lengths == length))
        if len(subset):
            naive = pd.to_datetime(candidates.iloc[subset], format=layout, errors="coerce")
            parsed = _localise(naive, tz)
            hit = parsed != _NAT
            result[positions[subset[hit]]] = parsed[hit]
            compact[subset[hit]] = True
    # Digits that are not a valid compact date may still be an epoch (12-digit millis).
    numbers = np.array(pd.to_numeric(candidates, errors="coerce"), dtype="float64")
    numbers[compact] = np.nan
    with np.errstate(invalid="ignore"):
        serial = (numbers >= EXCEL_MIN) & (numbers <= EXCEL_MAX)
        seconds = (numbers >= EPOCH_MIN_S) & (numbers < EPOCH_MAX_S)
        millis = (numbers >= EPOCH_MIN_S * 1000) & (numbers < EPOCH_MAX_S * 1000)
    if serial.any():
        # Excel stores local wall time; round to the millisecond to undo float noise.
        offsets = pd.to_timedelta(pd.Series(numbers[serial]), unit="D").dt.round("ms")
        result[positions[serial]] = _localise(EXCEL_EPOCH + offsets, tz)
    if seconds.any():
        result[positions[seconds]] = np.round(numbers[seconds] * 1e9).astype("int64")
    if millis.any():
        result[positions[millis]] = np.round(numbers[millis] * 1e6).astype("int64")


def parse_datetimes(
    series: pd.Series, *, day_first: bool = False, layouts: tuple[str, ...] = (), tz: str = ""
) -> tuple[pd.Series, ...]:
    """Parse a column to ``datetime64[ns, UTC]``; return (values, missing, bad).

    ``layouts``: strftime layouts tried first; ``tz``: the zone of naive times ("":
    Asia/Shanghai).
    """
    text, missing = clean(series)
    codes, uniques = pd.factorize(text)
    distinct = _parse_distinct(
        pd.Series(uniques, dtype="str"), day_first, tuple(layouts), tz or LOCAL_TZ
    )
    nanos = distinct[codes] if len(codes) else np.array([], dtype="int64")
    values = pd.Series(
        pd.DatetimeIndex(nanos.view("datetime64[ns]")).tz_localize("UTC"), index=series.index
    )
    bad = values.isna() & ~missing
    return values, missing, bad


def parse_dates(
    series: pd.Series, *, day_first: bool = False, layouts: tuple[str, ...] = (), tz: str = ""
) -> tuple[pd.Series, ...]:
    """Parse a date column to ISO "YYYY-MM-DD" strings (local date); (values, missing, bad)."""
    instants, missing, bad = parse_datetimes(series, day_first=day_first, layouts=layouts, tz=tz)
    local = instants.dt.tz_convert(tz or LOCAL_TZ).dt.strftime("%Y-%m-%d")
    values = local.astype(object).where(instants.notna(), None)
    return values, missing, bad
