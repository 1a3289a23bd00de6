"""Numbers as written in spreadsheets: full width, thousands separators, percent, units."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.normalisers.multipliers import MULTIPLIERS, times
from connectors.normalisers.text import (
    NO_TEXT,
    UNTYPED,
    any_cell_has,
    arrow_cells,
    clean,
    halfwidth,
)
from connectors.normalisers.units import canonical_unit

# A number, optionally with thousands separators, followed by an optional unit text. The
# unit may not start with a digit, comma or dot: "120,5" is no 120 with a unit ",5".
_NUMBER_WITH_UNIT = (
    r"^(?P<num>[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?)"
    r"\s*(?P<unit>[^\d,.].*)?$"
)
# What follows the number of a range or a tolerance ("0.3~0.4", "0.35±0.02", "3至5",
# "0.3MPa-0.4MPa"): no single reading, so never a number with a unit.
_RANGE_TAIL = r"^[^\d]*?(?:[~〜—–至到±]|\+/?-|-)\s*[+-]?\.?\d"
_NUMBER_WITH_UNIT_RE = re.compile(_NUMBER_WITH_UNIT)
_RANGE_TAIL_RE = re.compile(_RANGE_TAIL)
# A cell with a comma between digits, and one whose commas can only be thousands
# separators (groups of three, the first group not "0": "0,750" is a decimal comma).
_COMMA = r"\d,\d"
_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?:[eE][+-]?\d+)?\s*(?:[^\d,.].*)?$"
# A decimal comma with optional dot groups ("0,75", "1.234,5"), then a unit or the end
# (RE2: pyarrow).
_DECIMAL_COMMA = r"^[+-]?(?:\d{1,3}(?:\.\d{3})+|\d+),\d+(?:[^\d,.]|$)"
_DOT_GROUP = r"^([+-]?\d+)\.(\d{3})"
# Dot groups of three, the first group not "0": "0.082" is a decimal point everywhere.
_DOT_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:[^\d,.]|$)"
# A cell without a comma whose one dot is followed by digits, then a unit or the end.
_DOT_DECIMAL = r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?(?:[^\d,.]|$)"


_PLAIN = r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$"
# An accounting negative: "(0.5)", "（1,250）万元" are -0.5 and -1,250 万元 (the load notes
# them: parse_notices.note_negatives). Only a unit may follow the ")": "(1)12", "(5).5" or
# "(1.5)e3" are no negative number (read so they would store -112, -5.5, -1500).
_PARENTHESISED = r"^\(\s*((?:\d[\d.,]*|\.\d+)(?:[eE][+-]?\d+)?)\s*\)(?!\s*[\d.,+-])(?![eE][+-]?\d)"


def _negatives(text: pd.Series) -> pd.Series:
    """Cells of a number in parentheses written with a minus sign instead."""
    marked = text.str.startswith("(")
    if not marked.any():
        return text
    text = text.copy()
    text[marked] = text[marked].str.replace(_PARENTHESISED, r"-\1", regex=True)
    return text


def _number_text(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cleaned cell texts (full width folded, missing markers blank, accounting negatives
    with a minus sign) and the missing mask."""
    text, missing = clean(series)
    return _negatives(text), missing


def is_range(text: str) -> bool:
    """Whether a cell is a range or a tolerance ("0.3~0.4", "0.35±0.02"), not a number
    (its row error says so)."""
    found = _NUMBER_WITH_UNIT_RE.match(halfwidth(str(text)).strip())
    return bool(found and found.group("unit") and _RANGE_TAIL_RE.match(found.group("unit")))


def parenthesised(series: pd.Series) -> np.ndarray:
    """Cells written as a number in parentheses (read as negative numbers)."""
    if not any_cell_has(series, "(（"):
        return np.zeros(len(series), dtype=bool)
    text, _missing = clean(series)
    return text.str.match(_PARENTHESISED).to_numpy(dtype=bool)


def _decimal_commas(text: pd.Series) -> pd.Series:
    """Cells written with a decimal comma in the usual form: "0,75" → "0.75",
    "1.234,5 m³/s" → "1234.5 m³/s", "2.000" → "2000"; other cells unchanged (RE2 over the distinct
    texts, no Python code per cell)."""
    # Dot groups without a comma are thousands there too: "2.000" is 2000.
    commas = text.str.contains(",", regex=False) | text.str.match(_DOT_THOUSANDS)
    if not commas.any():
        return text
    codes, uniques = pd.factorize(text[commas])
    cells = pa.array(uniques, type=pa.string())
    decimal = pc.or_(
        pc.match_substring_regex(cells, _DECIMAL_COMMA),
        pc.match_substring_regex(cells, _DOT_THOUSANDS),
    )
    swapped = cells
    for _ in range(4):  # "1.234.567,5": one dot group per pass, from the left
        swapped = pc.replace_substring_regex(swapped, _DOT_GROUP, r"\1\2")
    swapped = pc.replace_substring_regex(swapped, r"^([+-]?\d+),(\d+)", r"\1.\2")
    converted = pc.if_else(decimal, swapped, cells).to_numpy(zero_copy_only=False)
    text = text.copy()
    text[commas] = converted[codes]
    return text


# How a column reads commas (``split_numbers``' ``commas``): "auto" decides by the cells
# given, "decimal" reads decimal commas, "thousands" reads group-of-three commas and makes
# other comma cells unreadable, "unreadable" makes every comma cell unreadable.
COMMA_MODES = ("auto", "decimal", "thousands", "unreadable")
# A cell that starts like a number: only those are evidence for the comma reading (a note
# "注：单价1,5元" in a number column is not).
_NUMBER_LIKE = r"^[+-]?[\d.]*\d,\d"


def comma_evidence(series: pd.Series) -> tuple[str, int]:
    """How the comma cells of ``series`` read together: ("", -1) without any,
    ("thousands", position of the first) when every one can be a thousands separator,
    else ("unreadable", position of the first that cannot)."""
    if not any_cell_has(series, ",，"):
        return "", -1
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    commas = pc.match_substring_regex(arrow, _NUMBER_LIKE).to_numpy(zero_copy_only=False)
    if not commas.any():
        return "", -1
    grouped = pc.match_substring_regex(arrow, _THOUSANDS).to_numpy(zero_copy_only=False)
    other = np.flatnonzero(commas & ~grouped)
    if len(other):
        return "unreadable", int(other[0])
    return "thousands", int(np.flatnonzero(commas)[0])


def semicolon_evidence(series: pd.Series) -> tuple[str, int]:
    """The reading of a number column of a ";"-delimited file, where the comma is free to
    be the decimal separator: ("decimal", position) when it has comma cells (and no
    "1,234.5", nor a dot that can only be a decimal point, "3.25", beside "1,250"),
    ("unreadable", position) when it has none but dot groups of three
    ("0.082", "2.000": dots are its decimal points, a later comma cell is unreadable),
    ("", -1) when its cells read alike either way; else as ``comma_evidence``."""
    kind, position = comma_evidence(series)
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    if kind:
        thousands_only = pc.match_substring_regex(arrow, r"^[+-]?\d{1,3}(?:,\d{3})+\.\d")
        # A cell with a dot that can only be a decimal point ("3.25", "0.5"; not "2.000")
        # says the column writes decimals with a dot: its commas are then no decimal
        # commas ("1,250" beside "3.25" read 1.25, 1000 times too small).
        dotted = pc.and_(
            pc.match_substring_regex(arrow, _DOT_DECIMAL),
            pc.invert(pc.match_substring_regex(arrow, _DOT_THOUSANDS)),
        )
        if not pc.any(thousands_only).as_py() and not pc.any(dotted).as_py():
            return "decimal", position
        return kind, position
    dots = pc.match_substring_regex(arrow, _DOT_THOUSANDS)
    found = np.flatnonzero(dots.to_numpy(zero_copy_only=False))
    return ("unreadable", int(found[0])) if len(found) else ("", -1)


def ambiguous_dots(series: pd.Series) -> int:
    """The position of the first cell whose dot can be a thousands separator as well as a
    decimal point ("2.000", "12.250") in a column without comma cells, where no cell
    says which ("3.25" and "0.082" can only be decimal points); -1 when there is none or
    the cells say."""
    if not any_cell_has(series, "."):
        return -1
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    grouped = pc.match_substring_regex(arrow, _DOT_THOUSANDS)
    decimal_only = pc.and_(pc.match_substring_regex(arrow, _DOT_DECIMAL), pc.invert(grouped))
    commas = pc.match_substring_regex(arrow, _NUMBER_LIKE)
    if pc.any(decimal_only).as_py() or pc.any(commas).as_py():
        return -1
    found = np.flatnonzero(grouped.to_numpy(zero_copy_only=False))
    return int(found[0]) if len(found) else -1


def comma_cells(series: pd.Series) -> np.ndarray:
    """Cells that start like a number with a comma between digits ("1,250", "0,5 MPa")."""
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    return pc.match_substring_regex(arrow, _NUMBER_LIKE).to_numpy(zero_copy_only=False)


# Comma cells only a thousands separator reads: "1,234.5", "1,234,567" (never decimal).
_ONLY_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(?:,\d{3}(?:,\d{3})+|(?:,\d{3})+\.\d)"


def proven_thousands(series: pd.Series) -> bool:
    """Whether a cell of ``series`` can only be read with thousands commas."""
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    return bool(pc.any(pc.match_substring_regex(arrow, _ONLY_THOUSANDS)).as_py())


def undecidable_commas(series: pd.Series) -> np.ndarray:
    """Cells whose comma cannot be a thousands separator ("0,5", "12,50", "1.234,5")."""
    text, _missing = _number_text(series)
    arrow = pa.array(text, type=pa.string())
    commas = pc.match_substring_regex(arrow, _NUMBER_LIKE).to_numpy(zero_copy_only=False)
    grouped = pc.match_substring_regex(arrow, _THOUSANDS).to_numpy(zero_copy_only=False)
    return commas & ~grouped


def split_numbers(
    series: pd.Series, *, decimal_comma: bool = False, commas: str = "auto"
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Parse number cells; return (float64 values, cell unit text, missing, bad).

    Clean cells take the fast path (``pd.to_numeric``); only the rest go through one
    regular expression for separators and trailing units ("1,234.5", "350kPa", "85%").

    A comma is a thousands separator only while every comma cell of the column can be
    one: a single "0,750", "120,5" or "1.234,5" makes all of them unreadable (a decimal
    comma read as thousands would store values 1000 times too large). ``decimal_comma``
    (the profile's 小数点为逗号) reads "0,75" and "1.234,5" instead; a comma left over
    ("1,234.5") is then unreadable. ``commas`` (``COMMA_MODES``) is the reading decided
    for the whole file (``connectors.pipeline.commas``); "decimal" is ``decimal_comma``.
    """
    if decimal_comma:
        commas = "decimal"
    decimal_comma = commas == "decimal"
    if not decimal_comma and (plain := _all_plain(series)) is not None:
        return plain
    text, missing = _number_text(series)
    if decimal_comma:
        text = _decimal_commas(text)
    arrow = pa.array(text, type=pa.string())
    plain = pc.match_substring_regex(arrow, _PLAIN)
    fast = pc.cast(pc.if_else(plain, arrow, pa.scalar(None, pa.string())), pa.float64())
    values = pd.Series(fast.to_numpy(zero_copy_only=False), index=series.index, dtype="float64")
    units = pd.Series("", index=series.index, dtype=object)
    slow = values.isna() & ~missing
    ambiguous = pd.Series(False, index=series.index)
    if slow.any():
        # Distinct texts only, through RE2 in pyarrow: no Python code per cell.
        codes, uniques = pd.factorize(text[slow])
        unique_text = pa.array(uniques, type=pa.string())
        parts = pc.extract_regex(unique_text, _NUMBER_WITH_UNIT)
        ranged = pc.match_substring_regex(pc.fill_null(parts.field("unit"), ""), _RANGE_TAIL)
        matched = pc.and_(parts.is_valid(), pc.invert(ranged)).to_numpy(zero_copy_only=False)
        has_comma = pc.match_substring_regex(unique_text, _COMMA).to_numpy(zero_copy_only=False)
        grouped = pc.match_substring_regex(unique_text, _THOUSANDS).to_numpy(zero_copy_only=False)
        if commas == "thousands":
            undecided = has_comma & ~grouped
            matched = matched & ~undecided
            ambiguous[slow] = undecided[codes]
        elif commas != "auto" or (has_comma & ~grouped).any():
            matched = matched & ~has_comma
            ambiguous[slow] = has_comma[codes]
        num = pc.replace_substring(parts.field("num"), ",", "")
        has_digit = pc.match_substring_regex(num, r"\d")  # "+" alone must not reach cast()
        num = pc.if_else(has_digit, num, pa.scalar(None, pa.string()))
        parsed = pc.cast(num, pa.float64()).to_numpy(zero_copy_only=False)
        parsed = np.where(matched, parsed, np.nan)
        unit_text = np.asarray(pc.utf8_trim_whitespace(parts.field("unit")), dtype=object)
        values[slow] = parsed[codes]
        units[slow] = unit_text[codes]
    bad = (values.isna() & ~missing) | ambiguous
    # inf from "1e999" is not a usable measurement
    bad |= np.isinf(values.to_numpy())
    values[bad] = np.nan
    units[bad] = ""
    return values, units, missing, bad


def _all_plain(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series] | None:
    """``split_numbers`` of a column whose every cell is a plain number as written
    ("12.5", "-3", "1e3": the common column), in one RE2 pass and a cast; None for any
    other column. Such a cell has nothing to clean (ASCII, no blank, no missing marker,
    no parenthesis, no unit, no comma), so the general path would read it the same; a
    dot group ("2.000") is a decimal point here as there, unless commas are decimal."""
    cells = arrow_cells(series)
    if cells is NO_TEXT or cells is UNTYPED:
        return None
    if not pa.types.is_string(cells.type) and not pa.types.is_large_string(cells.type):
        return None
    if cells.null_count or not pc.all(pc.match_substring_regex(cells, _PLAIN)).as_py():
        return None
    values = pd.Series(
        pc.cast(cells, pa.float64()).to_numpy(zero_copy_only=False),
        index=series.index,
        dtype="float64",
    )
    bad = pd.Series(np.isinf(values.to_numpy()), index=series.index)  # "1e999"
    values[bad] = np.nan
    # Arrow-backed: the unit checks after this (units.convert_cells, the notices) are
    # then one kernel each instead of a pass over Python strings.
    units = pd.Series("", index=series.index, dtype="str")
    return values, units, pd.Series(False, index=series.index), bad


def multiplied(values: pd.Series, units: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Values whose cell unit starts with 万 or 亿 multiplied out, the rest of the unit
    kept ("1.2万人次" → 12000 "人次"); a registered unit starting so ("万m³/d") stays.
    Callers with a column unit of their own refuse a multiplier over one that has one
    (``units.convert_cells``)."""
    marked = units.str[:1].isin(list(MULTIPLIERS))
    if not marked.any():
        return values, units
    values, units = values.copy(), units.copy()
    for spelling in units[marked].unique():
        if canonical_unit(spelling) is not None:
            continue
        cells = units == spelling
        values[cells] = times(values[cells], MULTIPLIERS[spelling[0]])
        units[cells] = spelling[1:].strip()
    return values, units


# Chinese measure words that may follow a count without changing its meaning.
COUNT_WORDS = frozenset(
    {
        "人",
        "人次",
        "次",
        "个",
        "台",
        "张",
        "床",
        "辆",
        "起",
        "座",
        "处",
        "家",
        "户",
        "件",
        "名",
        "例",
    }
)


def parse_integers(
    series: pd.Series, *, decimal_comma: bool = False, commas: str = "auto"
) -> tuple[pd.Series, pd.Series, pd.Series]:
    """Integer cells ("1,234", "１２", "12.0"); return (Int64 values, missing, bad)."""
    values, units, missing, bad = split_numbers(series, decimal_comma=decimal_comma, commas=commas)
    values, units = multiplied(values, units)
    counted = units.isin(COUNT_WORDS)  # "2人", "1,200张": a count with its measure word
    bad = bad | ((units != "") & ~counted) | (values.notna() & (values != np.floor(values)))
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
