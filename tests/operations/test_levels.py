"""Pure level functions: properties over generated thresholds and series (no database)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from operations.models import Rule
from operations.rules import levels
from tests.operations.conftest import at

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


def above_rule(**kwargs) -> Rule:
    return Rule(kind="threshold", blue=1.0, yellow=2.0, orange=3.0, red=4.0, **kwargs)


@given(a=finite, b=finite)
def test_threshold_level_is_monotone_in_value(a, b):
    rule = above_rule()
    low, high = sorted((a, b))
    assert levels.level_for_value(rule, low) <= levels.level_for_value(rule, high)
    below = Rule(direction="below", blue=-1.0, yellow=-2.0, orange=-3.0, red=-4.0)
    assert levels.level_for_value(below, low) >= levels.level_for_value(below, high)


@given(values=st.lists(finite, min_size=0, max_size=8), n=st.integers(min_value=2, max_value=5))
def test_consecutive_never_exceeds_threshold_level_of_any_of_last_n(values, n):
    rule = above_rule(consecutive_n=n)
    series = [(at(-i), v) for i, v in enumerate(values)]  # newest first
    level = levels.consecutive_level(rule, series)
    if len(values) < n:
        assert level == 0
    else:
        assert level == min(levels.level_for_value(rule, v) for v in values[:n])


@given(v0=finite, v1=finite, minutes=st.integers(min_value=1, max_value=600))
def test_rate_is_change_per_hour(v0, v1, minutes):
    series = [(at(minutes), v1), (at(0), v0)]
    assert levels.rate_per_hour(series) == pytest.approx((v1 - v0) / (minutes / 60))


def test_rate_without_elapsed_time_is_undefined():
    assert levels.rate_per_hour([(at(0), 2.0), (at(0), 1.0)]) is None
    assert levels.rate_level(above_rule(), [(at(0), 9.0), (at(0), 1.0)]) == 0


def test_staleness_boundary_is_strict():
    rule = Rule(kind="staleness", stale_after_minutes=30, level=2)
    assert levels.staleness_level(rule, at(0), at(0) + timedelta(minutes=30)) == 0
    assert levels.staleness_level(rule, at(0), at(0) + timedelta(minutes=30, seconds=1)) == 2
    assert levels.staleness_level(rule, None, at(100)) == 0


def test_compound_needs_both_conditions():
    rule = Rule(kind="compound", threshold=15.0, level=3)
    assert levels.compound_level(rule, 15.0, True) == 3
    assert levels.compound_level(rule, 14.9, True) == 0
    assert levels.compound_level(rule, 40.0, False) == 0
    assert levels.compound_level(rule, None, True) == 0
