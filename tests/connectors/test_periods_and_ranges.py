"""Cells that hold no single value: a period of the day where a time belongs ("2026年3月5日
08:00-09:00", whose "-09:00" was read as a UTC offset: a time nine hours off, stored
without a word), and a range or a tolerance where a number belongs ("0.3~0.4",
"0.35±0.02", whose tail was reported as an unknown unit). Each is a row error that says
what the cell is."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import dates, numbers
from connectors.normalisers.schema import FieldInfo
from connectors.normalisers.validation import type_message

WIDE = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)} | {" ": "\u3000"})
DATE_LAYOUTS = {
    "iso": "{d:%Y-%m-%d} ",
    "slash": "{d.year}/{d.month}/{d.day} ",
    "chinese": "{d.year}年{d.month}月{d.day}日 ",
    "glued": "{d.year}年{d.month}月{d.day}日",
}
TIME_LAYOUTS = {
    "colon": lambda h, m: f"{h:02d}:{m:02d}",
    "short": lambda h, m: f"{h}:{m:02d}",
    "chinese": lambda h, m: f"{h}时{m}分" if m else f"{h}时",
    "dot": lambda h, m: f"{h}点{m:02d}",
}
SEPARATORS = ["-", "~", "～", "—", "至", "到", " - ", "--"]

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31))
clock = st.tuples(st.integers(0, 22), st.sampled_from([0, 15, 30, 45]))


def _period(day, start, end, date_layout, time_layout, separator) -> str:
    write = TIME_LAYOUTS[time_layout]
    prefix = DATE_LAYOUTS[date_layout].format(d=day) if date_layout else ""
    return f"{prefix}{write(*start)}{separator}{write(*end)}"


@settings(max_examples=150, deadline=None)
@given(
    day=days,
    start=clock,
    hours=st.integers(1, 3),
    date_layout=st.sampled_from([None, *DATE_LAYOUTS]),
    time_layout=st.sampled_from(list(TIME_LAYOUTS)),
    separator=st.sampled_from(SEPARATORS),
    wide=st.booleans(),
)
def test_a_period_is_no_instant_and_says_so(
    day, start, hours, date_layout, time_layout, separator, wide
):
    end = ((start[0] + hours) % 24, start[1])
    text = _period(day, start, end, date_layout, time_layout, separator)
    if wide:
        text = text.translate(WIDE)
    for parse in (dates.parse_datetimes, dates.parse_dates):
        values, missing, bad = parse(pd.Series([text], dtype="str"))
        assert (values.isna().all(), bool(missing.iat[0]), bool(bad.iat[0])) == (True, False, True)
    message = type_message(FieldInfo("observed_at", "统计时间", "datetime"), text)
    assert message == (
        f"无法识别的日期时间：'{text}'（这是一个时段，不是时刻；请填写时段的开始或结束时刻）"
    )
    message = type_message(FieldInfo("report_date", "统计日期", "date"), text)
    assert message == f"无法识别的日期：'{text}'（含有时段；日期列只应填写日期）"


@settings(max_examples=150, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 12, 31)),
    offset=st.integers(-12 * 4, 14 * 4).map(lambda quarters: timedelta(minutes=15 * quarters)),
    form=st.sampled_from(["T", "T-seconds", " -seconds"]),
)
def test_a_utc_offset_after_a_t_or_seconds_is_still_read(moment, offset, form):
    moment = moment.replace(second=0, microsecond=0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds() // 60))
    zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    clock_text = f"{moment:%H:%M:%S}" if "seconds" in form else f"{moment:%H:%M}"
    joint = "T" if form.startswith("T") else " "
    text = f"{moment:%Y-%m-%d}{joint}{clock_text}{zone}"
    values, _missing, bad = dates.parse_datetimes(pd.Series([text], dtype="str"))
    assert not bad.iat[0], text
    assert values.iat[0].tz_convert(None).to_pydatetime() == moment - offset


def test_a_period_in_a_date_column_no_longer_moves_the_date():
    # "-21:00" read as an offset put 20:00 on the next day in Shanghai.
    values, _missing, bad = dates.parse_dates(pd.Series(["2026年3月5日 20:00-21:00"]))
    assert (values.iat[0], bool(bad.iat[0])) == (None, True)


def test_instants_that_only_look_a_little_like_periods_are_read():
    cells = ["2026-03-05 08:00", "2026年3月5日 8时", "2026/3/5 8:00:00", "2026-03-05T08:00-09:00"]
    _values, _missing, bad = dates.parse_datetimes(pd.Series(cells))
    assert not bad.any()
    assert not any(dates.is_period(cell) for cell in cells)


# --- ranges and tolerances --------------------------------------------------------------

decimals = st.decimals(min_value=0, max_value=5000, places=3, allow_nan=False).map(
    lambda d: format(d.normalize(), "f")
)
UNITS = ["", "MPa", "kPa", "m", "m³/h", "%", "℃"]
RANGE_SEPARATORS = ["~", "～", "〜", "-", " - ", "—", "至", "到"]


@settings(max_examples=200, deadline=None)
@given(
    low=decimals,
    high=decimals,
    unit=st.sampled_from(UNITS),
    both_units=st.booleans(),
    separator=st.sampled_from(RANGE_SEPARATORS),
    tolerance=st.booleans(),
    wide=st.booleans(),
    kind=st.sampled_from(["number", "integer"]),
)
def test_a_range_or_a_tolerance_is_no_number_and_says_so(
    low, high, unit, both_units, separator, tolerance, wide, kind
):
    text = f"{low}{unit if both_units else ''}{'±' if tolerance else separator}{high}{unit}"
    if wide:
        text = text.translate(WIDE)
    values, cell_units, missing, bad = numbers.split_numbers(pd.Series([text], dtype="str"))
    assert (values.isna().all(), bool(missing.iat[0]), bool(bad.iat[0])) == (True, False, True)
    assert cell_units.iat[0] == ""  # never an "unknown unit" ("~0.4MPa")
    _ints, _missing, int_bad = numbers.parse_integers(pd.Series([text], dtype="str"))
    assert bool(int_bad.iat[0])
    for field_unit in ("kPa", ""):
        info = FieldInfo("pressure", "管网压力", kind, unit=field_unit)
        assert type_message(info, text) == (
            f"无法识别的数值：'{text}'（这是一个范围或带误差的值，不是单个数值；请填写实测值）"
        )


@settings(max_examples=200, deadline=None)
@given(
    value=decimals,
    negative=st.booleans(),
    unit=st.sampled_from(["", "MPa", " kPa", "m3/h", "kgf/cm2", "%", "万"]),
    exponent=st.sampled_from(["", "e-3", "E+2"]),
)
def test_single_numbers_with_units_are_still_read(value, negative, unit, exponent):
    text = f"{'-' if negative else ''}{value}{exponent}{unit}"
    values, _units, _missing, bad = numbers.split_numbers(pd.Series([text], dtype="str"))
    assert not bad.iat[0], text
    assert values.iat[0] == float(f"{'-' if negative else ''}{value}{exponent}")
    assert not numbers.is_range(text)
