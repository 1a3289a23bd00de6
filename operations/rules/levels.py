"""Pure functions that turn readings into a level (0 = no alert, 1 蓝 … 4 红).

They take plain values so each rule kind's semantics can be tested without a database.
``series`` is a list of ``(observed_at, value)`` for one point and metric, newest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from operations.models import Direction, Rule

Series = Sequence[tuple[datetime, float]]


def level_for_value(rule: Rule, value: float) -> int:
    """The most severe level whose threshold ``value`` reaches (0 when none)."""
    above = rule.direction == Direction.ABOVE
    for level, threshold in rule.thresholds():
        if (above and value >= threshold) or (not above and value <= threshold):
            return level
    return 0


def threshold_level(rule: Rule, series: Series) -> int:
    """Threshold rule: the level of the latest reading."""
    if not series:
        return 0
    return level_for_value(rule, series[0][1])


def consecutive_level(rule: Rule, series: Series) -> int:
    """N consecutive: the level every one of the last N readings reaches (the minimum).

    Fewer than N readings never raise an alert.
    """
    n = max(rule.consecutive_n, 1)
    if len(series) < n:
        return 0
    return min(level_for_value(rule, value) for _, value in series[:n])


def rate_per_hour(series: Series) -> float | None:
    """Change per hour between the last two readings (None without two distinct times)."""
    if len(series) < 2:
        return None
    (t1, v1), (t0, v0) = series[0], series[1]
    hours = (t1 - t0).total_seconds() / 3600
    if hours <= 0:
        return None
    return (v1 - v0) / hours


def rate_level(rule: Rule, series: Series) -> int:
    """Rate of change: a rise (direction above) or a fall (below) per hour, by level."""
    rate = rate_per_hour(series)
    if rate is None:
        return 0
    return level_for_value(rule, rate)


def staleness_level(rule: Rule, last_observed_at: datetime | None, now: datetime) -> int:
    """Staleness: ``rule.level`` when the last reading is older than the allowed gap."""
    if last_observed_at is None or not rule.stale_after_minutes:
        return 0
    gap = timedelta(minutes=rule.stale_after_minutes)
    return int(rule.level or 0) if now - last_observed_at > gap else 0


def compound_level(rule: Rule, worst_value: float | None, event_active: bool) -> int:
    """Compound: ``rule.level`` when the event is active and the value reaches the threshold."""
    if not event_active or worst_value is None or rule.threshold is None:
        return 0
    above = rule.direction == Direction.ABOVE
    reached = worst_value >= rule.threshold if above else worst_value <= rule.threshold
    return int(rule.level or 0) if reached else 0
