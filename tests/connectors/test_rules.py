"""Profile rules on raw cells (connectors.normalisers.rules): value maps, district naming, lookups.

Properties (hypothesis): a mapped spelling, however it is padded, spaced or written in
full width, becomes its value and nothing else changes; a looked-up name becomes its id,
a name outside the table is a row error naming the row, column and cell as written, a
name of two ids is an ambiguity error, and empty cells stay empty and pass.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.normalisers.rules import (
    FieldRules,
    Lookup,
    apply,
    fold,
    look_up,
    map_values,
    name_districts,
)
from connectors.normalisers.text import MISSING_MARKERS

FULLWIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})

# Spellings as departments type them: CJK words, ASCII codes and digits.
words = st.text(
    alphabet=st.sampled_from("桥隧泵站开停机正常故障检修南浦杨卢徐外白渡ABCQLxyz0123456789-"),
    min_size=1,
    max_size=6,
).filter(lambda text: text.strip() and text not in MISSING_MARKERS)


def disguise(text: str, draw) -> str:
    """The same spelling as a file may hold it: padded, spaced, full width, other case."""
    if draw(st.booleans()):
        text = text.translate(FULLWIDTH)
    if draw(st.booleans()) and len(text) > 1:
        cut = draw(st.integers(1, len(text) - 1))
        text = text[:cut] + draw(st.sampled_from([" ", "\u3000", "  "])) + text[cut:]
    if draw(st.booleans()):
        text = text.swapcase()
    return draw(st.sampled_from(["", " ", "\t"])) + text + draw(st.sampled_from(["", " "]))


@st.composite
def mapped_cells(draw):
    """(mapping, cells, expected): each cell a disguised spelling or an unmapped text."""
    spellings = draw(st.lists(words, min_size=1, max_size=6, unique_by=fold))
    mapping = {spelling: draw(words) for spelling in spellings}
    cells, expected = [], []
    for _ in range(draw(st.integers(0, 12))):
        if draw(st.booleans()):
            spelling = draw(st.sampled_from(spellings))
            cells.append(disguise(spelling, draw))
            expected.append(mapping[spelling])
        else:
            other = draw(words.filter(lambda text: fold(text) not in {fold(s) for s in spellings}))
            cells.append(other)
            expected.append(other)
    return mapping, cells, expected


@settings(max_examples=150, deadline=None)
@given(mapped_cells())
def test_value_maps_replace_mapped_spellings_only(case):
    mapping, cells, expected = case
    folded = {fold(spelling): value for spelling, value in mapping.items()}
    result = map_values(pd.Series(cells, dtype=object), folded)
    assert result.tolist() == expected


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["01", "1", "04", "4", "15", "15.0", "51", "１５", " 9 ", "黄浦区", "", "x"]
        ),
        max_size=10,
    )
)
def test_district_numbers_become_gb2260_codes(cells):
    result = name_districts(pd.Series(cells, dtype=object), "number").tolist()
    for cell, value in zip(cells, result, strict=True):
        bare = cell.translate({0xFF10 + d: 0x30 + d for d in range(10)}).strip()
        if bare.removesuffix(".0").isdigit():
            assert value == f"3101{int(float(bare)):02d}"
        else:
            assert value == cell


def test_statistical_division_codes_become_their_district():
    cells = pd.Series(["310115000000", "310101002", "310104000000.0", "310115", "440305000000"])
    assert name_districts(cells, "stats").tolist() == [
        "310115",
        "310101",
        "310104",
        "310115",
        "440305000000",  # not Shanghai: left to the district matcher, which refuses it
    ]
    assert name_districts(cells, "").tolist() == cells.tolist()


@st.composite
def statistical_codes(draw):
    """(cell, expected): a 9- or 12-digit statistical division code as a file holds it
    (a number cell's ".0", full width, padding) and the six digits it names, or a code
    outside Shanghai's districts and former counties (3101xx, 3102xx), left as written."""
    shanghai = draw(st.booleans())
    if shanghai:
        county = "310" + draw(st.sampled_from("12")) + draw(st.from_regex(r"\A[0-9]{2}\Z"))
    else:
        county = draw(
            st.from_regex(r"\A[0-9]{6}\Z").filter(lambda c: c[:4] not in ("3101", "3102"))
        )
    tail = draw(st.from_regex(r"\A([0-9]{3}|[0-9]{6})\Z"))
    cell = county + tail + draw(st.sampled_from(["", ".0", ".00"]))
    if draw(st.booleans()):
        cell = cell.translate(FULLWIDTH)
    cell = draw(st.sampled_from(["", " "])) + cell + draw(st.sampled_from(["", " "]))
    return cell, county if shanghai else cell


@settings(max_examples=150, deadline=None)
@given(st.lists(statistical_codes(), max_size=8))
def test_statistical_codes_of_districts_and_former_counties_name_their_six_digits(cases):
    """崇明县's codes (310230…, before it became 崇明区 in 2016) are Shanghai's too: they
    were left whole, and the district matcher refused them although its code list knows
    310230 (the archive sample accident_archive.xlsx holds one)."""
    cells = pd.Series([cell for cell, _ in cases], dtype=object)
    assert name_districts(cells, "stats").tolist() == [expected for _, expected in cases]


def test_a_former_countys_statistical_code_finds_its_district():
    import json
    from pathlib import Path

    from connectors.normalisers.districts import DistrictMatcher

    code_list = json.loads(
        (Path(__file__).resolve().parents[2] / "fixtures" / "districts.json").read_text("utf-8")
    )
    matcher = DistrictMatcher(
        [(item["code"], item["name"], item["aliases"]) for item in code_list["items"]]
    )
    cells = pd.Series(["310230102000", "310230102000.0", "310108005000", "310119"], dtype=object)
    values, missing, bad = matcher.map(name_districts(cells, "stats"))
    assert values.tolist() == ["310151", "310151", "310106", "310115"]
    assert not missing.any() and not bad.any()


@st.composite
def lookup_cases(draw):
    """A name → id table (two names sharing one spelling are ambiguous) and cells."""
    names = draw(st.lists(words, min_size=1, max_size=8, unique_by=fold))
    ids = [f"QL{index:04d}" for index in range(len(names))]
    pairs = list(zip(names, ids, strict=True))
    twin = draw(st.sampled_from([None, *names]))
    if twin is not None:
        pairs.append((disguise(twin, draw), "QL9999"))
    cells, expected = [], []
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["name", "unknown", "empty"]))
        if kind == "name":
            index = draw(st.integers(0, len(names) - 1))
            cells.append(disguise(names[index], draw))
            ambiguous = twin is not None and fold(twin) == fold(names[index])
            expected.append("ambiguous" if ambiguous else ids[index])
        elif kind == "unknown":
            cells.append(
                draw(words.filter(lambda text: fold(text) not in {fold(n) for n in names}))
            )
            expected.append("missing")
        else:
            cells.append(draw(st.sampled_from(["", "—", " ", "/"])))
            expected.append("")
    return pairs, cells, expected


@settings(max_examples=150, deadline=None)
@given(lookup_cases())
def test_lookups_find_names_and_name_every_miss(case):
    pairs, cells, expected = case
    lookup = Lookup.build(pairs, source="“桥梁档案”的“桥梁名称”")
    rows = np.arange(2, 2 + len(cells))
    values, failed, errors = look_up(
        pd.Series(cells, dtype=object), lookup, column="桥梁名称", name="bridge_id", rows=rows
    )
    assert failed.tolist() == [e in ("missing", "ambiguous") for e in expected]
    assert values.tolist() == [e if e.startswith("QL") else "" for e in expected]
    bad = [(row, cell, e) for row, cell, e in zip(rows, cells, expected, strict=True)]
    bad = [item for item in bad if item[2] in ("missing", "ambiguous")]
    assert [(error.row, error.column, error.field) for error in errors] == [
        (int(row), "桥梁名称", "bridge_id") for row, _cell, _kind in bad
    ]
    for error, (_row, cell, kind) in zip(errors, bad, strict=True):
        assert f"'{cell.strip()}'" in error.message and "“桥梁档案”的“桥梁名称”" in error.message
        assert ("对应多个值" in error.message) == (kind == "ambiguous")


def test_rules_run_in_order_map_then_district_then_lookup():
    rules = FieldRules(
        value_map={fold("老桥"): "外白渡桥"},
        lookup=Lookup.build([("外白渡桥", "QL0005")], source="x"),
    )
    values, failed, errors = apply(
        rules, pd.Series(["老 桥", "外白渡桥", ""]), column="c", name="f", rows=[2, 3, 4]
    )
    assert values.tolist() == ["QL0005", "QL0005", ""]
    assert not failed.any() and errors == []
    assert not FieldRules()  # no rule: the column is left alone
