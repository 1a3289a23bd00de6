"""Work orders: dispatch for new alerts, the state machine, overdue marking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from operations.models import Alert, WorkOrder, WorkOrderState
from operations.models.workorders import TRANSITIONS

# Deadlines by alert level (1 蓝 … 4 红): (accept within, resolve within).
DEADLINES: dict[int, tuple[timedelta, timedelta]] = {
    4: (timedelta(minutes=15), timedelta(hours=4)),
    3: (timedelta(minutes=30), timedelta(hours=12)),
    2: (timedelta(hours=2), timedelta(hours=24)),
    1: (timedelta(hours=4), timedelta(hours=72)),
}

# Which timestamp each state stamps when entered.
STAMPS = {
    WorkOrderState.ACCEPTED: "accepted_at",
    WorkOrderState.RESOLVED: "resolved_at",
    WorkOrderState.VERIFIED: "verified_at",
    WorkOrderState.CLOSED: "closed_at",
}


def work_order_code(alert: Alert) -> str:
    """A readable, unique code: GD + alert date + alert id."""
    return f"GD{timezone.localtime(alert.opened_at):%Y%m%d}{alert.pk:07d}"


def dispatch_for_alerts(
    *, alerts: Sequence[Alert], departments: Mapping[tuple[int | None, str], int]
) -> list[WorkOrder]:
    """Create one dispatched work order per new alert, to the responsible department."""
    now = timezone.now()
    orders = []
    for alert in alerts:
        accept, resolve = DEADLINES[alert.level]
        orders.append(
            WorkOrder(
                code=work_order_code(alert),
                alert=alert,
                department_id=departments[(alert.rule_id, alert.scope)],
                state=WorkOrderState.DISPATCHED,
                dispatched_at=now,
                accept_by=now + accept,
                resolve_by=now + resolve,
                history=[{"state": WorkOrderState.DISPATCHED, "at": now.isoformat()}],
            )
        )
    return WorkOrder.objects.bulk_create(orders, ignore_conflicts=False)


@transaction.atomic
def transition_work_order(
    *,
    work_order_id: int,
    to_state: str,
    feedback: str = "",
    actor: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Move a work order along the state machine; invalid moves raise ValidationError."""
    order = WorkOrder.objects.select_for_update().get(pk=work_order_id)
    if to_state not in TRANSITIONS.get(order.state, ()):
        raise ValidationError(
            _("工单不能从“%(from)s”变为“%(to)s”。") % {"from": order.state, "to": to_state}
        )
    at = at or timezone.now()
    order.state = to_state
    if to_state in STAMPS:
        setattr(order, STAMPS[to_state], at)
    if feedback:
        order.feedback = f"{order.feedback}\n{feedback}".strip()
    order.history = [
        *order.history,
        {"state": to_state, "at": at.isoformat(), "by": actor, "feedback": feedback},
    ]
    order.save()
    return order


def mark_overdue(*, now: datetime | None = None) -> int:
    """Flag open work orders past their accept or resolve deadline; returns how many."""
    now = now or timezone.now()
    late = Q(state=WorkOrderState.DISPATCHED, accept_by__lt=now) | Q(
        state__in=[WorkOrderState.ACCEPTED, WorkOrderState.IN_PROGRESS], resolve_by__lt=now
    )
    return WorkOrder.objects.filter(late, overdue=False).update(overdue=True)
