"""Writes of the official calendar table (工作日历): checked, written and audited at once.

Operators enter next year's holidays and 调休 working days here when the State Council
publishes them; entries override the packaged calendar (``permissions.workdays``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from hub.catalog.restricted import ADD, CHANGE, DELETE, write_service
from permissions.audit import log_event
from permissions.models import CalendarDay, CalendarDayKind
from permissions.policies import calendar_allowed
from permissions.selectors import UserLike

CALENDAR_FIELDS = ("date", "kind", "name", "source")


@dataclass(frozen=True)
class CalendarResult:
    """The entry written and whether it was new."""

    day: CalendarDay
    created: bool


def _check(day: CalendarDay) -> None:
    if day.kind not in CalendarDayKind.values:
        raise ValidationError({"kind": _("未知的日历类型。")})
    if not isinstance(day.date, dt.date):
        raise ValidationError({"date": _("请填写日期。")})


def _detail(day: CalendarDay) -> dict[str, str]:
    return {
        "date": day.date.isoformat(),
        "kind": day.kind,
        "name": day.name,
        "source": day.source,
    }


@write_service
@transaction.atomic
def save_calendar_day(
    *,
    user: UserLike,
    date: dt.date,
    kind: str,
    name: str = "",
    source: str = "",
) -> CalendarResult:
    """Enter (or replace) the official status of ``date``; operators only."""
    existing = CalendarDay.objects.select_for_update().filter(date=date).first()
    action = ADD if existing is None else CHANGE
    if not calendar_allowed(user, action):
        raise PermissionDenied(_("只有运维人员可以编辑工作日历。"))
    day = existing or CalendarDay(date=date)
    old = _detail(day) if existing is not None else None
    day.kind, day.name, day.source = kind, name.strip(), source.strip()
    _check(day)
    day.save()
    log_event(
        actor=user,
        action="calendar_change",
        fields=list(CALENDAR_FIELDS),
        detail={"calendar_day": day.pk, "old": old, "new": _detail(day)},
    )
    return CalendarResult(day=day, created=existing is None)


@write_service
@transaction.atomic
def delete_calendar_day(*, user: UserLike, day: CalendarDay) -> None:
    """Remove an entry (the packaged calendar answers for that date again)."""
    if not calendar_allowed(user, DELETE):
        raise PermissionDenied(_("只有运维人员可以编辑工作日历。"))
    old = _detail(day)
    pk = day.pk
    day.delete()
    log_event(
        actor=user,
        action="calendar_change",
        fields=list(CALENDAR_FIELDS),
        detail={"calendar_day": pk, "old": old, "new": None},
    )
