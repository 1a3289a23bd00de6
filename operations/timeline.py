"""The closed loop of one work order, for people: 监测 → 研判 → 预警 → 处置.

Every step carries its stage, a localised label (states, levels, kinds in the viewer's
language), the person and department, and its time in Asia/Shanghai, computed on the
server (pages never depend on the viewer's clock). Reads go through the doors.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext

from hub.catalog.models import Department
from hub.catalog.restricted import VIEW
from operations.hazards import hazard_label
from operations.models import Alert, AlertTransition, Level, Rule, TransitionKind, WorkOrder
from operations.services.workorders import state_label
from operations.values import point_label, value_access
from permissions.selectors import UserLike

STAGES = {
    "monitor": gettext_noop("监测"),
    "judge": gettext_noop("研判"),
    "alert": gettext_noop("预警"),
    "handle": gettext_noop("处置"),
}


@dataclass(frozen=True)
class Step:
    """One step of the loop, ready to render."""

    stage: str
    stage_label: str
    label: str
    at: datetime | None
    by: str = ""
    department: str = ""
    feedback: str = ""


def local(value: datetime | str | None) -> datetime | None:
    """An aware time (or ISO string) in the server's zone (Asia/Shanghai)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return None
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return timezone.localtime(value)


def level_label(level: int | None) -> str:
    try:
        return str(Level(level).label) if level else ""
    except ValueError:
        return str(level)


def _action_label(entry: dict) -> str:
    action = entry.get("action", "")
    if action == "dispatch":
        return _("派单")
    if action == "urge":
        return _("督办")
    return state_label(entry.get("state", ""))


def _opened(first: AlertTransition | None, alert: Alert) -> datetime | None:
    return local(first.at if first else alert.opened_at)


def order_timeline(*, user: UserLike, order: WorkOrder) -> list[Step]:
    """The steps of ``order``'s loop that ``user`` may see, oldest first."""
    alert = order.alert
    stages = {key: _(label) for key, label in STAGES.items()}
    steps: list[Step] = []
    transitions = list(
        AlertTransition.objects.restrict(user, VIEW).filter(alert_id=alert.pk).order_by("at", "id")
    )
    first = transitions[0] if transitions else None
    # The reading's value and the point's name only where their fields are read in clear.
    values = value_access(user=user, model=Alert)
    # The alert's times are its readings' times: blank where those are not read in clear.
    dated = values.alert_times_clear(alert)
    point = point_label(values, alert.point) if alert.point_id else ""
    shown = values.alert_value(alert)
    value = "" if shown is None else f"{shown:g}"
    monitored = _("监测点 %(point)s 读数 %(value)s") % {
        "point": point or alert.scope,
        "value": value,
    }
    steps.append(
        Step("monitor", stages["monitor"], monitored, _opened(first, alert) if dated else None)
    )
    rule = Rule.objects.restrict(user, VIEW).filter(pk=alert.rule_id).values_list("name", flat=True)
    rule_name = rule.first() if alert.rule_id else None
    judged = _("%(hazard)s：判定为%(level)s") % {
        "hazard": hazard_label(alert.hazard),
        "level": level_label(first.to_level if first else alert.level),
    }
    if rule_name:
        # A context keeps this bare bracket pattern out of the stored-message templates.
        judged = pgettext("timeline", "%(judged)s（%(rule)s）") % {
            "judged": judged,
            "rule": rule_name,
        }
    steps.append(Step("judge", stages["judge"], judged, _opened(first, alert) if dated else None))
    for transition in transitions:
        kind = TransitionKind(transition.kind).label
        label = f"{kind} {level_label(transition.to_level or transition.from_level)}"
        at = local(transition.at) if dated else None
        steps.append(Step("alert", stages["alert"], label, at))
    names = dict(Department.objects.restrict(user, VIEW).values_list("code", "short_name"))
    # The department an entry without one was for: the assignee at that time (the first
    # re-dispatch names the one it took the order from).
    assignee = next(
        (e["from_department"] for e in order.history if e.get("from_department")),
        order.department.code,
    )
    for entry in order.history:
        label = _action_label(entry)
        target = entry.get("to_department")
        if target:
            label = f"{label} → {names.get(target, target)}"
        automatic = entry.get("state") == "dispatched" and not target and "by" not in entry
        department = entry.get("department") or (assignee if automatic else "")
        by = entry.get("by", "system")
        steps.append(
            Step(
                "handle",
                stages["handle"],
                label,
                local(entry.get("at")),
                by=_("系统") if by == "system" else by,
                department=names.get(department, department),
                feedback=entry.get("feedback", ""),
            )
        )
    return steps
