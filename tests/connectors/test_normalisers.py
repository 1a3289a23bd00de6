"""Property tests of the normalisers (hypothesis) plus a few pinned examples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import coordinates, dates, numbers, units
from connectors.normalisers.codes import CodeMatcher
from connectors.normalisers.districts import DistrictMatcher
from connectors.normalisers.headers import header_crs, split_unit
from connectors.normalisers.text import HALFWIDTH_TABLE, MISSING_MARKERS, clean

FULLWIDTH = str.maketrans("0123456789.-,%", "０１２３４５６７８９．－，％")
SHANGHAI_LAT = st.floats(30.6, 31.9)
SHANGHAI_LON = st.floats(120.8, 122.2)
CHINA_LAT = st.floats(18.0, 53.0)
CHINA_LON = st.floats(73.0, 135.0)
DISTRICTS = json.loads(
    (Path(__file__).resolve().parents[2] / "fixtures" / "districts.json").read_text("utf-8")
)["items"]
LOCAL = timedelta(hours=8)


# --- coordinates -------------------------------------------------------------------


@given(CHINA_LAT, CHINA_LON)
def test_gcj02_round_trip(lat, lon):
    back_lat, back_lon = coordinates.gcj02_to_wgs84(*coordinates.wgs84_to_gcj02(lat, lon))
    assert abs(back_lat - lat) < 1e-6
    assert abs(back_lon - lon) < 1e-6


@given(CHINA_LAT, CHINA_LON)
def test_bd09_round_trip(lat, lon):
    back_lat, back_lon = coordinates.bd09_to_wgs84(*coordinates.wgs84_to_bd09(lat, lon))
    assert abs(back_lat - lat) < 1e-6
    assert abs(back_lon - lon) < 1e-6


@given(SHANGHAI_LAT, SHANGHAI_LON)
def test_gcj02_offset_is_a_few_hundred_metres(lat, lon):
    g_lat, g_lon = coordinates.wgs84_to_gcj02(lat, lon)
    assert 0.0005 < abs(g_lat - lat) + abs(g_lon - lon) < 0.01


@given(SHANGHAI_LAT, SHANGHAI_LON, st.booleans())
def test_swapped_coordinates_are_detected(lat, lon, swap):
    given_lat, given_lon = (lon, lat) if swap else (lat, lon)
    fixed_lat, fixed_lon, swapped = coordinates.fix_swapped([given_lat], [given_lon])
    assert (fixed_lat[0], fixed_lon[0]) == (lat, lon)
    assert bool(swapped[0]) is swap


def test_known_gcj02_point():
    # People's Square: GCJ-02 is about 500 m east-south-east of WGS-84 here.
    g_lat, g_lon = coordinates.wgs84_to_gcj02(31.2304, 121.4737)
    assert float(g_lat) == pytest.approx(31.228458, abs=1e-6)
    assert float(g_lon) == pytest.approx(121.478223, abs=1e-6)


# --- dates -------------------------------------------------------------------------

INSTANTS = st.datetimes(min_value=datetime(1992, 1, 1), max_value=datetime(2099, 12, 31))


def layouts(local: datetime) -> dict[str, datetime]:
    """Text layouts of a local time -> the local time they denote (minute layouts truncate)."""
    minute = local.replace(second=0)
    epoch = int((local - LOCAL).replace(tzinfo=UTC).timestamp())
    serial = (local - datetime(1899, 12, 30)).total_seconds() / 86400
    return {
        local.strftime("%Y-%m-%d %H:%M:%S"): local,
        local.strftime("%Y-%m-%dT%H:%M:%S+08:00"): local,
        (local - LOCAL).strftime("%Y-%m-%dT%H:%M:%SZ"): local,
        f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute:02d}": minute,
        f"{local.year}年{local.month}月{local.day}日 {local.hour}时{local.minute}分": minute,
        local.strftime("%Y年%m月%d日%H:%M"): minute,
        f"{local.year}.{local.month}.{local.day} {local:%H:%M:%S}": local,
        local.strftime("%Y%m%d%H%M%S"): local,
        str(epoch): local,
        str(epoch * 1000): local,
        f"{serial:.10f}": local,
    }


@settings(max_examples=60, deadline=None)
@given(INSTANTS.map(lambda moment: moment.replace(microsecond=0)))
def test_every_layout_parses_to_the_same_instant(local):
    cases = layouts(local)
    values, missing, bad = dates.parse_datetimes(pd.Series(list(cases)))
    assert not bad.any() and not missing.any()
    expected = [pd.Timestamp(moment - LOCAL, tz="UTC") for moment in cases.values()]
    assert list(values) == expected


@settings(max_examples=40, deadline=None)
@given(st.dates(min_value=datetime(1992, 1, 1).date(), max_value=datetime(2099, 1, 1).date()))
def test_day_first_dates(day):
    text = pd.Series([day.strftime("%d/%m/%Y"), day.strftime("%Y-%m-%d"), f"{day:%Y年%m月%d日}"])
    values, _missing, bad = dates.parse_dates(text, day_first=True)
    assert not bad.any()
    assert values.tolist() == [day.isoformat()] * 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45839.604166667", "2025-07-01 06:30"),
        ("2025年7月1日 14时30分", "2025-07-01 06:30"),
        ("2025年07月01日14:30", "2025-07-01 06:30"),
        ("2025/7/1 14:30", "2025-07-01 06:30"),
        ("2025-07-01T14:30:00+08:00", "2025-07-01 06:30"),
        ("20250701143000", "2025-07-01 06:30"),
        ("1751351400", "2025-07-01 06:30"),
        ("1751351400000", "2025-07-01 06:30"),
        ("2025.7.1", "2025-06-30 16:00"),
        ("２０２５－０７－０１ １４:３０", "2025-07-01 06:30"),
    ],
)
def test_documented_date_examples(text, expected):
    values, _missing, bad = dates.parse_datetimes(pd.Series([text]))
    assert not bad.iat[0]
    assert values.iat[0] == pd.Timestamp(expected, tz="UTC")


@pytest.mark.parametrize(
    "text", ["2025/13/45", "2025-02-30", "yesterday", "12:30", "99999999999999"]
)
def test_bad_dates_are_flagged(text):
    values, missing, bad = dates.parse_datetimes(pd.Series([text]))
    assert bad.iat[0] and not missing.iat[0] and values.isna().iat[0]


# --- numbers and units ---------------------------------------------------------------


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=3, allow_nan=False))
def test_fullwidth_digits_equal_ascii(value):
    ascii_text = f"{value:f}"
    values, _units, missing, bad = numbers.split_numbers(
        pd.Series([ascii_text, ascii_text.translate(FULLWIDTH)])
    )
    assert not bad.any() and not missing.any()
    assert values.iat[0] == values.iat[1] == pytest.approx(float(value))


@given(st.integers(min_value=-(10**12), max_value=10**12))
def test_thousands_separators(value):
    values, _units, _missing, bad = numbers.split_numbers(pd.Series([f"{value:,}", f"{value:,}.5"]))
    assert not bad.any()
    assert values.iat[0] == value
    assert values.iat[1] == pytest.approx(value + (0.5 if value >= 0 else -0.5))
    ints, _missing, bad = numbers.parse_integers(pd.Series([f"{value:,}"]))
    assert not bad.any() and ints.iat[0] == value


@given(st.floats(min_value=0, max_value=1000, allow_nan=False).map(lambda v: round(v, 3)))
def test_percent_is_a_ratio(value):
    values, cell_units, _missing, bad = numbers.split_numbers(pd.Series([f"{value}%"]))
    converted, unit_bad = units.convert_cells(values, cell_units, "", "")
    assert not bad.any() and not unit_bad.any()
    assert converted.iat[0] == pytest.approx(value / 100)


def _clean_searching_every_cell(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    # clean() as it was before the ASCII shortcut: the fold search over every cell.
    text = series.astype(object).astype("str").fillna("")
    needs_fold = text.str.contains("[\uff01-\uff5e\u3000\u00a0\u2212\u3002]", regex=True)
    if needs_fold.any():
        text = text.where(~needs_fold, text[needs_fold].str.translate(HALFWIDTH_TABLE))
    text = text.str.strip()
    missing = text.isin(MISSING_MARKERS)
    return text.where(~missing, ""), missing


CELL_TEXT = st.one_of(
    st.none(),
    st.sampled_from(sorted(MISSING_MARKERS)),
    st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=8),
    st.text(
        alphabet=st.sampled_from(
            list(" 0123.-,%abc\u3000\u00a0\u2212\u3002\uff10\uff11\uff0e\uff41浦东区")
        ),
        max_size=8,
    ),
)


@given(st.lists(CELL_TEXT, max_size=12))
def test_clean_matches_a_search_of_every_cell(cells):
    series = pd.Series(cells, dtype=object)
    text, missing = clean(series)
    expected_text, expected_missing = _clean_searching_every_cell(series)
    assert text.tolist() == expected_text.tolist()
    assert missing.tolist() == expected_missing.tolist()


@pytest.mark.parametrize("marker", sorted(MISSING_MARKERS))
def test_missing_markers(marker):
    _text, missing = clean(pd.Series([marker, f" {marker} "]))
    assert missing.all()


DIMENSIONS: dict[str, list[str]] = {}
for unit in units.UNITS.values():
    DIMENSIONS.setdefault(unit.dimension, []).append(unit.symbol)
PAIRS = [(a, b) for symbols in DIMENSIONS.values() for a in symbols for b in symbols]


@given(st.sampled_from(PAIRS), st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_unit_conversions_invert(pair, value):
    source, target = pair
    there = units.convert([value], source, target)
    back = units.convert(there, target, source)
    assert back[0] == pytest.approx(value, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (350, "kPa", "MPa", 0.35),
        (150, "mm", "cm", 15.0),
        (0.035, "mg/m³", "μg/m³", 35.0),
        (10, "m/s", "km/h", 36.0),
        (3.6, "m³/h", "L/s", 1.0),
        (0, "°C", "K", 273.15),
    ],
)
def test_known_conversions(value, source, target, expected):
    assert units.convert([value], source, target)[0] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("压力(MPa)", ("压力", "MPa")),
        ("压力（kPa）", ("压力", "kPa")),
        ("积水深度/cm", ("积水深度", "cm")),
        ("温度℃", ("温度", "°C")),
        ("流量(m3/h)", ("流量", "m³/h")),
        ("PM2.5(ug/m3)", ("PM2.5", "μg/m³")),
        ("24小时雨量", ("24小时雨量", None)),
        ("纬度(GCJ02)", ("纬度(GCJ02)", None)),
    ],
)
def test_header_units(header, expected):
    assert split_unit(header) == expected


# --- codes and districts -------------------------------------------------------------

LEVELS = CodeMatcher.from_enum(["蓝色", "黄色", "橙色", "红色"])
CLASSES = CodeMatcher.from_enum(["Ⅰ类", "Ⅱ类", "Ⅲ类"])


@given(
    st.sampled_from(["蓝", "黄", "橙", "红"]),
    st.sampled_from(["", "色", "色预警", "色预警信号", "预警"]),
    st.sampled_from(["", " ", "\u3000"]),
)
def test_warning_levels(stem, suffix, pad):
    codes, _missing, bad = LEVELS.map(pd.Series([f"{pad}{stem}{suffix}{pad}"]))
    assert not bad.iat[0]
    assert codes.iat[0] == f"{stem}色"


@given(st.sampled_from([("I", "Ⅰ类"), ("II", "Ⅱ类"), ("III", "Ⅲ类"), ("2", "Ⅱ类")]), st.booleans())
def test_roman_classes(case, with_suffix):
    text, expected = case
    codes, _missing, bad = CLASSES.map(pd.Series([text + ("类" if with_suffix else "")]))
    assert codes.iat[0] == expected and not bad.iat[0]


MATCHER = DistrictMatcher([(d["code"], d["name"], d["aliases"]) for d in DISTRICTS])


@given(
    st.sampled_from(DISTRICTS),
    st.sampled_from(["", "上海市", "上海", "上海市 "]),
    st.sampled_from(["name", "bare", "code", "alias"]),
)
def test_district_spellings(item, prefix, form):
    name = item["name"]
    text = {
        "name": prefix + name,
        "bare": prefix + name.removesuffix("新区").removesuffix("区"),
        "code": item["code"],
        "alias": item["aliases"][0] if item["aliases"] else name,
    }[form]
    codes, _missing, bad = MATCHER.map(pd.Series([text]))
    assert codes.iat[0] == item["code"], text
    assert not bad.iat[0]


@pytest.mark.parametrize(
    ("old", "now"),
    [
        ("310103", "310101"),
        ("310102", "310101"),
        ("310108", "310106"),
        ("310119", "310115"),
        ("310230", "310151"),
        ("310108.0", "310106"),
    ],
)
def test_codes_of_merged_districts_read_as_their_successor(old, now):
    # 闸北区 (310108) is in 静安区 since 2015: its name was read, its old code was not.
    codes, _missing, bad = MATCHER.map(pd.Series([old]))
    assert codes.tolist() == [now] and not bad.any()


def test_unknown_district():
    codes, _missing, bad = MATCHER.map(pd.Series(["外滩区", "北京市朝阳区"]))
    assert codes.tolist() == [None, None] and bad.all()


def test_normalisers_are_vectorised_enough():
    # 200k messy cells through the number and date paths: a smoke check, not a benchmark.
    rng = np.random.default_rng(7)
    n = 200_000
    values = pd.Series(rng.choice(["1,234.5", "350kPa", "３５０", "暂无", "0.35"], n))
    times = pd.Series(rng.choice(["2025-07-01 14:30:00", "2025年7月1日 14时30分", "45839.6"], n))
    numbers.split_numbers(values)
    dates.parse_datetimes(times)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("纬度(GCJ02)", "gcj02"),
        ("经度（BD-09）", "bd09"),
        ("百度经度", "bd09"),
        ("纬度(WGS84)", "wgs84"),
        ("纬度 CGCS2000", "cgcs2000"),
        ("纬度", None),
    ],
)
def test_header_crs(header, expected):
    assert header_crs(header) == expected


@given(st.integers(min_value=0, max_value=10**9), st.sampled_from(["人", "人次", "张", "台", ""]))
def test_integers_with_measure_words(value, word):
    ints, _missing, bad = numbers.parse_integers(pd.Series([f"{value:,}{word}"]))
    assert not bad.iat[0] and ints.iat[0] == value


def test_integers_reject_other_units():
    _ints, _missing, bad = numbers.parse_integers(pd.Series(["12kg", "3.5人", "2人3"]))
    assert bad.tolist() == [True, True, True]


@given(
    cells=st.lists(
        st.one_of(st.none(), st.text(alphabet="0123456789.,，(（)°度 -万abc\u00b0\uff0c")),
        max_size=30,
    ),
    as_object=st.booleans(),
    start=st.integers(0, 3),
)
def test_any_cell_has_answers_as_a_search_of_every_cell(cells, as_object, start):
    """Also for a column that starts inside its Arrow buffer (the chunk after a split)."""
    from connectors.normalisers.text import any_cell_has

    series = pd.Series(cells, dtype=object if as_object else "str").iloc[start:]
    for characters in (",，", "(（", "°度", "."):
        expected = any(
            cell is not None and any(character in cell for character in characters)
            for cell in cells[start:]
        )
        assert any_cell_has(series, characters) == expected


def test_any_cell_has_skips_columns_without_text():
    from connectors.normalisers.text import any_cell_has

    assert not any_cell_has(pd.Series([1.5, float("nan")]), ",，")
    assert not any_cell_has(pd.Series(pd.to_datetime(["2025-07-01"])), ",，")
    assert not any_cell_has(pd.Series([None, None], dtype=object), ",，")
    # Cells of mixed types: the rule itself looks at them.
    assert any_cell_has(pd.Series(["1", 2.5], dtype=object), ",，")
