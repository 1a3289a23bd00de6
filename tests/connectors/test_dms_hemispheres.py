"""Hemisphere marks that contradict the axis an angle ends up on are never overruled
silently: in a latitude/longitude column pair, crossed marks (the latitude E/W, the
longitude N/S) are a swapped row, put back and noted; a single contradicting mark is a
row error naming the hemisphere; in a geopoint cell the range rule never turns a marked
angle against its mark."""

from __future__ import annotations

import pandas as pd
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.normalisers import dms
from connectors.normalisers.geopoints import parse_geopoints
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector

AXIS = {"N": "lat", "S": "lat", "北纬": "lat", "南纬": "lat", "E": "lon", "W": "lon"}
AXIS |= {"东经": "lon", "西经": "lon", "": ""}
NEGATIVE = {"S", "W", "南纬", "西经"}


def _text(degrees: int, minutes: int, seconds: int, mark: str) -> str:
    if len(mark) > 1:  # Chinese words lead
        return f"{mark}{degrees}度{minutes}分{seconds}秒"
    return f"{degrees}°{minutes}′{seconds}″{mark}"


def _value(degrees: int, minutes: int, seconds: int, mark: str) -> float:
    value = degrees + minutes / 60 + seconds / 3600
    return -value if mark in NEGATIVE else value


# --- a latitude and a longitude column, through parse_file -------------------------

HEADER = "监测点编号,监测时间,所属区,管网压力(MPa),纬度,经度\n"
# Shanghai, within the gas resource's ranges (纬度 30.6-31.9, 经度 120.8-122.2).
LATITUDE = st.tuples(st.just(31), st.integers(0, 50), st.integers(0, 59))
LONGITUDE = st.tuples(st.just(121), st.integers(0, 59), st.integers(0, 59))
ROW = st.tuples(
    LATITUDE,
    LONGITUDE,
    st.sampled_from(["N", "北纬", "", "E", "东经"]),  # the latitude's mark
    st.sampled_from(["E", "东经", "", "N", "北纬"]),  # the longitude's mark
    st.booleans(),  # the two (with their marks) written in each other's column
)


def _parse(resources, write, text: str):
    with translation.override("zh-hans"):
        return list(
            parse_file(
                path=write("gas.csv", HEADER + text),
                filename="gas.csv",
                resource=resources["gas-pipeline-pressure"],
                connector=GenericConnector(),  # WGS-84: the values as written
            )
        )


def _expected(row) -> tuple[str, list[tuple[str, str]]]:
    """("valid" | "swapped" | "invalid", the hemisphere errors (column, problem))."""
    latitude, longitude, lat_mark, lon_mark, crossed_columns = row
    # The marks and angles of the latitude column and of the longitude column.
    in_lon, a, b = longitude, AXIS[lat_mark], AXIS[lon_mark]
    if crossed_columns:
        in_lon, a, b = latitude, b, a
    if a == "lon" and b == "lat":
        if abs(in_lon[0]) <= 90:
            return "swapped", []
        return "invalid", [("纬度", dms.EAST_WEST_LATITUDE), ("经度", dms.NORTH_SOUTH_LONGITUDE)]
    if a == "lon":
        return "invalid", [("纬度", dms.EAST_WEST_LATITUDE)]
    if b == "lat":
        return "invalid", [("经度", dms.NORTH_SOUTH_LONGITUDE)]
    if crossed_columns:  # unmarked: the range rule swaps; marked: the marks stand
        return ("swapped", []) if not a and not b else ("invalid", [])
    return "valid", []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(ROW, min_size=1, max_size=12))
def test_column_marks_are_never_overruled(resources, write, rows):
    lines = []
    for number, (latitude, longitude, lat_mark, lon_mark, crossed) in enumerate(rows):
        cells = [_text(*latitude, lat_mark), _text(*longitude, lon_mark)]
        if crossed:
            cells.reverse()
        lines.append(f"GP{number:06d},2025-07-01 14:30,黄浦区,0.35,{cells[0]},{cells[1]}\n")
    [chunk] = _parse(resources, write, "".join(lines))
    found = [
        (e.row, e.column, e.message)
        for e in chunk.errors
        if e.message.endswith(("（纬度标为东经或西经 E/W）", "（经度标为北纬或南纬 N/S）"))
    ]
    expected_errors, swapped = [], []
    for number, row in enumerate(rows):
        outcome, problems = _expected(row)
        latitude, longitude, lat_mark, lon_mark, crossed = row
        texts = {"纬度": _text(*latitude, lat_mark), "经度": _text(*longitude, lon_mark)}
        if crossed:
            texts = {"纬度": texts["经度"], "经度": texts["纬度"]}
        with translation.override("zh-hans"):
            expected_errors += [
                (number + 2, column, dms.message(problem, texts[column]))
                for column, problem in problems
            ]
        assert bool(chunk.valid[number]) is (outcome != "invalid"), (row, chunk.errors)
        if outcome != "invalid":
            # The latitude stored is the latitude written, whichever column it was in.
            assert chunk.frame["latitude"].iat[number] == pytest.approx(_value(*latitude, ""))
            assert chunk.frame["longitude"].iat[number] == pytest.approx(_value(*longitude, ""))
        if outcome == "swapped":
            swapped.append(number + 2)
    assert found == expected_errors
    notes = [n.as_dict() for n in chunk.warnings if n.code == "swapped_coordinates"]
    expected_notes = [{"rows": len(swapped), "first": swapped[0]}] if swapped else []
    assert [n["params"] for n in notes] == expected_notes


@pytest.mark.parametrize(
    ("latitude", "longitude", "errors"),
    [
        (
            "31°13′48″W",
            "121°28′12″E",
            [("纬度", "度分秒坐标有误：'31°13′48″W'（纬度标为东经或西经 E/W）")],
        ),
        (
            "31°13′48″N",
            "121°28′12″S",
            [("经度", "度分秒坐标有误：'121°28′12″S'（经度标为北纬或南纬 N/S）")],
        ),
        (
            "东经31度13分48秒",
            "121.47",
            [("纬度", "度分秒坐标有误：'东经31度13分48秒'（纬度标为东经或西经 E/W）")],
        ),
    ],
)
def test_one_contradicting_mark_is_a_row_error(resources, write, latitude, longitude, errors):
    [chunk] = _parse(
        resources, write, f"GP000001,2025-07-01 14:30,黄浦区,0.35,{latitude},{longitude}\n"
    )
    assert [(e.row, e.column, e.message) for e in chunk.errors] == [(2, *e) for e in errors]
    assert chunk.valid.tolist() == [False]


def test_hemisphere_messages_in_english():
    with translation.override("en"):
        assert dms.message(dms.EAST_WEST_LATITUDE, "31°13′48″E") == (
            "Invalid degrees-minutes-seconds coordinate: '31°13′48″E' "
            "(hemisphere E/W in a latitude)"
        )
        assert dms.message(dms.NORTH_SOUTH_LONGITUDE, "121°28′12″N") == (
            "Invalid degrees-minutes-seconds coordinate: '121°28′12″N' "
            "(hemisphere N/S in a longitude)"
        )
        assert dms.message(dms.CROSSED, "31°E, 121°N", pair=True) == (
            "Invalid degrees-minutes-seconds coordinate: '31°E, 121°N' "
            "(the hemispheres are crossed: as marked, the latitude would exceed 90°)"
        )


# --- a geopoint cell ----------------------------------------------------------------

ANGLE = st.tuples(st.integers(0, 179), st.integers(0, 59), st.integers(0, 59))
MARK = st.sampled_from(sorted(AXIS))


@settings(max_examples=300, deadline=None)
@given(ANGLE, MARK, ANGLE, MARK, st.sampled_from([", ", " ", "；", "/"]))
def test_a_geopoint_pair_never_turns_an_angle_against_its_mark(a, mark_a, b, mark_b, separator):
    value_a, value_b = _value(*a, mark_a), _value(*b, mark_b)
    text = f"{_text(*a, mark_a)}{separator}{_text(*b, mark_b)}"
    points = parse_geopoints(pd.Series([text], dtype=object))
    if points.bad.iat[0]:
        assert points.problems.iat[0] in dms.PROBLEMS, text
        return
    lat, lon = points.latitude[0], points.longitude[0]
    # Which angle is the latitude (equal values cannot tell; out of range: no point).
    if not points.out_of_range.iat[0] and abs(value_a - value_b) > 1e-5:
        from_a = abs(lat - value_a) < 1e-5
        lat_mark, lon_mark = (mark_a, mark_b) if from_a else (mark_b, mark_a)
        assert AXIS[lat_mark] != "lon" and AXIS[lon_mark] != "lat", text
        assert abs(lon - (value_b if from_a else value_a)) < 1e-5, text


@pytest.mark.parametrize(
    ("text", "problem", "reason"),
    [
        ("31°13′48″E, 121°28′12″", dms.EAST_WEST_LATITUDE, "纬度标为东经或西经 E/W"),
        ("121°28′12″N, 31°13′48″", dms.NORTH_SOUTH_LONGITUDE, "经度标为北纬或南纬 N/S"),
        ("31°13′48″E, 121°28′12″N", dms.CROSSED, "南北与东西标反：按标记，纬度将超过 90°"),
    ],
)
def test_a_pair_the_range_rule_would_turn_against_a_mark_says_why(text, problem, reason):
    points = parse_geopoints(pd.Series([text, "121°28′12″E, 31°13′48″N"], dtype=object))
    assert points.problems.tolist() == [problem, ""]
    assert points.bad.tolist() == [True, False]
    assert points.values.tolist() == [None, "121.470000,31.230000"]
    with translation.override("zh-hans"):
        assert dms.message(problem, text, pair=True) == f"度分秒坐标有误：'{text}'（{reason}）"
