"""Work orders: dispatch for new alerts, the checked state machine, overdue marking."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog.models import Department
from operations.models import Alert, WorkOrder, WorkOrderState
from operations.models.workorders import TRANSITIONS
from operations.policies import ops_centre_code, ops_centre_department
from permissions.audit import log_event
from permissions.models import AuditEvent
from permissions.selectors import UserLike, user_department_ids

# Deadlines by alert level (1 蓝 … 4 红): (accept within, resolve within).
DEADLINES: dict[int, tuple[timedelta, timedelta]] = {
    4: (timedelta(minutes=15), timedelta(hours=4)),
    3: (timedelta(minutes=30), timedelta(hours=12)),
    2: (timedelta(hours=2), timedelta(hours=24)),
    1: (timedelta(hours=4), timedelta(hours=72)),
}

# Roles (docs/OPERATIONS.md): the assigned department works an order (accept, start,
# resolve); from these states on the checking side moves it (verify, send back, close).
CHECKED_STATES = (WorkOrderState.RESOLVED, WorkOrderState.VERIFIED)
# The ops centre dispatches (派单, to any department) and urges (督办) orders still being
# worked on: before they are resolved.
OPEN_STATES = (WorkOrderState.DISPATCHED, WorkOrderState.ACCEPTED, WorkOrderState.IN_PROGRESS)

# Which timestamp each state stamps when entered.
STAMPS = {
    WorkOrderState.ACCEPTED: "accepted_at",
    WorkOrderState.RESOLVED: "resolved_at",
    WorkOrderState.VERIFIED: "verified_at",
    WorkOrderState.CLOSED: "closed_at",
}


def work_order_code(alert: Alert, dispatched_at: datetime) -> str:
    """A readable, unique code: GD + dispatch date + alert id. Not the alert's date: that
    is its reading's time, which a grant may withhold from those who see the order."""
    return f"GD{timezone.localtime(dispatched_at):%Y%m%d}{alert.pk:07d}"


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
                code=work_order_code(alert, now),
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


@dataclass(frozen=True)
class WorkOrderTransition:
    """One move of a work order: the order after it, the acting department's code ("" for
    the system or a superuser outside every department) and its audit event."""

    work_order: WorkOrder
    from_state: str
    to_state: str
    department: str
    event: AuditEvent


def state_label(state: str) -> str:
    """The state's name in the active language (never the code)."""
    try:
        return str(WorkOrderState(state).label)
    except ValueError:
        return state


def _work_department(user: UserLike | None, order: WorkOrder) -> Department | None:
    """Accept, start and resolve: the assigned department's staff (or a superuser)."""
    if user is None or user.is_superuser or order.department_id in user_department_ids(user):
        return order.department
    raise PermissionDenied(_("只有处置部门可以签收、处置和办结工单。"))


def _resolver_id(order: WorkOrder) -> int | None:
    resolved = [h for h in order.history if h.get("state") == WorkOrderState.RESOLVED]
    return resolved[-1].get("user_id") if resolved else None


def _check_department(user: UserLike | None, order: WorkOrder) -> Department | None:
    """Verify, send back and close: the alert resource's provider or the ops centre,
    never the department that resolved the order nor the user who did (separation of
    duties, superusers included)."""
    if user is None:
        return None
    departments = user_department_ids(user)
    if order.department_id in departments or _resolver_id(order) == user.pk:
        raise PermissionDenied(_("办结工单的部门不能核查或归档该工单。"))
    checkers = Department.objects.filter(
        Q(pk=order.alert.resource.provider_id) | Q(code=ops_centre_code()), pk__in=departments
    ).order_by("pk")
    # The provider first: it knows its assets best.
    ranked = sorted(checkers, key=lambda d: d.pk != order.alert.resource.provider_id)
    if ranked:
        return ranked[0]
    if user.is_superuser:
        return None
    raise PermissionDenied(_("只有数据提供方或城运中心可以核查和归档工单。"))


# Moves made by whoever checks the order (provider or ops centre), not by its department.
CHECKING_MOVES = ("send_back", "verify", "close")


def check_move_role(*, user: UserLike | None, order: WorkOrder, move: str) -> None:
    """Raise PermissionDenied unless ``user`` holds the role of ``move`` (a name of
    ``MOVES``), whatever the order's state: asked before the state, so that a caller
    outside the role is refused as such (403) and not told the order's state (409)."""
    if move in CHECKING_MOVES:
        _check_department(user, order)
    else:
        _work_department(user, order)


def _check_target_role(user: UserLike | None, order: WorkOrder, to_state: str) -> None:
    # The move a target state means from here: into progress from resolved is a send back.
    checking = to_state in (WorkOrderState.VERIFIED, WorkOrderState.CLOSED) or (
        to_state == WorkOrderState.IN_PROGRESS and order.state == WorkOrderState.RESOLVED
    )
    if to_state in {target for target, _sources in MOVES.values()}:
        check_move_role(user=user, order=order, move="verify" if checking else "accept")


@transaction.atomic
def transition_work_order(
    *,
    user: UserLike | None,
    work_order: WorkOrder,
    to_state: str,
    feedback: str = "",
    at: datetime | None = None,
) -> WorkOrderTransition:
    """Move a work order along the state machine, checked, recorded and audited.

    ``user`` None is the system (demo loader). Invalid moves, and a resolve or a send
    back without feedback, raise ValidationError; a user outside the move's role
    PermissionDenied.
    """
    if user is not None and not (getattr(user, "is_authenticated", False) and user.is_active):
        raise PermissionDenied(_("请先登录。"))
    order = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("alert__resource", "department")
        .get(pk=work_order.pk)
    )
    from_state = order.state
    _check_target_role(user, order, to_state)
    if to_state not in TRANSITIONS.get(from_state, ()):
        raise ValidationError(
            _("工单不能从“%(from)s”变为“%(to)s”。")
            % {"from": state_label(from_state), "to": state_label(to_state)}
        )
    if from_state in CHECKED_STATES:
        department = _check_department(user, order)
    else:
        department = _work_department(user, order)
    feedback = feedback.strip()
    if to_state == WorkOrderState.RESOLVED and not feedback:
        raise ValidationError({"feedback": _("办结须填写处置反馈。")})
    sent_back = from_state == WorkOrderState.RESOLVED and to_state == WorkOrderState.IN_PROGRESS
    if sent_back and not feedback:
        raise ValidationError({"feedback": _("退回处置须说明理由。")})
    at = at or timezone.now()
    order.state = to_state
    if to_state in STAMPS:
        setattr(order, STAMPS[to_state], at)
    if feedback:
        order.feedback = f"{order.feedback}\n{feedback}".strip()
    code = department.code if department else ""
    event = _record(
        user=user,
        order=order,
        from_state=from_state,
        step=to_state,
        at=at,
        department=code,
        feedback=feedback,
    )
    return WorkOrderTransition(order, from_state, to_state, code, event)


def _record(
    *,
    user: UserLike | None,
    order: WorkOrder,
    from_state: str,
    step: str,
    at: datetime,
    department: str,
    feedback: str,
    action: str = "",
    extra: dict | None = None,
) -> AuditEvent:
    """Append the step to the order's history, save it and audit it."""
    entry = {
        "state": order.state,
        "at": at.isoformat(),
        "by": user.get_username() if user is not None else "system",
        "user_id": user.pk if user is not None else None,
        "department": department,
        "feedback": feedback,
        **({"action": action} if action else {}),
        **(extra or {}),
    }
    order.history = [*order.history, entry]
    order.save()
    return log_event(
        actor=user,
        action="work_order",
        resource=order.alert.resource,
        detail={
            "work_order": order.code,
            "from": from_state,
            "to": order.state,
            "department": department,
            "feedback": feedback,
            **({"step": action} if action else {}),
            **(extra or {}),
        },
    )


def _ops_centre(user: UserLike | None, message: str) -> Department | None:
    """Dispatch and urge: ops centre staff or a superuser (None: the system)."""
    if user is not None and not (getattr(user, "is_authenticated", False) and user.is_active):
        raise PermissionDenied(_("请先登录。"))
    if user is None:
        return None
    centre = ops_centre_department(user)
    if centre is None and not user.is_superuser:
        raise PermissionDenied(message)
    return centre


def check_ops_centre(*, user: UserLike | None, action: str) -> None:
    """Raise PermissionDenied unless ``user`` may dispatch or urge (``action``): views ask
    before they read the request body, so a caller without the right learns nothing from
    validation errors."""
    messages = {"dispatch": _("只有城运中心可以派单。"), "urge": _("只有城运中心可以督办。")}
    _ops_centre(user, messages[action])


def _open_order(work_order: WorkOrder, verb: str) -> WorkOrder:
    order = (
        WorkOrder.objects.select_for_update(of=("self",))
        .select_related("alert__resource", "department")
        .get(pk=work_order.pk)
    )
    if order.state not in OPEN_STATES:
        raise ValidationError(
            _("“%(state)s”的工单不能%(verb)s。") % {"state": state_label(order.state), "verb": verb}
        )
    return order


@transaction.atomic
def dispatch_work_order(
    *,
    user: UserLike | None,
    work_order: WorkOrder,
    department: Department,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrderTransition:
    """派单: the ops centre (re)assigns an order still being worked on to ``department``;
    the order starts again as dispatched with fresh deadlines, checked and audited."""
    centre = _ops_centre(user, _("只有城运中心可以派单。"))
    order = _open_order(work_order, _("派单"))
    if not department.is_active:
        raise ValidationError({"department": _("部门已停用。")})
    at = at or timezone.now()
    accept, resolve = DEADLINES[order.alert.level]
    from_state = order.state
    previous = order.department.code
    order.department = department
    order.state = WorkOrderState.DISPATCHED
    order.dispatched_at, order.accepted_at = at, None
    order.accept_by, order.resolve_by = at + accept, at + resolve
    order.overdue = False
    code = centre.code if centre else ""
    event = _record(
        user=user,
        order=order,
        from_state=from_state,
        step=order.state,
        at=at,
        department=code,
        feedback=note.strip(),
        action="dispatch",
        extra={"to_department": department.code, "from_department": previous},
    )
    return WorkOrderTransition(order, from_state, order.state, code, event)


@transaction.atomic
def urge_work_order(
    *, user: UserLike | None, work_order: WorkOrder, note: str = "", at: datetime | None = None
) -> WorkOrderTransition:
    """督办: the ops centre presses the assigned department on an open order; the state
    does not change, the urge is in the history and the audit log."""
    centre = _ops_centre(user, _("只有城运中心可以督办。"))
    order = _open_order(work_order, _("督办"))
    code = centre.code if centre else ""
    event = _record(
        user=user,
        order=order,
        from_state=order.state,
        step=order.state,
        at=at or timezone.now(),
        department=code,
        feedback=note.strip(),
        action="urge",
    )
    return WorkOrderTransition(order, order.state, order.state, code, event)


def mark_overdue(*, now: datetime | None = None) -> int:
    """Flag open work orders past their accept or resolve deadline; returns how many."""
    now = now or timezone.now()
    late = Q(state=WorkOrderState.DISPATCHED, accept_by__lt=now) | Q(
        state__in=[WorkOrderState.ACCEPTED, WorkOrderState.IN_PROGRESS], resolve_by__lt=now
    )
    return WorkOrder.objects.filter(late, overdue=False).update(overdue=True)


# The moves offered by /ops/ and the admin: name → (target state, from states).
MOVES: dict[str, tuple[str, tuple[str, ...]]] = {
    "accept": (WorkOrderState.ACCEPTED, (WorkOrderState.DISPATCHED,)),
    "start": (WorkOrderState.IN_PROGRESS, (WorkOrderState.ACCEPTED,)),
    "resolve": (WorkOrderState.RESOLVED, (WorkOrderState.IN_PROGRESS,)),
    "send_back": (WorkOrderState.IN_PROGRESS, (WorkOrderState.RESOLVED,)),
    "verify": (WorkOrderState.VERIFIED, (WorkOrderState.RESOLVED,)),
    "close": (WorkOrderState.CLOSED, (WorkOrderState.VERIFIED,)),
}


def available_moves(*, user: UserLike, order: WorkOrder) -> list[str]:
    """The moves ``user`` may make on ``order`` now (dispatch, urge, accept, start,
    resolve, send_back, verify, close), by the same checks as the services."""
    if not (getattr(user, "is_authenticated", False) and user.is_active):
        return []
    moves = []
    if order.state in OPEN_STATES and (user.is_superuser or ops_centre_department(user)):
        moves += ["dispatch", "urge"]
    for name, (_target, sources) in MOVES.items():
        if order.state not in sources:
            continue
        try:
            if order.state in CHECKED_STATES:
                _check_department(user, order)
            else:
                _work_department(user, order)
        except PermissionDenied:
            continue
        moves.append(name)
    return moves
