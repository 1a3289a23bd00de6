"""The 考核 table of one period (rank, score, every indicator's figures per department)
and the trend of the scores over the last periods. Computed from raw rows on each call:
nothing is stored, so the page, the export and the API always agree with the data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from governance.assessment import registry
from governance.assessment.periods import Period
from governance.assessment.registry import Figures, Indicator
from hub.catalog.models import Department
from permissions.selectors import UserLike

DEFAULT_TREND_PERIODS = 6


@dataclass
class DepartmentRow:
    """One department's line of the table."""

    department_id: int
    code: str
    name: str
    score: float | None = None
    rank: int | None = None
    figures: dict[str, Figures] = field(default_factory=dict)


@dataclass
class Assessment:
    period: Period
    computed_at: dt.datetime
    indicators: list[Indicator]
    weights: dict[str, float]
    rows: list[DepartmentRow]


def trend_periods() -> int:
    return int(getattr(settings, "HUB_ASSESSMENT_TREND_PERIODS", DEFAULT_TREND_PERIODS))


def departments(user: UserLike) -> list[Department]:
    """The assessed departments: every active department (reference data, public)."""
    return list(Department.objects.restrict(user, "view").filter(is_active=True).order_by("code"))


def assess(*, user: UserLike, period: Period, now: dt.datetime | None = None) -> Assessment:
    """Every department's figures and score for ``period``, ranked by score (highest
    first; departments without a score last; ties share a rank, ordered by code).

    The caller checks ``may_assess(user)`` first: for anyone else the ``assess`` doors
    count nothing and every score is empty."""
    now = now or timezone.now()
    depts = departments(user)
    ids = [d.pk for d in depts]
    items = registry.indicators()
    weight_of = registry.weights()
    computed = {
        item.code: item.compute(user=user, period=period, departments=ids, now=now)
        for item in items
    }
    rows = []
    for dept in depts:
        figures = {code: computed[code][dept.pk] for code in computed}
        row = DepartmentRow(dept.pk, dept.code, dept.name, figures=figures)
        row.score = registry.score({c: f.score for c, f in figures.items()}, weight_of)
        rows.append(row)
    rows.sort(key=lambda r: (r.score is None, -(r.score or 0), r.code))
    previous, rank = None, 0
    for position, row in enumerate(rows, start=1):
        if row.score is None:
            continue
        if row.score != previous:
            rank, previous = position, row.score
        row.rank = rank
    return Assessment(period, now, items, weight_of, rows)


def trend(
    *, user: UserLike, period: Period, count: int | None = None, now: dt.datetime | None = None
) -> dict:
    """Scores of every department over the ``count`` periods ending with ``period``:
    ``{"periods": [labels], "series": [{"code", "name", "scores": [...]}]}``."""
    now = now or timezone.now()
    periods = period.last(count or trend_periods())
    tables = [assess(user=user, period=p, now=now) for p in periods]
    series = {}
    for table in tables:
        for row in table.rows:
            series.setdefault(row.code, {"code": row.code, "name": row.name, "scores": []})
            series[row.code]["scores"].append(row.score)
    return {"periods": [p.label for p in periods], "series": list(series.values())}
