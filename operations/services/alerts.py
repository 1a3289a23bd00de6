"""Reconcile rule outcomes with open alerts: open, escalate, de-escalate, close.

Set-based: one query for the open alerts concerned, bulk inserts and updates, so a
sync that touches thousands of points stays fast. Running it twice with the same
outcomes changes nothing the second time.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from django.db.models import Q

from operations.models import Alert, AlertState, AlertTransition, TransitionKind
from operations.rules.engine import Outcome
from operations.services.workorders import dispatch_for_alerts


def _open_alerts(outcomes: Sequence[Outcome]) -> dict[tuple[int | None, str], Alert]:
    rule_ids = {o.rule.pk for o in outcomes if o.rule}
    scopes = {o.scope for o in outcomes}
    query = Q(rule_id__in=rule_ids) if rule_ids else Q(pk__in=[])
    if any(o.rule is None for o in outcomes):
        query |= Q(rule__isnull=True)
    alerts = Alert.objects.filter(query, state=AlertState.OPEN, scope__in=scopes)
    return {(a.rule_id, a.scope): a for a in alerts}


@transaction.atomic
def reconcile(*, outcomes: Sequence[Outcome]) -> dict[str, int]:
    """Apply outcomes to alerts; new alerts get a work order. Returns counts by change."""
    counts = {"opened": 0, "escalated": 0, "deescalated": 0, "closed": 0}
    if not outcomes:
        return counts
    existing = _open_alerts(outcomes)
    to_create: list[Alert] = []
    to_update: list[Alert] = []
    transitions: list[AlertTransition] = []
    for outcome in {o.key: o for o in outcomes}.values():
        alert = existing.get(outcome.key)
        if alert is None:
            if outcome.level > 0:
                to_create.append(_new_alert(outcome))
            continue
        if outcome.level == alert.level:
            continue
        kind = _change(alert, outcome)
        counts[kind] += 1
        transitions.append(
            AlertTransition(
                alert=alert,
                kind=kind,
                from_level=alert.level,
                to_level=outcome.level or None,
                value=outcome.value,
                at=outcome.at,
            )
        )
        _apply(alert, outcome, kind)
        to_update.append(alert)
    if to_update:
        Alert.objects.bulk_update(
            to_update,
            ["level", "state", "value", "escalated_at", "deescalated_at", "closed_at", "message"],
        )
    if to_create:
        created = Alert.objects.bulk_create(to_create)
        counts["opened"] = len(created)
        transitions.extend(
            AlertTransition(
                alert=a,
                kind=TransitionKind.OPENED,
                from_level=None,
                to_level=a.level,
                value=a.value,
                at=a.opened_at,
            )
            for a in created
        )
        dispatch_for_alerts(alerts=created, departments=_departments(outcomes))
    AlertTransition.objects.bulk_create(transitions)
    return counts


def _departments(outcomes: Sequence[Outcome]) -> dict[tuple[int | None, str], int]:
    return {o.key: o.department_id for o in outcomes}


def _new_alert(outcome: Outcome) -> Alert:
    return Alert(
        rule=outcome.rule,
        scope=outcome.scope,
        hazard=outcome.hazard,
        domain=outcome.domain,
        resource_id=outcome.resource_id,
        other_resource_id=outcome.other_resource_id,
        point_id=outcome.point_id,
        district_code=outcome.district_code,
        level=outcome.level,
        state=AlertState.OPEN,
        value=outcome.value,
        message=outcome.message[:300],
        opened_at=outcome.at,
    )


def _change(alert: Alert, outcome: Outcome) -> str:
    if outcome.level == 0:
        return TransitionKind.CLOSED
    return TransitionKind.ESCALATED if outcome.level > alert.level else TransitionKind.DEESCALATED


def _apply(alert: Alert, outcome: Outcome, kind: str) -> None:
    alert.value = outcome.value
    if kind == TransitionKind.CLOSED:
        alert.state = AlertState.CLOSED
        alert.closed_at = outcome.at
        return
    alert.level = outcome.level
    if kind == TransitionKind.ESCALATED:
        alert.escalated_at = outcome.at
    else:
        alert.deescalated_at = outcome.at
