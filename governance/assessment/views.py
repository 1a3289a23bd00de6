"""The 考核 page (/governance/assessment/) and its XLSX export, for the 共享主管部门.

Only superusers and staff of ``HUB_SHARING_AUTHORITY_DEPARTMENT`` (``may_assess``) get
them; other signed-in users get the friendly 403 page, anonymous callers the login. The
figures are computed from raw rows on each request (``selectors.assess``); each view and
each download is audited (``read`` / ``export``, ``detail.view = "assessment"``).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.assessment import report, selectors
from governance.assessment.periods import QUARTER, YEAR, Period, default_period, parse_period
from governance.assessment.registry import RATE
from permissions.audit import log_event
from permissions.policies import may_assess

MAX_TREND_PERIODS = 24


def _period(request: HttpRequest) -> Period:
    text = request.GET.get("period")
    return parse_period(text) if text else default_period()


def _trend_count(request: HttpRequest) -> int:
    text = request.GET.get("periods")
    if not text:
        return selectors.trend_periods()
    if not (text.isascii() and text.isdigit()) or not 2 <= int(text) <= MAX_TREND_PERIODS:
        raise ValidationError(
            _("参数 periods 须为 2 到 %(max)s 之间的整数。") % {"max": MAX_TREND_PERIODS}
        )
    return int(text)


def _bad_request(error: ValidationError) -> HttpResponse:
    return HttpResponseBadRequest(
        _("；").join(error.messages), content_type="text/plain; charset=utf-8"
    )


def _check(request: HttpRequest) -> None:
    if not may_assess(request.user):
        raise PermissionDenied


def _choices() -> list[tuple[str, str]]:
    """Quick links: the last six complete months, the last four quarters, three years."""
    today = timezone.localdate()
    starts = (
        (default_period(), 6),
        (Period(today.year, (today.month - 1) // 3 + 1, QUARTER), 4),
        (Period(today.year, 1, YEAR), 3),
    )
    return [(p.label, p.title) for start, n in starts for p in reversed(start.last(n))]


def _display(value: int | float | None, kind: str) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if kind == RATE else str(value)


def _lines(table: selectors.Assessment) -> list[dict]:
    """The table as the template walks it (templates cannot index by a variable)."""
    lines = []
    for row in table.rows:
        parts = []
        for item in table.indicators:
            figures = row.figures[item.code]
            cells = [
                (column.label, _display(figures.values.get(column.key), column.kind))
                for column in item.columns
            ]
            parts.append(
                {
                    "code": item.code,
                    "label": item.label,
                    "weight": table.weights[item.code],
                    "score": None if figures.score is None else round(100 * figures.score, 1),
                    "cells": cells,
                }
            )
        lines.append({"row": row, "parts": parts})
    return lines


@login_required
def assessment_page(request: HttpRequest) -> HttpResponse:
    """考核: the ranking, each department's breakdown and the trend of the scores."""
    _check(request)
    # A typo in the 考核期 box keeps the page: the default period, the error beside the
    # form and the text as typed, status 400.
    errors = []
    try:
        period = _period(request)
    except ValidationError as exc:
        errors += exc.messages
        period = default_period()
    try:
        count = _trend_count(request)
    except ValidationError as exc:
        errors += exc.messages
        count = selectors.trend_periods()
    error, status = _("；").join(errors), 400 if errors else 200
    table = selectors.assess(user=request.user, period=period)
    trend = selectors.trend(user=request.user, period=period, count=count, now=table.computed_at)
    log_event(
        actor=request.user,
        action="read",
        rows=len(table.rows),
        detail={"view": "assessment", "period": period.label, "trend_periods": count},
    )
    context = {
        "table": table,
        "period": period,
        "choices": _choices(),
        "lines": _lines(table),
        "weights": [(item.label, table.weights[item.code]) for item in table.indicators],
        "trend": trend,
        "labels": {"score": _("综合得分"), "noData": _("无数据")},
        "error": error,
        "period_input": request.GET.get("period", "") if error else "",
    }
    return render(request, "governance/assessment.html", context, status=status)


@login_required
def assessment_export(request: HttpRequest) -> HttpResponse:
    """The period's report as XLSX (汇总 + one sheet per indicator + 说明)."""
    _check(request)
    try:
        period = _period(request)
    except ValidationError as error:
        return _bad_request(error)
    table = selectors.assess(user=request.user, period=period)
    content = report.build(table)
    log_event(
        actor=request.user,
        action="export",
        rows=len(table.rows),
        detail={"view": "assessment", "period": period.label, "format": "xlsx"},
    )
    response = HttpResponse(content, content_type=report.CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{report.filename(table)}"'
    return response
