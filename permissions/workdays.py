"""Working-day arithmetic for answer deadlines, on China's official calendar.

Which days are working days, first answer wins:

1. the hub's own table (``CalendarDay``, edited by operators in the admin): a holiday or a
   调休 working day entered for that date, e.g. next year's schedule as soon as the State
   Council publishes it, without a release;
2. ``HUB_HOLIDAYS`` (ISO dates in the environment): extra local closing days;
3. the ``chinesecalendar`` package (``chinese_calendar``): the published national schedule,
   holidays and 调休 working days, for the years it knows;
4. outside those years: Monday to Friday.

Days are the city's calendar days (local time, Asia/Shanghai), not UTC dates.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from django.conf import settings
from django.utils import timezone

# One deadline never spans more than this many calendar days per working day asked for
# (the longest official break is 9 days); the table is read once for that window.
WINDOW_PER_DAY = 3
WINDOW_SLACK = 30


def holidays() -> set[dt.date]:
    """Extra closing days from ``HUB_HOLIDAYS`` (ISO dates)."""
    return {dt.date.fromisoformat(day) for day in getattr(settings, "HUB_HOLIDAYS", [])}


def table_entries(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    """The operators' entries between ``start`` and ``end``: date -> is a working day."""
    from permissions.models import CalendarDay, CalendarDayKind

    rows = CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "kind")
    return {day: kind == CalendarDayKind.WORKING_DAY for day, kind in rows}


def package_working_day(day: dt.date) -> bool | None:
    """The packaged official calendar's answer, or None outside the years it covers."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def package_years() -> tuple[int, int]:
    """First and last year the packaged calendar covers."""
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


def is_working_day(
    day: dt.date,
    closed: set[dt.date] | None = None,
    entries: dict[dt.date, bool] | None = None,
) -> bool:
    """Whether ``day`` is an official working day (table, then settings, then package)."""
    entries = table_entries(day, day) if entries is None else entries
    if day in entries:
        return entries[day]
    closed = holidays() if closed is None else closed
    if day in closed:
        return False
    official = package_working_day(day)
    return day.weekday() < 5 if official is None else official


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The moment ``days`` working days after ``start`` (same time of day)."""
    closed = holidays()
    span = dt.timedelta(days=days * WINDOW_PER_DAY + WINDOW_SLACK)
    window_end = _local_date(start) + span
    entries = table_entries(_local_date(start), window_end)
    current = start
    remaining = days
    while remaining > 0:
        current += dt.timedelta(days=1)
        day = _local_date(current)
        if day > window_end:  # a very long run of entered holidays: read the next window
            entries.update(table_entries(day, day + span))
            window_end = day + span
        if is_working_day(day, closed, entries):
            remaining -= 1
    return current


def _local_date(moment: dt.datetime) -> dt.date:
    return (timezone.localtime(moment) if timezone.is_aware(moment) else moment).date()
