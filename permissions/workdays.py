"""Working-day arithmetic for answer deadlines: weekends and configured holidays skipped."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone


def holidays() -> set[dt.date]:
    """Public holidays from ``HUB_HOLIDAYS`` (ISO dates), skipped like weekends."""
    return {dt.date.fromisoformat(day) for day in getattr(settings, "HUB_HOLIDAYS", [])}


def is_working_day(day: dt.date, closed: set[dt.date] | None = None) -> bool:
    """Monday to Friday and not a configured holiday."""
    closed = holidays() if closed is None else closed
    return day.weekday() < 5 and day not in closed


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days after ``start`` (same time of day). Days are the
    city's calendar days (local time), not UTC dates."""
    closed = holidays()
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        local = timezone.localtime(current) if timezone.is_aware(current) else current
        if is_working_day(local.date(), closed):
            remaining -= 1
    return current
