"""12-hour times as Chinese departments and zh-CN Excel write them (上午/下午, AM/PM)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import dates
from connectors.proposal.dates import guess_dates

SHANGHAI = "Asia/Shanghai"


def _local(values: list[str]) -> list[str | None]:
    parsed, _missing, _bad = dates.parse_datetimes(pd.Series(values))
    return [
        None if pd.isna(value) else value.tz_convert(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        for value in parsed
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025年7月1日 下午3时", "2025-07-01 15:00:00"),
        ("2025年7月1日 上午9时30分", "2025-07-01 09:30:00"),
        ("2025年7月1日 下午12时", "2025-07-01 12:00:00"),
        ("2025年7月1日 上午12时", "2025-07-01 00:00:00"),
        ("2025年7月1日 中午12点", "2025-07-01 12:00:00"),
        ("2025年7月1日 中午1点", "2025-07-01 13:00:00"),
        ("2025年7月1日 凌晨2点", "2025-07-01 02:00:00"),
        ("2025年7月1日 晚上8点15分", "2025-07-01 20:15:00"),
        ("2025/7/1 下午 3:00:00", "2025-07-01 15:00:00"),
        ("7/1/2025 3:00 PM", "2025-07-01 15:00:00"),
        ("2025-07-01 12:30 AM", "2025-07-01 00:30:00"),
        ("2025-07-01 11:59:59 p.m.", "2025-07-01 23:59:59"),
        # An afternoon hour already on the 24-hour clock is unambiguous.
        ("2025年7月1日 下午15时", "2025-07-01 15:00:00"),
        # 24-hour times are untouched.
        ("2025年7月1日 14时30分", "2025-07-01 14:30:00"),
    ],
)
def test_twelve_hour_times(text, expected):
    assert _local([text]) == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "2025年7月1日 上午15时",  # a morning hour past noon
        "2025年7月1日 下午0时",
        "2025年7月1日 中午8时",
        "2025年7月1日 上午3时 PM",  # two halves of the day
        "2025年7月1日 下午",  # a half without an hour
        "2025年7月1日 晚上12点",  # midnight to some: not read as noon
    ],
)
def test_impossible_twelve_hour_times_are_errors(text):
    _values, _missing, bad = dates.parse_datetimes(pd.Series([text]))
    assert bad.tolist() == [True]


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["zh", "zh-colon", "en"]),
)
def test_any_time_written_on_a_12_hour_clock_reads_back(moment, style):
    moment = moment.replace(second=0, microsecond=0)
    hour12 = moment.hour % 12 or 12
    if style == "zh":
        half = "上午" if moment.hour < 12 else "下午"
        text = f"{moment.year}年{moment.month}月{moment.day}日 {half}{hour12}时{moment.minute}分"
    elif style == "zh-colon":
        half = "上午" if moment.hour < 12 else "下午"
        text = f"{moment.year}/{moment.month}/{moment.day} {half} {hour12}:{moment.minute:02d}:00"
    else:
        half = "AM" if moment.hour < 12 else "PM"
        text = f"{moment:%Y-%m-%d} {hour12}:{moment.minute:02d} {half}"
    assert _local([text]) == [moment.strftime("%Y-%m-%d %H:%M:%S")]


def test_the_proposal_reads_twelve_hour_columns_without_a_layout():
    start = datetime(2025, 7, 1, 8)
    column = pd.Series(
        [
            f"2025年7月1日 {'上午' if t.hour < 12 else '下午'}{t.hour % 12 or 12}时"
            for t in (start + timedelta(hours=h) for h in range(10))
        ]
    )
    guess = guess_dates("observed_at", "监测时间", column)
    assert (guess.layout, guess.parsed) == ("", 1.0)
