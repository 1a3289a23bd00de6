"""The arithmetic of the risk index (risk/index.py): normalisation edge cases, INFORM's
aggregation and classes, and properties (bounded, monotone) checked with hypothesis."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from risk import index
from risk.index import IndicatorInput, district_risk, normalise, normalise_all


def test_min_max_over_districts_both_directions():
    raw = {"a": 10.0, "b": 20.0, "c": 30.0}
    assert normalise(raw) == {"a": 0.0, "b": 5.0, "c": 10.0}
    # Coping capacity: more is less risk.
    assert normalise(raw, higher_is_riskier=False) == {"a": 10.0, "b": 5.0, "c": 0.0}


def test_all_equal_is_the_documented_midpoint():
    assert normalise({"a": 7.0, "b": 7.0}) == {"a": 5.0, "b": 5.0}
    assert normalise({"a": 0.0, "b": 0.0}, higher_is_riskier=False) == {"a": 5.0, "b": 5.0}
    assert normalise({"a": 3.0}) == {"a": 5.0}  # one district with a value: all equal


def test_missing_values_stay_missing_and_do_not_move_the_range():
    assert normalise({"a": 1.0, "b": None, "c": 3.0}) == {"a": 0.0, "b": None, "c": 10.0}
    assert normalise({"a": None, "b": None}) == {"a": None, "b": None}


def test_fixed_goalposts_clip():
    raw = {"a": -5.0, "b": 20.0, "c": 60.0}
    assert normalise(raw, lower_bound=0, upper_bound=40) == {"a": 0.0, "b": 5.0, "c": 10.0}
    # Goalposts apply even when every district has the same value (a calm day is 0).
    assert normalise({"a": 0.0, "b": 0.0}, lower_bound=0, upper_bound=12) == {"a": 0.0, "b": 0.0}


def test_weighted_mean_renormalises_over_present_values():
    assert index.weighted_mean([(2.0, 1.0), (8.0, 3.0)]) == pytest.approx(6.5)
    # The missing indicator's weight is dropped, not counted as zero.
    assert index.weighted_mean([(2.0, 1.0), (None, 3.0)]) == 2.0
    assert index.weighted_mean([(None, 1.0)]) is None


def test_geometric_mean_of_dimensions():
    # (2 · 4 · 8)^(1/3) = 64^(1/3) = 4
    assert index.geometric_risk(2.0, 4.0, 8.0) == pytest.approx(4.0)
    assert index.geometric_risk(0.0, 9.0, 9.0) == 0.0
    assert index.geometric_risk(None, 9.0, 9.0) is None


@pytest.mark.parametrize(
    ("risk", "expected"),
    [
        (None, "no_data"),
        (0.0, "very_low"),
        (1.94, "very_low"),
        (1.95, "low"),  # rounds to 2.0, as INFORM publishes one decimal
        (3.4, "low"),
        (3.5, "medium"),
        (4.99, "high"),
        (6.4, "high"),
        (6.5, "very_high"),
        (10.0, "very_high"),
    ],
)
def test_inform_classes(risk, expected):
    assert index.risk_class(risk) == expected


values = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


def _inputs(he: dict, v: dict, c: dict, weights=(1.0, 1.0, 1.0)) -> list[IndicatorInput]:
    return [
        IndicatorInput(code="he", dimension="hazard_exposure", weight=weights[0], raw=he),
        IndicatorInput(code="v", dimension="vulnerability", weight=weights[1], raw=v),
        IndicatorInput(
            code="c", dimension="coping", weight=weights[2], raw=c, higher_is_riskier=False
        ),
    ]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(values, values, values), min_size=1, max_size=16),
    st.tuples(*[st.floats(min_value=0.01, max_value=100)] * 3),
)
def test_index_is_between_0_and_10(rows, weights):
    districts = [f"d{i}" for i in range(len(rows))]
    he = {d: r[0] for d, r in zip(districts, rows, strict=True)}
    v = {d: r[1] for d, r in zip(districts, rows, strict=True)}
    c = {d: r[2] for d, r in zip(districts, rows, strict=True)}
    inputs = _inputs(he, v, c, weights)
    normalised = normalise_all(inputs)
    for district in districts:
        result = district_risk(district, inputs, normalised)
        for value in (result.hazard_exposure, result.vulnerability, result.coping, result.risk):
            assert value is not None and 0.0 <= value <= 10.0
        assert result.risk_class != "no_data"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(values, values, values), min_size=2, max_size=16),
    st.floats(min_value=0, max_value=1e6, allow_nan=False),
)
def test_index_is_monotone_in_a_hazard_indicator(rows, increase):
    """Raising one district's hazard value never lowers its index (others unchanged)."""
    districts = [f"d{i}" for i in range(len(rows))]
    v = {d: r[1] for d, r in zip(districts, rows, strict=True)}
    c = {d: r[2] for d, r in zip(districts, rows, strict=True)}
    before_he = {d: r[0] for d, r in zip(districts, rows, strict=True)}
    after_he = dict(before_he, d0=before_he["d0"] + increase)
    # Fixed goalposts (INFORM's for hazard indicators) and observed min–max both.
    for bounds in ((None, None), (0.0, 1e6)):
        results = []
        for he in (before_he, after_he):
            inputs = _inputs(he, v, c)
            inputs[0] = IndicatorInput(
                code="he",
                dimension="hazard_exposure",
                weight=1.0,
                raw=he,
                lower_bound=bounds[0],
                upper_bound=bounds[1],
            )
            results.append(district_risk("d0", inputs, normalise_all(inputs)).risk)
        assert results[1] >= results[0] - 1e-9


def test_monotone_example_by_hand():
    # Three districts; hazard of d0 rises from 10 to 30 while the others stay at 20 and 30.
    v = {"d0": 5.0, "d1": 1.0, "d2": 9.0}  # V: d0 → 10·(5−1)/8 = 5
    c = {"d0": 0.0, "d1": 10.0, "d2": 5.0}  # LCC (less is riskier): d0 → 10
    low = district_risk("d0", x := _inputs({"d0": 10.0, "d1": 20.0, "d2": 30.0}, v, c),
                        normalise_all(x))  # fmt: skip
    # HE of d0 is the minimum → 0 → risk 0.
    assert low.hazard_exposure == 0.0 and low.risk == 0.0
    high = district_risk("d0", y := _inputs({"d0": 30.0, "d1": 20.0, "d2": 30.0}, v, c),
                         normalise_all(y))  # fmt: skip
    # HE: 10·(30−20)/10 = 10 → risk = (10 · 5 · 10)^(1/3) = 500^(1/3) ≈ 7.937
    assert high.risk == pytest.approx(math.pow(500, 1 / 3))
    assert high.risk_class == "very_high"
