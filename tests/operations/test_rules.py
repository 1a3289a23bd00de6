"""Rule semantics: each kind, escalation, de-escalation and closing, with exact history."""

from __future__ import annotations

import pytest

from operations.models import Alert, AlertState, MonitoringPoint, Rule, WorkOrder
from tests.operations.conftest import at, gas, ponding, warning

pytestmark = pytest.mark.django_db


def gas_rule(ops, **kwargs) -> Rule:
    defaults = {
        "name": "燃气压力超限",
        "kind": "threshold",
        "hazard": "燃气管网超压",
        "resource": ops.resources["gas-pipeline-pressure"],
        "metric": "pressure",
        "blue": 0.40,
        "yellow": 0.45,
        "orange": 0.50,
        "red": 0.60,
    }
    rule = Rule(**{**defaults, **kwargs})
    rule.full_clean()
    rule.save()
    return rule


def history(alert: Alert) -> list[tuple[str, int | None, int | None]]:
    return [(t.kind, t.from_level, t.to_level) for t in alert.transitions.order_by("at", "id")]


def test_threshold_levels_escalate_deescalate_and_close(ops):
    rule = gas_rule(ops)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.30)])
    assert Alert.objects.count() == 0

    ops.load("gas-pipeline-pressure", [gas("GP000001", 5, 0.46)])
    alert = Alert.objects.get()
    assert (alert.level, alert.state, alert.value) == (2, AlertState.OPEN, 0.46)
    assert alert.rule == rule and alert.opened_at == at(5)

    ops.load("gas-pipeline-pressure", [gas("GP000001", 10, 0.65)])
    ops.load("gas-pipeline-pressure", [gas("GP000001", 15, 0.41)])
    ops.load("gas-pipeline-pressure", [gas("GP000001", 20, 0.35)])
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED
    assert alert.closed_at == at(20) and alert.escalated_at == at(10)
    assert alert.deescalated_at == at(15)
    assert history(alert) == [
        ("opened", None, 2),
        ("escalated", 2, 4),
        ("deescalated", 4, 1),
        ("closed", 1, None),
    ]
    # A new breach after closing opens a new alert with its own work order.
    ops.load("gas-pipeline-pressure", [gas("GP000001", 25, 0.55)])
    assert Alert.objects.filter(state=AlertState.OPEN).get().level == 3
    assert WorkOrder.objects.count() == 2


def test_threshold_exactly_at_boundary_counts(ops):
    gas_rule(ops)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.50)])
    assert Alert.objects.get().level == 3


def test_below_direction_for_low_pressure(ops):
    gas_rule(ops, direction="below", blue=0.2, yellow=0.15, orange=0.1, red=0.05)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.12), gas("GP000002", 0, 0.3)])
    alert = Alert.objects.get()
    assert alert.level == 2 and alert.point.external_id == "GP000001"


def test_per_point_rule_applies_to_its_point_only(ops):
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.1), gas("GP000002", 0, 0.1)])
    point = MonitoringPoint.objects.get(external_id="GP000002")
    gas_rule(ops, point=point, blue=0.3, yellow=None, orange=None, red=None)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 5, 0.35), gas("GP000002", 5, 0.35)])
    alert = Alert.objects.get()
    assert alert.point == point and alert.level == 1


def test_consecutive_needs_n_readings_and_takes_sustained_level(ops):
    gas_rule(ops, kind="consecutive", consecutive_n=3)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.62), gas("GP000001", 5, 0.62)])
    assert Alert.objects.count() == 0  # two readings are not three
    ops.load("gas-pipeline-pressure", [gas("GP000001", 10, 0.47)])
    # Red, red, yellow: the level all three reach is yellow.
    assert Alert.objects.get().level == 2
    ops.load("gas-pipeline-pressure", [gas("GP000001", 15, 0.30)])
    assert Alert.objects.get().state == AlertState.CLOSED


def test_consecutive_interrupted_by_normal_reading_does_not_fire(ops):
    gas_rule(ops, kind="consecutive", consecutive_n=3)
    rows = [gas("GP000001", 0, 0.7), gas("GP000001", 5, 0.3), gas("GP000001", 10, 0.7)]
    ops.load("gas-pipeline-pressure", rows)
    assert Alert.objects.count() == 0


def test_rate_of_change_per_hour(ops):
    # Rise per hour: 0.1 MPa/h blue … 0.4 MPa/h red.
    gas_rule(ops, kind="rate", blue=0.1, yellow=0.2, orange=0.3, red=0.4)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.30), gas("GP000001", 30, 0.40)])
    alert = Alert.objects.get()  # 0.1 MPa in 30 min = 0.2 MPa/h
    assert alert.level == 2 and alert.value == pytest.approx(0.2)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 60, 0.40)])
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED and history(alert)[-1] == ("closed", 2, None)


def test_rate_needs_two_readings(ops):
    gas_rule(ops, kind="rate", blue=0.1)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.9)])
    assert Alert.objects.count() == 0


def test_staleness_by_clock(ops):
    from operations.services.periodic import check_staleness

    gas_rule(ops, kind="staleness", stale_after_minutes=30, level=1, metric="")
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)])
    # The sync evaluates against the real clock: readings of 2025 are long stale.
    assert Alert.objects.get().level == 1
    check_staleness(now=at(20))  # 20 minutes later: not stale any more
    alert = Alert.objects.get()
    assert alert.state == AlertState.CLOSED and alert.closed_at == at(20)
    counts = check_staleness(now=at(45))
    assert counts["opened"] == 1
    assert Alert.objects.filter(state=AlertState.OPEN).get().opened_at == at(45)


def compound_rule(ops) -> Rule:
    rule = Rule(
        name="暴雨叠加道路积水",
        kind="compound",
        hazard="城市内涝",
        resource=ops.resources["road-ponding"],
        metric="depth",
        threshold=15,
        level=3,
        event_resource=ops.resources["weather-warnings"],
        event_type="暴雨",
        event_min_level=2,
        department=ops.departments["emergency"],
    )
    rule.full_clean()
    rule.save()
    return rule


def test_compound_rule_needs_warning_and_ponding_in_same_district(ops):
    compound_rule(ops)
    ops.load("road-ponding", [ponding("PD01", 0, 20, district="310115")])
    assert Alert.objects.count() == 0  # ponding alone
    # A rainstorm warning in another district does not combine.
    ops.load("weather-warnings", [warning("W1", -10, district="310104")])
    assert Alert.objects.count() == 0
    ops.load("weather-warnings", [warning("W2", -10, district="310115")])
    alert = Alert.objects.get()
    assert (alert.level, alert.scope, alert.district_code) == (3, "district:310115", "310115")
    assert alert.other_resource == ops.resources["weather-warnings"]
    assert alert.work_order.department == ops.departments["emergency"]
    # Ponding recedes below the threshold: the area alert closes.
    ops.load("road-ponding", [ponding("PD01", 20, 10, district="310115")])
    alert.refresh_from_db()
    assert alert.state == AlertState.CLOSED and alert.closed_at == at(20)


def test_compound_rule_ignores_weak_or_lifted_warnings(ops):
    compound_rule(ops)
    ops.load("weather-warnings", [warning("W1", -10, level="蓝色")])
    ops.load("road-ponding", [ponding("PD01", 0, 30)])
    assert Alert.objects.count() == 0  # blue is below the rule's minimum (yellow)
    ops.load("weather-warnings", [warning("W2", -5, lifted_at=at(-1))])
    ops.load("road-ponding", [ponding("PD01", 5, 30)])
    assert Alert.objects.count() == 0  # lifted before the reading


def test_rule_validation_refuses_incoherent_rules(ops):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        gas_rule(ops, red=0.3)  # red below orange for an "above" rule
    with pytest.raises(ValidationError):
        gas_rule(ops, kind="consecutive", consecutive_n=1)
    with pytest.raises(ValidationError):
        gas_rule(ops, kind="staleness", metric="")
