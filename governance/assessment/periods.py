"""Assessment periods: a month (``2026-03``), a quarter (``2026-Q1``) or a year (``2026``).

Bounds are local midnights (``TIME_ZONE``, Asia/Shanghai): a period is ``[start, end)``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

MONTH, QUARTER, YEAR = "month", "quarter", "year"
# Every period the parser accepts, as one pattern (the API's OpenAPI parameter).
PERIOD_PATTERN = r"^20[0-9]{2}(-(0[1-9]|1[0-2])|-[Qq][1-4])?$"
_PATTERNS = (
    (re.compile(r"^(\d{4})-(\d{2})$"), MONTH),
    (re.compile(r"^(\d{4})-[Qq]([1-4])$"), QUARTER),
    (re.compile(r"^(\d{4})$"), YEAR),
)
_MONTHS = {MONTH: 1, QUARTER: 3, YEAR: 12}


@dataclass(frozen=True, order=True)
class Period:
    """One assessment period; ``number`` is the month (1–12), quarter (1–4) or 1."""

    year: int
    number: int
    kind: str

    @property
    def first_month(self) -> int:
        return 1 if self.kind == YEAR else (self.number - 1) * _MONTHS[self.kind] + 1

    @property
    def label(self) -> str:
        if self.kind == MONTH:
            return f"{self.year}-{self.number:02d}"
        if self.kind == QUARTER:
            return f"{self.year}-Q{self.number}"
        return str(self.year)

    @property
    def title(self) -> str:
        """The period as a 考核 office writes it: 2026年3月, 2026年第1季度, 2026年度."""
        if self.kind == MONTH:
            return _("%(year)s年%(month)s月") % {"year": self.year, "month": self.number}
        if self.kind == QUARTER:
            return _("%(year)s年第%(quarter)s季度") % {"year": self.year, "quarter": self.number}
        return _("%(year)s年度") % {"year": self.year}

    @property
    def start_date(self) -> dt.date:
        return dt.date(self.year, self.first_month, 1)

    @property
    def end_date(self) -> dt.date:
        """The first day after the period."""
        month = self.first_month + _MONTHS[self.kind]
        return dt.date(self.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)

    @property
    def last_date(self) -> dt.date:
        """The period's last day: what pages and reports show (the bound is exclusive)."""
        return self.end_date - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        return midnight(self.start_date)

    @property
    def end(self) -> dt.datetime:
        return midnight(self.end_date)

    def previous(self) -> Period:
        if self.kind == YEAR:
            return Period(self.year - 1, 1, YEAR)
        last = 12 // _MONTHS[self.kind]
        if self.number == 1:
            return Period(self.year - 1, last, self.kind)
        return Period(self.year, self.number - 1, self.kind)

    def last(self, count: int) -> list[Period]:
        """This period and the ``count - 1`` before it, oldest first."""
        periods = [self]
        while len(periods) < count:
            periods.append(periods[-1].previous())
        return periods[::-1]


def midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time()))


def parse_period(text: str) -> Period:
    """``2026-03`` | ``2026-Q1`` | ``2026``; anything else is a ValidationError naming it."""
    value = (text or "").strip()
    for pattern, kind in _PATTERNS:
        match = pattern.match(value)
        if match:
            year = int(match.group(1))
            number = int(match.group(2)) if kind != YEAR else 1
            if 2000 <= year <= 2099 and (kind != MONTH or 1 <= number <= 12):
                return Period(year, number, kind)
    raise ValidationError(
        _("考核期“%(value)s”无效：请写作 2026-03（月）、2026-Q1（季度）或 2026（年度）。"),
        params={"value": value[:40]},
        code="period",
    )


def default_period(now: dt.datetime | None = None) -> Period:
    """The last complete month: a 考核 looks back on a closed period."""
    today = timezone.localdate(now or timezone.now())
    return Period(today.year, today.month, MONTH).previous()
