"""Units in headers and number cells: case, unknown units, per-day flows, decimal commas."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers import numbers, units
from connectors.normalisers.headers import split_unit, unknown_unit
from connectors.normalisers.schema import FieldInfo
from connectors.normalisers.validation import type_message
from connectors.proposal.units import guess_unit

# --- the registry -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("M3/H", "m³/h"),
        ("M3/S", "m³/s"),
        ("MG/M3", "mg/m³"),
        ("M2", "m²"),
        ("KM/H", "km/h"),
        ("KPA", "kPa"),
        ("MPa", "MPa"),
        ("Mpa", "MPa"),
        ("MPA", "MPa"),
        ("UG/M3", "μg/m³"),
        ("m3/d", "m³/d"),
        ("M3/D", "m³/d"),
        ("吨/天", "m³/d"),
        ("t/d", "m³/d"),
        ("立方米/日", "m³/d"),
        ("万m³/d", "万m³/d"),
        ("万M3/D", "万m³/d"),
        ("万吨/天", "万m³/d"),
        ("m3/min", "m³/min"),
        ("L/min", "L/min"),
        ("kgf/cm²", "kgf/cm²"),
        ("KGF/CM2", "kgf/cm²"),
        ("kg/cm2", "kgf/cm²"),
        ("m³/x", None),
        ("dB", None),
    ],
)
def test_canonical_units(text, expected):
    assert units.canonical_unit(text) == expected


def test_registry_symbols_stay_distinct_without_case():
    folded = [symbol.lower() for symbol in units.UNITS]
    assert len(folded) == len(set(folded))


@pytest.mark.parametrize(
    ("value", "source", "target", "expected"),
    [
        (2400, "m³/d", "m³/h", 100.0),
        (2.4, "万m³/d", "m³/h", 1000.0),
        (1, "m³/min", "m³/h", 60.0),
        (60, "L/min", "L/s", 1.0),
        (3.6, "L/h", "L/s", 0.001),
        (3.5, "kgf/cm²", "MPa", 0.34323275),
        (1, "kgf/cm²", "kPa", 98.0665),
    ],
)
def test_new_unit_conversions(value, source, target, expected):
    assert units.convert([value], source, target)[0] == pytest.approx(expected, rel=1e-12)


# --- units in headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("瞬时流量 m³/h", ("瞬时流量", "m³/h")),
        ("瞬时流量m³/h", ("瞬时流量", "m³/h")),
        ("平均车速km/h", ("平均车速", "km/h")),
        ("流速m/s", ("流速", "m/s")),
        ("排水能力 m³/s", ("排水能力", "m³/s")),
        ("流量/m³/h", ("流量", "m³/h")),
        ("流量立方米/小时", ("流量", "m³/h")),
        ("PM10 mg/m3", ("PM10", "mg/m³")),
        ("PM10μg/m³", ("PM10", "μg/m³")),
        ("LEL%", ("LEL", "%")),
        ("瞬时流量(m³/d)", ("瞬时流量", "m³/d")),
        ("瞬时流量(万m³/d)", ("瞬时流量", "万m³/d")),
        ("压力(kgf/cm²)", ("压力", "kgf/cm²")),
        ("压力(KPA)", ("压力", "kPa")),
        ("瞬时流量(M3/H)", ("瞬时流量", "m³/h")),
        ("速度 KM/H", ("速度", "km/h")),
        # No unit: a Latin word or number goes on, a one-character Chinese word is a name.
        ("pH", ("pH", None)),
        ("H2S", ("H2S", None)),
        ("温度", ("温度", None)),
        ("浓度", ("浓度", None)),
        ("24小时雨量", ("24小时雨量", None)),
        ("经度/纬度", ("经度/纬度", None)),
    ],
)
def test_header_units_after_a_space_or_glued(header, expected):
    assert split_unit(header) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("瞬时流量(m³/x)", "m³/x"),
        ("流量（立方米/旬）", "立方米/旬"),
        ("压力(mmHg)", "mmHg"),
        # Known spellings of a rate, however its words are written.
        ("流量（方/时）", None),
        ("流量(立方米/时)", None),
        ("排水能力(m³/秒)", None),
        ("车速(km/hr)", None),
        ("温度(oC)", None),
        # Instrument tags, qualifiers and intervals are no units: the field's unit holds.
        ("出厂压力(PT-101)", None),
        ("压力(P1)", None),
        ("PM2.5(24h)", None),
        ("压力(max)", None),
        ("压力(SCADA)", None),
        ("水位(A)", None),
        ("小时雨量(mm/h)", None),  # an amount per hour
        ("噪声(dB)", "dB"),
        ("流量/m3/x", "m3/x"),
        ("瞬时流量(m³/d)", None),  # known
        ("所属区（区县）", None),  # a note
        ("压力(表压)", None),
        ("纬度(GCJ02)", None),  # a coordinate system
        ("压力", None),
    ],
)
def test_unknown_header_units(header, expected):
    assert unknown_unit(header) == expected


SPELLINGS = [
    (spelling, units.canonical_unit(spelling))
    for spelling in (
        *("MPa", "kPa", "m³/h", "m3/h", "m³/d", "万m³/d", "L/s", "mg/m3", "km/h", "℃"),
        *("cm", "mm", "m/s", "kgf/cm²", "μg/m³", "%", "m³/min", "L/min", "NTU", "Hz"),
    )
]


@given(
    st.sampled_from(SPELLINGS),
    st.sampled_from(["瞬时流量", "压力", "积水深度", "平均车速", "排水能力", "浓度"]),
    st.sampled_from(["({})", "（{}）", " {}", "{}", "/{}", "(单位：{})", " ({})"]),
    st.booleans(),
)
def test_any_known_unit_splits_off_however_written(spelling, base, form, upper):
    text, canonical = spelling
    written = text.upper() if upper else text
    assert split_unit(base + form.format(written)) == (base, canonical)


# --- decimal commas -----------------------------------------------------------------


def _read(cells: list[str], **options) -> tuple[list, list]:
    values, _units, _missing, bad = numbers.split_numbers(pd.Series(cells), **options)
    return [None if pd.isna(v) else v for v in values], bad.tolist()


def test_a_leading_zero_group_is_never_thousands():
    # The tester's file: a decimal-comma column was stored 1000 times too large.
    assert _read(["0,750", "12,500", "4,125"]) == ([None, None, None], [True, True, True])


def test_a_column_with_one_impossible_grouping_reads_no_comma():
    assert _read(["1,234", "120,5", "7"]) == ([None, None, 7.0], [True, True, False])
    assert _read(["3,14159"]) == ([None], [True])
    assert _read(["1.234,5"]) == ([None], [True])


def test_thousands_still_read_when_every_comma_cell_is_grouping():
    assert _read(["12,500", "1,234.5", "-1,234,567 kPa", "5"]) == (
        [12500.0, 1234.5, -1234567.0, 5.0],
        [False, False, False, False],
    )


def test_decimal_comma_profile():
    cells = ["0,750", "12,500", "4,125", "1.234,5", "-0,5", "7", "12.5"]
    assert _read(cells, decimal_comma=True) == (
        [0.75, 12.5, 4.125, 1234.5, -0.5, 7.0, 12.5],
        [False] * 7,
    )
    values, cell_units, _missing, bad = numbers.split_numbers(
        pd.Series(["0,75 m³/s", "1,234.5"]), decimal_comma=True
    )
    assert values.iat[0] == 0.75 and cell_units.iat[0] == "m³/s" and not bad.iat[0]
    assert bad.iat[1]  # a comma before a dot is no decimal comma
    # Dot groups alone are thousands in such a file; one decimal dot stays a decimal.
    assert _read(["2.000", "1.234.567", "2.000 m³", "12.50"], decimal_comma=True) == (
        [2000.0, 1234567.0, 2000.0, 12.5],
        [False] * 4,
    )


@given(st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False))
def test_thousands_round_trip(value):
    text = f"{value:,.3f}"
    values, _bad = _read([text])
    assert values == [pytest.approx(float(value))]


@given(st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False))
def test_decimal_comma_round_trip(value):
    grouped = f"{value:,.4f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    plain = f"{value:.4f}".replace(".", ",")
    values, bad = _read([grouped, plain], decimal_comma=True)
    assert bad == [False, False]
    assert values == [pytest.approx(float(value)), pytest.approx(float(value))]


@given(
    st.lists(st.integers(min_value=1, max_value=999), min_size=1, max_size=5),
    st.integers(min_value=0, max_value=999),
)
def test_a_zero_group_is_never_read_as_thousands(others, fraction):
    cells = [f"0,{fraction:03d}"] + [f"{n},{fraction:03d}" for n in others]
    values, bad = _read(cells)
    assert all(bad) and values == [None] * len(cells)


def test_the_error_for_an_ambiguous_comma_names_the_cell_and_the_fix():
    info = FieldInfo("capacity", "排水能力", "number", unit="m³/s")
    message = type_message(info, "120,5")
    assert message.startswith("无法识别的数值：'120,5'（逗号")
    assert "小数点为逗号" in message
    assert type_message(info, "高") == "无法识别的数值：'高'"


# --- the proposal -------------------------------------------------------------------


def test_proposal_reports_an_unknown_header_unit_instead_of_guessing():
    info = FieldInfo("flow", "瞬时流量", "number", unit="m³/h", min_value=0, max_value=5000)
    column = pd.Series(["2400", "1800", "3000"])
    guess = guess_unit("瞬时流量(m³/x)", column, info)
    assert (guess.unit, guess.source, guess.stated) == ("", "unknown", "m³/x")
    per_day = guess_unit("瞬时流量(m³/d)", column, info)
    assert (per_day.unit, per_day.source) == ("m³/d", "header")


# --- one comma reading per file (connectors.pipeline.commas) -----------------------


class _Auto:
    decimal_comma = None


def _by_chunks(cells: list[str], size: int, delimiter: str | None = None) -> list:
    """Values of ``cells`` read ``size`` at a time with one file's comma decisions;
    "bad" for an unreadable cell."""
    import numpy as np

    from connectors.pipeline.commas import FileCommas

    commas = FileCommas(_Auto(), delimiter)
    out: list = []
    for start in range(0, len(cells), size):
        series = pd.Series(cells[start : start + size])
        rows = np.arange(start + 2, start + 2 + len(series))
        mode = commas.mode("capacity", series, rows)
        values, _units, _missing, bad = numbers.split_numbers(series, commas=mode)
        _errors, contradicted = commas.contradictions("capacity", series, rows, "c")
        bad = bad.to_numpy() | contradicted
        out += ["bad" if b else v for v, b in zip(values.tolist(), bad, strict=True)]
    return out


_GROUPED = st.integers(min_value=1, max_value=999).map(lambda n: f"{n},{n % 1000:03d}")
_DECIMAL = st.integers(min_value=0, max_value=99).map(lambda n: f"{n},{n % 10}")
_PLAIN = st.integers(min_value=0, max_value=9999).map(str)


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.one_of(_GROUPED, _DECIMAL, _PLAIN), min_size=1, max_size=30),
    st.integers(min_value=1, max_value=10),
)
def test_a_column_is_never_read_two_ways_in_one_file(cells, size):
    values = _by_chunks(cells, size)
    # Every "n,nnn" cell of the file is read as thousands everywhere, or nowhere.
    read = [v != "bad" for c, v in zip(cells, values, strict=True) if c[-4:-3] == ","]
    assert len(set(read)) <= 1
    for cell, value in zip(cells, values, strict=True):
        if "," not in cell:
            assert value == float(cell)
        elif value != "bad":
            assert value == float(cell.replace(",", ""))  # only ever thousands


@settings(deadline=None, max_examples=60)
@given(st.lists(st.one_of(_GROUPED, _DECIMAL, _PLAIN), min_size=1, max_size=30))
def test_a_semicolon_file_reads_every_comma_as_decimal(cells):
    values = _by_chunks(cells, 4, delimiter=";")
    assert values == [float(c.replace(",", ".")) for c in cells]


@settings(deadline=None, max_examples=60)
@given(
    st.lists(st.one_of(_GROUPED, _PLAIN), min_size=1, max_size=20),
    st.sampled_from(["3.25", "0.5", ".75", "12.5m³/s", "0.082"]),
)
def test_a_semicolon_column_with_dot_decimals_reads_no_decimal_comma(cells, dotted):
    # "1,250" beside "3.25" in a ";" file was read 1.25: the dot is the column's decimal
    # point, so its commas are thousands (or unreadable), never decimal commas.
    values = _by_chunks([dotted, *cells], 100, delimiter=";")
    for cell, value in zip(cells, values[1:], strict=True):
        assert value == float(cell.replace(",", ""))


@settings(deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False),
    st.sampled_from([",", ";"]),
)
def test_the_proposal_reads_a_decimal_comma_as_evidence(value, delimiter):
    from connectors.proposal.decimals import guess_commas

    text = f"{value:.2f}".replace(".", ",")
    guess = guess_commas([pd.Series([text, "7"])], delimiter=delimiter, declared=None)
    assert (guess.decimal_comma, guess.source) == (True, "cells")
    thousands = guess_commas([pd.Series([f"{value:,.2f}"])], delimiter=delimiter, declared=None)
    if value >= 1000:
        assert (thousands.decimal_comma, thousands.source) == (False, "cells")


# --- accounting negatives, degrees-minutes-seconds ------------------------------------


@settings(deadline=None)
@given(st.decimals(min_value=0, max_value=10**6, places=2, allow_nan=False))
def test_a_number_in_parentheses_is_negative(value):
    for text in (f"({value})", f"（{value}）", f"({value:,})"):
        values, bad = _read([text])
        assert bad == [False] and values == [pytest.approx(-float(value))], text
        assert numbers.parenthesised(pd.Series([text])).tolist() == [True]


def test_parentheses_that_are_no_number_stay_unreadable():
    assert _read(["(注1)", "(+5)", "()"]) == ([None, None, None], [True, True, True])
    assert numbers.parenthesised(pd.Series(["5", "-5", "(注1)"])).tolist() == [False] * 3


@pytest.mark.parametrize(
    "text", ["(1)12", "(1)2.5", "(5).5", "(5),5", "(1.5)e3", "(2) 3", "(12)34万"]
)
def test_digits_after_the_parentheses_are_no_negative_number(text):
    # "(1)12" was read -112: only a unit may follow a number in parentheses.
    for commas in numbers.COMMA_MODES:
        assert _read([text], commas=commas) == ([None], [True]), (text, commas)
    assert numbers.parenthesised(pd.Series([text])).tolist() == [False]
    assert numbers.parse_integers(pd.Series([text]))[2].tolist() == [True]


def test_a_unit_may_follow_a_number_in_parentheses():
    assert _read(["(5)%", "(1,250) 万元", "（3）m"])[0] == [-5.0, -1250.0, -3.0]


@settings(deadline=None)
@given(
    st.integers(min_value=0, max_value=179),
    st.integers(min_value=0, max_value=59),
    st.decimals(min_value=0, max_value="59.99", places=2, allow_nan=False),
    st.sampled_from(["°′″", "°'\"", "度分秒"]),
    st.sampled_from(["", "N", "E", "S", "W", "北纬", "西经"]),
)
def test_degrees_minutes_seconds_read_as_degrees(degrees, minutes, seconds, marks, hemisphere):
    from connectors.normalisers.dms import degrees_minutes_seconds

    d, m, s = marks
    text = f"{degrees}{d}{minutes}{m}{seconds}{s}"
    text = text + hemisphere if len(hemisphere) == 1 else hemisphere + text
    [read] = degrees_minutes_seconds(pd.Series([text])).tolist()
    sign = -1 if hemisphere in ("S", "W", "西经") else 1
    # Written with 10 decimals: exact to 1e-10 degrees (0.01 mm), also for tiny angles.
    assert float(read) == pytest.approx(
        sign * (degrees + minutes / 60 + float(seconds) / 3600), abs=1e-9
    )


def test_impossible_minutes_are_left_for_an_error():
    from connectors.normalisers.dms import degrees_minutes_seconds

    cells = ["121°61′", "31.5°12′", "N31°E", "12.5", ""]
    assert degrees_minutes_seconds(pd.Series(cells)).tolist() == cells


def test_unit_problem_of_a_field_without_unit_names_no_empty_unit():
    info = FieldInfo(name="latitude", label="纬度", field_type="number")
    message = type_message(info, "31 13 48", unit_problem=True)
    assert message == "无法识别的数值：'31 13 48'（本字段不带单位，单元格只应写数字）"


# --- 万 and 亿 after the number ---------------------------------------------------------


@settings(deadline=None)
@given(
    st.decimals(min_value=0, max_value=10**5, places=4, allow_nan=False),
    st.sampled_from([("万", 10**4), ("亿", 10**8)]),
)
def test_a_multiplier_after_the_number_is_multiplied_out(value, multiplier):
    word, factor = multiplier
    cells = pd.Series([f"{value}{word}", f"{value}{word}m³/h"])
    values, cell_units, _missing, bad = numbers.split_numbers(cells)
    assert not bad.any()
    converted, unit_bad = units.convert_cells(values, cell_units, "m³/h", "m³/h")
    assert not unit_bad.any()
    assert converted.tolist() == [pytest.approx(float(value) * factor)] * 2
    ints, _missing, int_bad = numbers.parse_integers(pd.Series([f"{value}{word}人次"]))
    exact = value * factor  # Decimal: no binary rounding
    whole = exact == exact.to_integral_value()
    assert bool(int_bad.iat[0]) is not whole
    if whole:
        assert ints.iat[0] == int(exact)


def test_a_multiplier_over_a_column_unit_with_one_is_refused():
    values, cell_units, _missing, _bad = numbers.split_numbers(pd.Series(["2.4万", "2.4"]))
    converted, unit_bad = units.convert_cells(values, cell_units, "万m³/d", "m³/h")
    assert unit_bad.tolist() == [True, False]
    assert converted.iat[1] == pytest.approx(1000.0)


_WRITTEN = st.one_of(
    st.from_regex(numbers._PLAIN, fullmatch=True),
    st.sampled_from(["1e999", "-1e999", "-0", ".5", "5.", "+3", "2.000", "007", "1E-7"]),
)


@settings(deadline=None, max_examples=150)
@given(
    cells=st.lists(_WRITTEN, min_size=1, max_size=30),
    as_object=st.booleans(),
    commas=st.sampled_from(numbers.COMMA_MODES),
)
def test_a_column_of_plain_numbers_reads_as_every_other_column(cells, as_object, commas):
    """A column whose every cell is a plain number takes a shortcut; one cell that is
    not ("x", a missing marker) sends it the general way, which must read the others alike."""
    dtype = object if as_object else "str"
    alone = numbers.split_numbers(pd.Series(cells, dtype=dtype), commas=commas)
    mixed = numbers.split_numbers(pd.Series([*cells, "x"], dtype=dtype), commas=commas)
    for fast, general in zip(alone, mixed, strict=True):  # repr: nan == nan, -0.0 != 0.0
        assert list(map(repr, fast.tolist())) == list(map(repr, general.iloc[:-1].tolist()))
    assert mixed[3].iat[-1] and not mixed[2].iat[-1]  # the "x": bad, not missing


@settings(deadline=None, max_examples=150)
@given(
    values=st.lists(st.one_of(st.none(), st.floats(-1e6, 1e6)), min_size=1, max_size=20),
    default=st.sampled_from(["", "kPa", "MPa", "°C", "m³/h", "zz"]),
    target=st.sampled_from(["", "kPa", "MPa", "°C", "m³/h"]),
    as_object=st.booleans(),
)
def test_a_column_without_cell_units_converts_as_every_other_column(
    values, default, target, as_object
):
    """No cell writes a unit: one conversion for the column; a cell that does ("x") sends
    it the general way, which must convert the others alike."""
    dtype = object if as_object else "str"
    column = pd.Series(values, dtype="float64")
    alone = units.convert_cells(column, pd.Series([""] * len(values), dtype=dtype), default, target)
    mixed = units.convert_cells(
        pd.Series([*values, 1.0], dtype="float64"),
        pd.Series([""] * len(values) + ["x"], dtype=dtype),
        default,
        target,
    )
    for fast, general in zip(alone, mixed, strict=True):
        assert list(map(repr, fast.tolist())) == list(map(repr, general.iloc[:-1].tolist()))
        assert fast.dtype == general.dtype
