"""Degrees, minutes and seconds: a pair in one geopoint cell (property: generated pairs
round-trip to the decimal degrees they were made from), and cells written in degrees that
cannot be read, whose row error says what is wrong instead of "no number"."""

from __future__ import annotations

import pandas as pd
import pytest
from django.utils import translation
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import dms
from connectors.normalisers.geopoints import parse_geopoints
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector
from tests.ingest.helpers import park_sites

FULL_WIDTH = str.maketrans("0123456789,", "０１２３４５６７８９，")
MARKS = st.sampled_from(["°′″", "°'\"", "度分秒", "°’”", "°′′′′"])
LATITUDE_MARKS = st.sampled_from([("N", 1), ("S", -1), ("北纬", 1), ("南纬", -1), ("n", 1)])
LONGITUDE_MARKS = st.sampled_from([("E", 1), ("W", -1), ("东经", 1), ("西经", -1), ("e", 1)])
SEPARATORS = st.sampled_from([", ", ",", " ", "，", "; ", "、", " / ", "　"])
SECONDS = st.decimals(min_value=0, max_value="59.99", places=2, allow_nan=False)


def _angle(degrees: int, minutes: int, seconds, marks: str, hemisphere: str, lead: bool) -> str:
    if marks == "°′′′′":  # seconds as two primes
        d, m, s = "°", "′", "′′"
    else:
        d, m, s = marks
    text = f"{degrees}{d}{minutes}{m}{seconds}{s}"
    if not hemisphere:
        return text
    # Chinese words lead; a letter leads or trails.
    return hemisphere + text if lead or len(hemisphere) > 1 else text + hemisphere


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(st.integers(0, 89), st.integers(0, 59), SECONDS),
    st.tuples(st.integers(0, 179), st.integers(0, 59), SECONDS),
    LATITUDE_MARKS,
    LONGITUDE_MARKS,
    MARKS,
    SEPARATORS,
    st.booleans(),  # latitude first
    st.booleans(),  # letters lead
    st.booleans(),  # full-width digits and comma
)
def test_dms_pairs_round_trip_to_their_decimal_degrees(
    lat, lon, lat_mark, lon_mark, marks, separator, latitude_first, lead, full_width
):
    lat_text = _angle(*lat, marks, lat_mark[0], lead)
    lon_text = _angle(*lon, marks, lon_mark[0], lead)
    text = (
        f"{lat_text}{separator}{lon_text}" if latitude_first else f"{lon_text}{separator}{lat_text}"
    )
    if full_width:
        text = text.translate(FULL_WIDTH)
    points = parse_geopoints(pd.Series([text], dtype=object))
    expected_lat = lat_mark[1] * (lat[0] + lat[1] / 60 + float(lat[2]) / 3600)
    expected_lon = lon_mark[1] * (lon[0] + lon[1] / 60 + float(lon[2]) / 3600)
    assert points.problems.tolist() == [""], text
    assert not points.bad.iat[0] and not points.out_of_range.iat[0], text
    assert abs(points.latitude[0] - expected_lat) <= 1e-6, text
    assert abs(points.longitude[0] - expected_lon) <= 1e-6, text
    # The stored text is the same point, longitude first.
    stored_lon, stored_lat = (float(part) for part in points.values.iat[0].split(","))
    assert (stored_lat, stored_lon) == (points.latitude[0], points.longitude[0])


@settings(max_examples=100, deadline=None)
@given(
    st.tuples(st.integers(0, 89), st.integers(0, 59), SECONDS),
    st.tuples(st.integers(91, 179), st.integers(0, 59), SECONDS),
    MARKS,
    SEPARATORS,
    st.booleans(),
)
def test_unmarked_dms_pairs_follow_the_number_pair_order(lat, lon, marks, separator, lat_first):
    # Without hemisphere marks a pair is read as two numbers are: longitude first unless
    # the second cannot be a latitude.
    lat_text, lon_text = _angle(*lat, marks, "", False), _angle(*lon, marks, "", False)
    text = f"{lat_text}{separator}{lon_text}" if lat_first else f"{lon_text}{separator}{lat_text}"
    points = parse_geopoints(pd.Series([text], dtype=object))
    assert abs(points.latitude[0] - (lat[0] + lat[1] / 60 + float(lat[2]) / 3600)) <= 1e-6
    assert abs(points.longitude[0] - (lon[0] + lon[1] / 60 + float(lon[2]) / 3600)) <= 1e-6
    assert points.swapped.tolist() == [lat_first]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("31°13′48″N, 121°28′12″E", "121.470000,31.230000"),
        ("121°28′12″E, 31°13′48″N", "121.470000,31.230000"),
        ("北纬31度13分48秒 东经121度28分12秒", "121.470000,31.230000"),
        ("东经121度28分12秒，北纬31度13分48秒", "121.470000,31.230000"),
        ("N31°13′48″ E121°28′12″", "121.470000,31.230000"),  # E leads the second
        ("31°13′48″N121°28′12″E", "121.470000,31.230000"),  # no separator
        ("N31°13.8′, E121°28.2′", "121.470000,31.230000"),  # decimal minutes
        ("31.23°N, 121.47°E", "121.470000,31.230000"),  # decimal degrees
        ("S33°51′36″, E151°12′36″", "151.210000,-33.860000"),
        ("31°13′48″, 121°28′12″", "121.470000,31.230000"),  # unmarked: swapped by range
        ("３１°１３′４８″Ｎ，１２１°２８′１２″Ｅ", "121.470000,31.230000"),
        ("121.47°, 31.23°", "121.470000,31.230000"),  # numbers with a degree sign, as before
    ],
)
def test_dms_pair_spellings(text, expected):
    points = parse_geopoints(pd.Series([text], dtype=object))
    assert points.values.tolist() == [expected]
    assert points.problems.tolist() == [""]


@pytest.mark.parametrize(
    ("text", "problem", "message"),
    [
        (
            "30°65′20″N, 121°28′12″E",
            dms.MINUTES,
            "度分秒坐标有误：'30°65′20″N, 121°28′12″E'（分须小于 60）",
        ),
        (
            "30°5′20″N, 121°28′60″E",
            dms.SECONDS,
            "度分秒坐标有误：'30°5′20″N, 121°28′60″E'（秒须小于 60）",
        ),
        (
            "31°13′48″N, 30°13′48″S",
            dms.SAME_AXIS,
            "度分秒坐标有误：'31°13′48″N, 30°13′48″S'（两个值都标为纬度或都标为经度）",
        ),
        (
            "31°13′48″N",
            dms.SHAPE,
            "无法识别的度分秒坐标：'31°13′48″N'（应如 31°13′48″N, 121°28′12″E 或 "
            "北纬31度13分48秒 东经121度28分12秒）",
        ),
    ],
)
def test_unreadable_dms_pairs_say_why(text, problem, message):
    points = parse_geopoints(pd.Series([text, "—"], dtype=object))
    assert points.bad.tolist() == [True, False]
    assert points.problems.tolist() == [problem, ""]
    assert points.values.tolist() == [None, None]
    with translation.override("zh-hans"):
        assert dms.message(problem, text, pair=True) == message


@pytest.mark.parametrize(
    ("text", "problem", "reason"),
    [
        ("30°65′20″N", dms.MINUTES, "分须小于 60"),
        ("30°5′60″", dms.SECONDS, "秒须小于 60"),
        ("31.5°12′", dms.DEGREES_TWICE, "度分秒写法重复：度已带小数，不能再写分或秒"),
        ("31°13.5′20″", dms.MINUTES_TWICE, "度分秒写法重复：分已带小数，不能再写秒"),
        ("N31°13′48″N", dms.HEMISPHERE_TWICE, "度分秒写法重复：南北或东西只能在前或在后写一次"),
    ],
)
def test_unreadable_angles_are_left_with_their_problem(text, problem, reason):
    series = pd.Series([text, "31°13′48″N", "31.23", ""], dtype=object)
    read, problems = dms.angles(series)
    assert read.tolist() == [text, "31.2300000000", "31.23", ""]
    assert problems.tolist() == [problem, "", "", ""]
    with translation.override("zh-hans"):
        assert dms.message(problem, text) == f"度分秒坐标有误：'{text}'（{reason}）"


def test_a_degree_mark_on_no_angle_is_a_shape_problem():
    read, problems = dms.angles(pd.Series(["约31度", "31°13′48″X"]))
    assert read.tolist() == ["约31度", "31°13′48″X"]
    assert problems.tolist() == [dms.SHAPE, dms.SHAPE]
    with translation.override("zh-hans"):
        assert dms.message(dms.SHAPE, "约31度") == (
            "无法识别的度分秒坐标：'约31度'（应如 31°13′48″N、北纬31度13分48秒 或 N31°13.8′）"
        )


def test_messages_are_translated():
    with translation.override("en"):
        assert dms.message(dms.MINUTES, "30°65′20″N") == (
            "Invalid degrees-minutes-seconds coordinate: '30°65′20″N' (minutes must be below 60)"
        )


# --- through parse_file ----------------------------------------------------------------


def test_latitude_and_longitude_columns_name_what_is_wrong(resources, write):
    gas = resources["gas-pipeline-pressure"]
    text = (
        "监测点编号,监测时间,所属区,管网压力(MPa),纬度,经度\n"
        "GP000001,2025-07-01 14:30,黄浦区,0.35,31°13′48″N,121°28′12″E\n"
        "GP000002,2025-07-01 14:30,黄浦区,0.35,30°65′20″N,121°28′12″E\n"
        "GP000003,2025-07-01 14:30,黄浦区,0.35,31°13′48″N,121.5°28′\n"
        "GP000004,2025-07-01 14:30,黄浦区,0.35,31 13 48,121.47\n"
    )
    with translation.override("zh-hans"):
        chunk = next(
            parse_file(
                path=write("gas.csv", text),
                filename="gas.csv",
                resource=gas,
                connector=GenericConnector(),  # WGS-84: the values as written
            )
        )
    assert [(e.row, e.column, e.field, e.message) for e in chunk.errors] == [
        (3, "纬度", "latitude", "度分秒坐标有误：'30°65′20″N'（分须小于 60）"),
        (
            4,
            "经度",
            "longitude",
            "度分秒坐标有误：'121.5°28′'（度分秒写法重复：度已带小数，不能再写分或秒）",
        ),
        # Not written in degrees: the number error as before.
        (5, "纬度", "latitude", "无法识别的数值：'31 13 48'（本字段不带单位，单元格只应写数字）"),
    ]
    assert chunk.valid.tolist() == [True, False, False, False]
    assert (chunk.frame["latitude"].iat[0], chunk.frame["longitude"].iat[0]) == pytest.approx(
        (31.23, 121.47)
    )


def test_geopoint_cells_in_degrees(db, write):
    sites = park_sites()
    text = (
        "点位编号,核查时间,坐标\n"
        'S1,2025-07-01 14:30,"31°13′48″N, 121°28′12″E"\n'
        "S2,2025-07-01 14:30,北纬31度13分48秒 东经121度28分12秒\n"
        'S3,2025-07-01 14:30,"31°65′48″N, 121°28′12″E"\n'
        "S4,2025-07-01 14:30,上海市\n"
    )
    with translation.override("zh-hans"):
        path = write("sites.csv", text)
        chunk = next(parse_file(path=path, filename="sites.csv", resource=sites))
    assert chunk.frame["location"].tolist()[:2] == ["121.470000,31.230000"] * 2
    assert [(e.row, e.field, e.message) for e in chunk.errors] == [
        (4, "location", "度分秒坐标有误：'31°65′48″N, 121°28′12″E'（分须小于 60）"),
        (5, "location", "无法识别的坐标：'上海市'（应为“经度,纬度”或 POINT(经度 纬度)）"),
    ]
    assert chunk.valid.tolist() == [True, True, False, False]
