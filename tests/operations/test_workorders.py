"""Work orders: dispatch on a new alert, the state machine, overdue marking."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from operations.models import Rule, WorkOrder, WorkOrderState
from operations.services.workorders import mark_overdue, transition_work_order
from tests.operations.conftest import gas

pytestmark = pytest.mark.django_db
# Deadline tests run on a frozen clock (a Saturday), so they never depend on when they run.
FROZEN = datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
frozen_clock = pytest.mark.time_machine(FROZEN, tick=False)


@pytest.fixture
def order(ops) -> WorkOrder:
    Rule.objects.create(
        name="p",
        kind="threshold",
        hazard="超压",
        metric="pressure",
        red=0.6,
        resource=ops.resources["gas-pipeline-pressure"],
    )
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.7)])
    return WorkOrder.objects.get()


@frozen_clock
def test_new_alert_dispatches_to_provider_with_level_deadlines(order):
    assert order.state == WorkOrderState.DISPATCHED
    assert order.department.code == "housing"
    assert order.alert.level == 4
    assert order.dispatched_at == FROZEN
    assert order.accept_by == FROZEN + timedelta(minutes=15)
    assert order.resolve_by == FROZEN + timedelta(hours=4)
    assert order.code.startswith("GD") and order.code.endswith(f"{order.alert_id:07d}")


def test_full_life_cycle_and_archive(order):
    for state in ("accepted", "in_progress", "resolved", "verified", "closed"):
        order = transition_work_order(
            user=None, work_order=order, to_state=state, feedback=f"{state} ok"
        ).work_order
    assert order.archived and order.closed_at is not None
    assert order.accepted_at and order.resolved_at and order.verified_at
    assert [h["state"] for h in order.history] == [
        "dispatched",
        "accepted",
        "in_progress",
        "resolved",
        "verified",
        "closed",
    ]
    assert "resolved ok" in order.feedback


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ([], "resolved"),  # cannot skip acceptance
        ([], "closed"),
        (["accepted"], "verified"),
        (["accepted", "in_progress", "resolved", "verified", "closed"], "in_progress"),
    ],
)
def test_invalid_transitions_are_refused(order, path, refused):
    for state in path:
        transition_work_order(user=None, work_order=order, to_state=state, feedback="ok")
    before = WorkOrder.objects.get(pk=order.pk)
    with pytest.raises(ValidationError):
        transition_work_order(user=None, work_order=order, to_state=refused, feedback="ok")
    assert WorkOrder.objects.get(pk=order.pk).state == before.state


def test_failed_verification_sends_back_to_work(order):
    for state in ("accepted", "in_progress", "resolved", "in_progress"):
        order = transition_work_order(
            user=None, work_order=order, to_state=state, feedback="ok"
        ).work_order
    assert order.state == WorkOrderState.IN_PROGRESS


@frozen_clock
def test_overdue_marking(order):
    assert mark_overdue(now=order.dispatched_at + timedelta(minutes=10)) == 0
    assert mark_overdue(now=order.dispatched_at + timedelta(minutes=16)) == 1
    assert WorkOrder.objects.get().overdue
    assert mark_overdue(now=timezone.now() + timedelta(days=1)) == 0  # already flagged


@frozen_clock
def test_accepted_order_overdue_only_after_resolve_deadline(order):
    transition_work_order(user=None, work_order=order, to_state="accepted")
    assert mark_overdue(now=order.dispatched_at + timedelta(hours=3)) == 0
    assert mark_overdue(now=order.dispatched_at + timedelta(hours=5)) == 1
