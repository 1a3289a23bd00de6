"""Writes with object checks (issue 13, item 4): rules and mappings only on resources
one manages, work orders moved by their roles with separation of duties, feedback only
through transitions; every service call writes exactly one audit event or nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from operations.models import ResourceMapping, Rule, WorkOrder
from operations.services.rules import (
    create_rule,
    delete_mapping,
    delete_rule,
    update_mapping,
    update_rule,
)
from operations.services.workorders import transition_work_order
from permissions.models import AuditEvent
from tests.operations.conftest import gas

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(ops, make_user):
    """Users of the departments involved, with the demo's operations permissions."""
    from operations.demo import grant_role_permissions

    users = {
        "water-steward": make_user("water", steward=True),
        "fire-steward": make_user("fire", steward=True),
        "housing": make_user("housing"),
        "cityops": make_user("cityops"),
        "water": make_user("water"),
        "root": make_user(superuser=True, username="root"),
    }
    grant_role_permissions()  # make_user resets the role groups to the hub's
    return {name: type(u).objects.get(pk=u.pk) for name, u in users.items()}


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def fire_rule(ops) -> Rule:
    rule = Rule(
        name="火警伤亡",
        kind="threshold",
        hazard="火灾",
        metric="casualties",
        red=1,
        resource=ops.resources["fire-incidents"],
    )
    rule.full_clean()
    rule.save()
    return rule


# Rules and mappings ---------------------------------------------------------------------


def test_steward_cannot_add_edit_or_delete_a_rule_on_another_departments_resource(ops, people):
    steward = people["water-steward"]
    with pytest.raises(PermissionDenied):
        create_rule(
            user=steward,
            rule=Rule(
                name="越权规则",
                kind="threshold",
                hazard="火灾",
                metric="casualties",
                red=1,
                resource=ops.resources["fire-incidents"],
            ),
        )
    existing = fire_rule(ops)
    with pytest.raises(PermissionDenied):
        update_rule(user=steward, rule=existing, changes={"red": 100})
    with pytest.raises(PermissionDenied):
        delete_rule(user=steward, rule=existing)
    assert Rule.objects.get(pk=existing.pk).red == 1
    assert list(Rule.objects.values_list("name", flat=True)) == ["火警伤亡"]
    assert events("rule_change") == []


def test_own_rule_writes_are_audited_once_each(ops, people):
    steward = people["water-steward"]
    created = create_rule(
        user=steward,
        rule=Rule(
            name="积水",
            kind="threshold",
            hazard="积水",
            metric="depth",
            red=30,
            orange=20,
            resource=ops.resources["road-ponding"],
        ),
    )
    assert len(events("rule_change")) == 1
    updated = update_rule(user=steward, rule=created.obj, changes={"red": 40})
    assert updated.changes == {"red": {"old": 30.0, "new": 40}}
    with pytest.raises(PermissionDenied):  # the demo's stewards may not delete rules
        delete_rule(user=steward, rule=created.obj)
    steward.user_permissions.add(Permission.objects.get(codename="delete_rule"))
    steward = type(steward).objects.get(pk=steward.pk)
    delete_rule(user=steward, rule=created.obj)
    assert not Rule.objects.exists()
    ops_ = [(e.detail["op"], e.resource_code, e.actor) for e in events("rule_change")]
    assert ops_ == [
        ("create", "road-ponding", "water-steward"),
        ("update", "road-ponding", "water-steward"),
        ("delete", "road-ponding", "water-steward"),
    ]


def test_invalid_rule_rolls_back_without_event(ops, people):
    with pytest.raises(ValidationError):
        create_rule(
            user=people["water-steward"],
            rule=Rule(name="无阈值", kind="threshold", hazard="积水", metric="depth",
                      resource=ops.resources["road-ponding"]),
        )  # fmt: skip
    assert not Rule.objects.exists() and events("rule_change") == []


def test_compound_rule_needs_readable_event_records(ops, people):
    def compound(event_code: str) -> Rule:
        return Rule(
            name=f"积水+{event_code}",
            kind="compound",
            hazard="复合",
            metric="depth",
            threshold=15,
            level=3,
            resource=ops.resources["road-ponding"],
            event_resource=ops.resources[event_code],
            event_type="暴雨",
        )

    with pytest.raises(PermissionDenied):  # fire incidents: conditional, no grant
        create_rule(user=people["water-steward"], rule=compound("fire-incidents"))
    create_rule(user=people["water-steward"], rule=compound("weather-warnings"))
    assert list(Rule.objects.values_list("name", flat=True)) == ["积水+weather-warnings"]
    assert len(events("rule_change")) == 1


def test_mapping_of_another_department_is_refused(ops, people):
    steward = people["water-steward"]
    fire_mapping = ResourceMapping.objects.get(resource__code="fire-incidents")
    with pytest.raises(PermissionDenied):
        update_mapping(user=steward, mapping=fire_mapping, changes={"is_active": False})
    with pytest.raises(PermissionDenied):
        delete_mapping(user=steward, mapping=fire_mapping)
    assert ResourceMapping.objects.get(pk=fire_mapping.pk).is_active
    own = ResourceMapping.objects.get(resource__code="road-ponding")
    update_mapping(user=steward, mapping=own, changes={"is_active": False})
    [event] = events("mapping_change")
    assert event.detail["changes"] == {"is_active": {"old": True, "new": False}}


def rule_form(resource, **extra) -> dict:
    data = {
        "name": "越权规则",
        "kind": "threshold",
        "hazard": "火灾",
        "resource": resource.pk,
        "metric": "casualties",
        "direction": "above",
        "red": 1,
        "consecutive_n": 1,
        "event_min_level": 1,
        "is_active": "on",
    }
    return {**data, **extra}


def test_admin_add_form_refuses_another_departments_resource(ops, people, client):
    client.force_login(people["water-steward"])
    fire = ops.resources["fire-incidents"]
    response = client.post("/admin/operations/rule/add/", rule_form(fire))
    assert response.status_code == 200  # the form again, with the error on the resource
    assert response.context["adminform"].form.errors["resource"]
    assert not Rule.objects.exists() and events("rule_change") == []
    # The steward's own resource is accepted, and audited.
    ponding = ops.resources["road-ponding"]
    ok = client.post("/admin/operations/rule/add/", rule_form(ponding, metric="depth"))
    assert ok.status_code == 302
    [event] = events("rule_change")
    assert event.detail["op"] == "create" and event.resource_code == "road-ponding"


def test_admin_change_and_delete_of_another_departments_rule_are_refused(ops, people, client):
    rule = fire_rule(ops)
    client.force_login(people["water-steward"])
    base = f"/admin/operations/rule/{rule.pk}"
    change = client.post(f"{base}/change/", rule_form(rule.resource, red=100))
    assert change.status_code in (403, 404)
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code in (403, 404)
    assert Rule.objects.get(pk=rule.pk).red == 1 and events("rule_change") == []
    # The fire steward edits it through the admin: one audited change.
    client.force_login(people["fire-steward"])
    edit = rule_form(rule.resource, name=rule.name, red=2)
    assert client.post(f"{base}/change/", edit).status_code == 302
    [event] = events("rule_change")
    assert event.detail["changes"] == {"red": {"old": 1.0, "new": 2.0}}


# Work orders ----------------------------------------------------------------------------


@pytest.fixture
def order(ops) -> WorkOrder:
    """A red gas alert's order, assigned to 住建 (housing), the resource's provider."""
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


def move(user, order, to_state, feedback=""):
    return transition_work_order(user=user, work_order=order, to_state=to_state, feedback=feedback)


def resolve(order, user):
    move(user, order, "accepted")
    move(user, order, "in_progress")
    return move(user, order, "resolved", "已关阀抢修")


def test_the_resolving_department_cannot_verify(order, people):
    housing = people["housing"]
    resolve(order, housing)
    before = len(events("work_order"))
    with pytest.raises(PermissionDenied):
        move(housing, order, "verified")
    with pytest.raises(PermissionDenied):
        move(housing, order, "in_progress", "自己退回")
    with pytest.raises(PermissionDenied):  # neither provider nor ops centre
        move(people["water"], order, "verified")
    assert WorkOrder.objects.get(pk=order.pk).state == "resolved"
    assert len(events("work_order")) == before
    verified = move(people["cityops"], order, "verified")
    assert verified.department == "cityops"
    closed = move(people["cityops"], order, "closed").work_order
    steps = [(h["state"], h.get("department"), h.get("user_id")) for h in closed.history]
    assert steps == [
        ("dispatched", None, None),
        ("accepted", "housing", housing.pk),
        ("in_progress", "housing", housing.pk),
        ("resolved", "housing", housing.pk),
        ("verified", "cityops", people["cityops"].pk),
        ("closed", "cityops", people["cityops"].pk),
    ]


def test_a_member_of_both_departments_cannot_verify(order, people, make_user):
    both = make_user("housing", username="both")
    both.groups.add(people["cityops"].groups.get(name__startswith="dept:"))
    resolve(order, people["housing"])
    with pytest.raises(PermissionDenied):
        move(type(both).objects.get(pk=both.pk), order, "verified")


def test_a_superuser_cannot_verify_what_they_resolved(order, people):
    root = people["root"]
    resolve(order, root)
    with pytest.raises(PermissionDenied):
        move(root, order, "verified")
    assert move(people["cityops"], order, "verified").work_order.state == "verified"


def test_the_provider_verifies_an_order_of_another_department(ops, people):
    Rule.objects.create(
        name="p",
        kind="threshold",
        hazard="超压",
        metric="pressure",
        red=0.6,
        resource=ops.resources["gas-pipeline-pressure"],
        department=ops.departments["water"],
    )
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.7)])
    order = WorkOrder.objects.get()
    assert order.department.code == "water"
    with pytest.raises(PermissionDenied):  # housing is not the assigned department
        move(people["housing"], order, "accepted")
    resolve(order, people["water"])
    assert move(people["housing"], order, "verified").department == "housing"


def test_each_transition_writes_one_event_and_failures_none(order, people):
    housing = people["housing"]
    move(housing, order, "accepted")
    [event] = events("work_order")
    assert event.detail == {
        "work_order": order.code,
        "from": "dispatched",
        "to": "accepted",
        "department": "housing",
        "feedback": "",
    }
    assert event.resource_code == "gas-pipeline-pressure" and event.actor == "housing-staff"
    with pytest.raises(PermissionDenied):
        move(housing, order, "closed")  # not its role: refused before the state
    with pytest.raises(ValidationError):
        move(housing, order, "resolved", feedback="x")  # its role, not from accepted
    move(housing, order, "in_progress")
    with pytest.raises(ValidationError):
        move(housing, order, "resolved")  # resolving needs feedback
    assert WorkOrder.objects.get(pk=order.pk).state == "in_progress"
    assert len(events("work_order")) == 2


def test_admin_actions_follow_the_roles(order, people, client):
    url = "/admin/operations/workorder/"
    client.force_login(people["housing"])
    for action in ("accept", "start"):
        client.post(url, {"action": action, "_selected_action": [order.pk]})
    # Resolving asks for the feedback first, then stores it.
    page = client.post(url, {"action": "resolve", "_selected_action": [order.pk]})
    assert page.status_code == 200 and 'name="feedback"' in page.content.decode()
    assert WorkOrder.objects.get(pk=order.pk).state == "in_progress"
    client.post(
        url,
        {"action": "resolve", "_selected_action": [order.pk], "feedback": "已修复", "confirm": "1"},
    )
    order.refresh_from_db()
    assert (order.state, order.feedback) == ("resolved", "已修复")
    client.post(url, {"action": "verify", "_selected_action": [order.pk]})
    assert WorkOrder.objects.get(pk=order.pk).state == "resolved"  # own resolution
    client.force_login(people["cityops"])
    client.post(url, {"action": "verify", "_selected_action": [order.pk]})
    assert WorkOrder.objects.get(pk=order.pk).state == "verified"


def test_feedback_cannot_be_edited_in_the_change_form(order, people, client):
    resolve(order, people["housing"])
    client.force_login(people["housing"])
    url = f"/admin/operations/workorder/{order.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="feedback"' not in page.content.decode()
    response = client.post(url, {"feedback": "改写的反馈", "state": "verified"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert (order.feedback, order.state) == ("已关阀抢修", "resolved")


def test_api_separation_of_duties(order, people, api_client):
    url = f"/api/v1/ops/work-orders/{order.pk}/transition/"
    api_client.force_authenticate(people["housing"])
    for to in ("accepted", "in_progress"):
        assert api_client.post(url, {"to": to}, format="json").status_code == 200
    assert api_client.post(url, {"to": "resolved"}, format="json").status_code == 409
    done = api_client.post(url, {"to": "resolved", "feedback": "已处置"}, format="json")
    assert done.status_code == 200 and done.json()["feedback"] == "已处置"
    assert api_client.post(url, {"to": "verified"}, format="json").status_code == 403
    api_client.force_authenticate(people["cityops"])
    verified = api_client.post(url, {"to": "verified"}, format="json")
    assert verified.status_code == 200 and verified.json()["state"] == "verified"
    assert [e.detail["to"] for e in events("work_order")] == [
        "accepted",
        "in_progress",
        "resolved",
        "verified",
    ]
