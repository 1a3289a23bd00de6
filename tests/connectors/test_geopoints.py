"""The geopoint normaliser (坐标): property tests plus files with exact expected values."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import Connector
from connectors.normalisers import coordinates
from connectors.normalisers.geopoints import format_degrees, parse_geopoints
from connectors.pipeline.parsing import parse_file, parse_records
from tests.ingest.helpers import park_sites

LAT = st.floats(-90, 90, allow_nan=False)
LON = st.floats(-180, 180, allow_nan=False)
# Longitudes that cannot be latitudes, so a latitude-first pair is recognisable.
FAR_LON = st.one_of(st.floats(90.000001, 180), st.floats(-180, -90.000001))
CHINA_LAT = st.floats(18.0, 53.0)
CHINA_LON = st.floats(73.0, 135.0)
SEPARATORS = st.sampled_from([",", ", ", " ", "，", "　", ";", "、", " , "])


def _one(text, crs="wgs84"):
    points = parse_geopoints(pd.Series([text], dtype=object), crs=crs)
    return (
        points.values.iat[0],
        bool(points.missing.iat[0]),
        bool(points.bad.iat[0]),
        bool(points.out_of_range.iat[0]),
    )


def _canonical(lat, lon) -> str:
    return f"{format_degrees(np.array([lon])).iat[0]},{format_degrees(np.array([lat])).iat[0]}"


# --- properties ---------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(LAT, LON)
def test_canonical_text_round_trips(lat, lon):
    text = _canonical(lat, lon)
    points = parse_geopoints(pd.Series([text, text]))
    assert points.values.tolist() == [text, text]
    assert not points.bad.any() and not points.out_of_range.any()
    assert not points.swapped.any()
    # The stored text and the coordinates agree, to the sixth decimal.
    assert abs(points.latitude[0] - lat) <= 5e-7
    assert abs(points.longitude[0] - lon) <= 5e-7


@settings(max_examples=200, deadline=None)
@given(LAT, FAR_LON, SEPARATORS)
def test_latitude_first_pairs_are_swapped(lat, lon, separator):
    lon_first = f"{lon!r}{separator}{lat!r}"
    lat_first = f"{lat!r}{separator}{lon!r}"
    points = parse_geopoints(pd.Series([lon_first, lat_first, f"POINT({lat!r} {lon!r})"]))
    assert points.values.iat[0] == points.values.iat[1] == points.values.iat[2]
    assert points.values.iat[0] == _canonical(lat, lon)
    assert points.swapped.tolist() == [False, True, True]


@settings(max_examples=100, deadline=None)
@given(CHINA_LAT, CHINA_LON, st.sampled_from(["gcj02", "bd09"]))
def test_datum_shift_matches_the_coordinate_normaliser(lat, lon, crs):
    source = (
        coordinates.wgs84_to_gcj02(lat, lon)
        if crs == "gcj02"
        else coordinates.wgs84_to_bd09(lat, lon)
    )
    text = f"{float(source[1])!r},{float(source[0])!r}"
    points = parse_geopoints(pd.Series([text]), crs=crs)
    assert abs(points.latitude[0] - lat) < 2e-6
    assert abs(points.longitude[0] - lon) < 2e-6


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(max_size=40), max_size=8), st.sampled_from(["wgs84", "gcj02", "bd09"]))
def test_never_raises_and_masks_partition_the_cells(texts, crs):
    points = parse_geopoints(pd.Series(texts, dtype=object), crs=crs)
    present = points.values.notna().to_numpy()
    missing = points.missing.to_numpy()
    bad = points.bad.to_numpy()
    out = points.out_of_range.to_numpy()
    # Every cell is exactly one of: a point, missing, unreadable, out of range.
    assert (present.astype(int) + missing + bad + out == 1).all()
    assert np.isnan(points.latitude[~present]).all()
    assert (np.abs(points.latitude[present]) <= 90).all()
    assert (np.abs(points.longitude[present]) <= 180).all()


@given(st.sampled_from(["—", "——", "/", "暂无", "无", "", " ", "NULL", "N/A"]))
def test_missing_markers_are_missing(marker):
    assert _one(marker) == (None, True, False, False)


# --- exact values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("121.473701,31.230416", "121.473701,31.230416"),
        ("121.4737, 31.2304", "121.473700,31.230400"),
        ("31.230416,121.473701", "121.473701,31.230416"),  # latitude first: swapped
        ("31.230416 121.473701", "121.473701,31.230416"),
        ("１２１．４７３７０１，３１．２３０４１６", "121.473701,31.230416"),  # full width
        ("31.23　121.47", "121.470000,31.230000"),  # ideographic space
        ("31.23、121.47", "121.470000,31.230000"),
        ("POINT(121.473701 31.230416)", "121.473701,31.230416"),
        ("point (121.47 31.23)", "121.470000,31.230000"),
        ("POINT（31.23 121.47）", "121.470000,31.230000"),  # full-width brackets, swapped
        ("[121.47, 31.23]", "121.470000,31.230000"),  # Table Schema "array"
        ('{"lat": 31.23, "lon": 121.47}', "121.470000,31.230000"),  # Table Schema "object"
        ("121.47°, 31.23°", "121.470000,31.230000"),
        ("-73.985656,40.748433", "-73.985656,40.748433"),  # both within ±90: lon, lat
        ("0.0000004,-0.0000004", "0.000000,0.000000"),  # no "-0.000000"
        ("-0.5,-0.25", "-0.500000,-0.250000"),
        ("121.4737016,31.2304164", "121.473702,31.230416"),  # rounded, not truncated
    ],
)
def test_spellings(text, expected):
    assert _one(text) == (expected, False, False, False)


@pytest.mark.parametrize(
    "text",
    [
        "abc",
        "121.47",
        "121.47,31.23,4.5",
        "121.47,",
        "N31.23 E121.47",
        "POINT(121.47)",
        "121.47,31.23N",
    ],
)
def test_unreadable_cells_are_bad(text):
    assert _one(text) == (None, False, True, False)


@pytest.mark.parametrize("text", ["200,95", "121.47,95", "181,31", "95,181", "1e5,3"])
def test_impossible_points_are_out_of_range(text):
    assert _one(text) == (None, False, False, True)


def test_gcj02_and_bd09_exact_values():
    gcj = parse_geopoints(pd.Series(["121.47,31.23"]), crs="gcj02")
    assert gcj.values.tolist() == ["121.465451,31.231920"]
    assert (gcj.latitude[0], gcj.longitude[0]) == (31.23192, 121.465451)
    bd = parse_geopoints(pd.Series(["121.47,31.23"]), crs="bd09")
    assert bd.values.tolist() == ["121.458945,31.225781"]
    # The same cell without a datum shift, and CGCS2000 taken as WGS-84.
    for crs in ("wgs84", "cgcs2000"):
        assert parse_geopoints(pd.Series(["121.47,31.23"]), crs=crs).values.tolist() == [
            "121.470000,31.230000"
        ]


def test_index_is_kept_and_repeats_are_parsed_once():
    series = pd.Series(["31.23,121.47", "暂无", "31.23,121.47"], index=[7, 8, 9], dtype=object)
    points = parse_geopoints(series)
    assert points.values.index.tolist() == [7, 8, 9]
    assert points.values.tolist() == ["121.470000,31.230000", None, "121.470000,31.230000"]
    assert points.missing.tolist() == [False, True, False]


# --- through parse_file / parse_records -------------------------------------------------


@pytest.fixture
def sites(db):
    return park_sites()


class GcjConnector(Connector):
    code = "test.gcj"
    source_crs = "gcj02"


CSV = (
    "点位编号,核查时间,坐标,出入口坐标\n"
    'S1,2025-07-01 14:30,"31.230416,121.473701",POINT(121.48 31.24)\n'
    "S2,2025-07-01 14:30,１２１．４７，３１．２３,暂无\n"
    "S3,2025-07-01 14:30,上海市,—\n"
    'S4,2025-07-01 14:30,"200,95",\n'
    "S5,2025-07-01 14:30,/,\n"
)


def test_parse_file_normalises_and_reports_bad_points(sites, write):
    chunk = next(parse_file(path=write("sites.csv", CSV), filename="sites.csv", resource=sites))
    assert chunk.frame["location"].tolist() == [
        "121.473701,31.230416",
        "121.470000,31.230000",
        None,
        None,
        None,
    ]
    assert chunk.frame["entrance"].tolist() == ["121.480000,31.240000", None, None, None, None]
    assert chunk.valid.tolist() == [True, True, False, False, False]
    assert [error.as_dict() for error in chunk.errors] == [
        {
            "row": 4,
            "column": "坐标",
            "message": "无法识别的坐标：'上海市'（应为“经度,纬度”或 POINT(经度 纬度)）",
            "field": "location",
        },
        {
            "row": 5,
            "column": "坐标",
            "message": (
                "坐标超出范围：'200,95'（纬度应在 -90 至 90 之间，经度应在 -180 至 180 之间）"
            ),
            "field": "location",
        },
        {"row": 6, "column": "坐标", "message": "必填项为空", "field": "location"},
    ]


def test_connector_and_header_crs(sites, write):
    text = '点位编号,坐标,出入口坐标(WGS84)\nS1,"121.47,31.23","121.47,31.23"\n'
    path = write("gcj.csv", text)
    chunk = next(
        parse_file(path=path, filename="gcj.csv", resource=sites, connector=GcjConnector())
    )
    # The connector's GCJ-02 applies to 坐标; the header's WGS84 wins for 出入口坐标.
    assert chunk.frame.iloc[0][["location", "entrance"]].tolist() == [
        "121.465451,31.231920",
        "121.470000,31.230000",
    ]


def test_records_pushed_in_table_schema_formats(sites):
    chunk = parse_records(
        records=[
            {"site_id": "A", "location": "121.47, 31.23"},
            {"site_id": "B", "location": [121.47, 31.23]},
            {"site_id": "C", "location": {"lon": 121.47, "lat": 31.23}},
        ],
        resource=sites,
    )
    assert chunk.frame["location"].tolist() == ["121.470000,31.230000"] * 3
    assert chunk.valid.all()


def test_prepared_record_takes_coordinates_from_the_geopoint(sites, write):
    from hub.records.recordstore import prepare_rows

    chunk = next(parse_file(path=write("sites.csv", CSV), filename="sites.csv", resource=sites))
    rows = prepare_rows(resource=sites, frame=chunk.frame, source_rows=chunk.source_rows)
    assert rows["latitude"].to_list()[:3] == [31.230416, 31.23, None]
    assert rows["longitude"].to_list()[:3] == [121.473701, 121.47, None]
    assert json.loads(rows["data"][0]) == {
        "site_id": "S1",
        "observed_at": "2025-07-01T06:30:00Z",
        "location": "121.473701,31.230416",
        "entrance": "121.480000,31.240000",
        "checked_on": None,
        "open": None,
    }
