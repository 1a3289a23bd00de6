"""The ops centre (城运中心) under 一网统管: what it sees, what it may do from /ops/.

Ops centre staff view every department's alerts, points, readings and work orders (the
policy in operations/policies.py, audited), while raw records stay under grants;
superusers see everything; the /ops/ order page moves orders through the services with
the roles and the separation of duties of docs/OPERATIONS.md.
"""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from hub.catalog.restricted import VIEW
from hub.records.models import Record
from operations.models import Alert, MonitoringPoint, Reading, WorkOrder, WorkOrderState
from permissions.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(catalog):
    from operations import demo as ops_demo

    ops_demo.load(io.StringIO())
    return catalog


@pytest.fixture
def users(demo, make_user):
    from operations.demo import grant_role_permissions

    made = {
        "cityops": make_user("cityops", username="ops-staff"),
        "housing": make_user("housing", username="housing-staff"),
        "water": make_user("water", username="water-staff"),
        "weather": make_user("weather", username="weather-staff"),
        "root": make_user(superuser=True, username="root"),
    }
    grant_role_permissions()  # make_user resets the role groups to the hub's permissions
    return made


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def bridge_order() -> WorkOrder:
    """The red bridge order: conditional resource of 住建委, no grant for the ops centre."""
    return WorkOrder.objects.get(alert__resource__code="bridge-structural-health")


def move(client: Client, order: WorkOrder, name: str, **data):
    """POST a move from the /ops/ order page; returns the followed response."""
    url = reverse("operations:order-move", args=[order.pk])
    return client.post(url, {"move": name, **data}, follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


# --- The policy: what the ops centre sees ------------------------------------------


def test_ops_centre_sees_every_departments_alerts_points_readings_orders(users):
    cityops, water = users["cityops"], users["water"]
    bridge = bridge_order()
    assert Alert.objects.count() == 7
    assert Alert.objects.restrict(cityops, VIEW).count() == Alert.objects.count()
    assert (
        MonitoringPoint.objects.restrict(cityops, VIEW).count() == MonitoringPoint.objects.count()
    )
    assert Reading.objects.restrict(cityops, VIEW).count() == Reading.objects.count() > 0
    assert WorkOrder.objects.restrict(cityops, VIEW).count() == WorkOrder.objects.count() == 7
    # Another department without a grant on the conditional bridge resource sees none of it.
    assert not Alert.objects.restrict(water, VIEW).filter(pk=bridge.alert_id).exists()
    assert not WorkOrder.objects.restrict(water, VIEW).filter(pk=bridge.pk).exists()
    assert (
        not MonitoringPoint.objects.restrict(water, VIEW)
        .filter(resource__code="bridge-structural-health")
        .exists()
    )


def test_ops_centre_summary_covers_every_department(users, api_client):
    api_client.force_authenticate(users["cityops"])
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert summary["open_alerts"] == 7
    assert summary["districts"]["310101"] == 4  # the red bridge alert in 黄浦区, no grant needed
    assert sum(summary["work_orders"].values()) == 7
    api_client.force_authenticate(users["water"])
    assert api_client.get("/api/v1/ops/summary/").json()["districts"].get("310101", 0) < 4


def test_ops_centre_raw_records_stay_governed_by_grants(users, demo):
    cityops = users["cityops"]
    bridge = demo["resources"]["bridge-structural-health"]
    assert Record.objects.filter(resource=bridge).exists()
    assert not Record.objects.restrict(cityops, "view_records", resource=bridge).exists()
    # Only ``view`` widens: record-level actions on derived objects follow the grants.
    assert not Alert.objects.restrict(cityops, "view_records").filter(resource=bridge).exists()
    assert (
        not MonitoringPoint.objects.restrict(cityops, "view_records")
        .filter(resource=bridge)
        .exists()
    )
    client = client_for(cityops)
    assert client.get(f"/api/v1/resources/{bridge.code}/records/").status_code in (403, 404)


def test_the_policy_is_configurable(users, settings):
    settings.HUB_OPS_CENTRE_SEES_ALL = False
    cityops = users["cityops"]
    bridge = bridge_order()
    assert not Alert.objects.restrict(cityops, VIEW).filter(pk=bridge.alert_id).exists()
    assert not WorkOrder.objects.restrict(cityops, VIEW).filter(pk=bridge.pk).exists()


def test_another_department_as_ops_centre(users, settings, make_user):
    settings.HUB_OPS_CENTRE_DEPARTMENT = "emergency"
    emergency = make_user("emergency", username="em-staff")
    assert Alert.objects.restrict(emergency, VIEW).count() == 7
    assert Alert.objects.restrict(users["cityops"], VIEW).count() < 7


def test_ops_centre_reads_are_audited(users, api_client):
    api_client.force_authenticate(users["cityops"])
    before = AuditEvent.objects.count()
    assert api_client.get("/api/v1/ops/alerts/").status_code == 200
    event = AuditEvent.objects.order_by("-sequence").first()
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "read" and event.actor == "ops-staff"
    assert event.detail == {"ops_centre": "cityops", "view": "api:ops-alert:list"}
    assert event.rows == 7
    client = client_for(users["cityops"])
    client.get(reverse("operations:screen-data"))
    assert AuditEvent.objects.order_by("-sequence").first().detail["view"] == "screen_data"
    # Reads of other departments' staff go through their grants: not logged as such.
    api_client.force_authenticate(users["water"])
    count = AuditEvent.objects.count()
    api_client.get("/api/v1/ops/alerts/")
    assert AuditEvent.objects.count() == count


def test_superuser_sees_every_order_and_their_timeliness(users, api_client):
    root = users["root"]
    assert WorkOrder.objects.restrict(root, VIEW).count() == 7
    api_client.force_authenticate(root)
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert sum(summary["work_orders"].values()) == 7
    assert api_client.get("/api/v1/ops/work-orders/").json()["count"] == 7
    assert (
        client_for(root).get(reverse("operations:order", args=[bridge_order().pk])).status_code
        == 200
    )


# --- Moves from /ops/: roles and separation of duties -----------------------------


def test_closed_loop_from_ops_page(users):
    ops, water, housing = (client_for(users[k]) for k in ("cityops", "water", "housing"))
    order = bridge_order()
    # The ops centre dispatches the order to 水务局.
    response = move(
        ops,
        order,
        "dispatch",
        department=users["water"].groups.get(department__isnull=False).department.pk,
        feedback="请水务局现场处置",
    )
    assert "完成" in messages_of(response)[0]
    order.refresh_from_db()
    assert order.department.code == "water" and order.state == WorkOrderState.DISPATCHED
    assert order.history[-1]["action"] == "dispatch"
    assert order.history[-1]["to_department"] == "water"
    assert order.history[-1]["department"] == "cityops"
    # The ops centre urges; the state does not change.
    move(ops, order, "urge", feedback="请尽快签收")
    order.refresh_from_db()
    assert order.state == WorkOrderState.DISPATCHED and order.history[-1]["action"] == "urge"
    # The assigned department sees the whole loop of its order, the alert's steps included.
    page = water.get(reverse("operations:order", args=[order.pk]))
    assert [s.stage for s in page.context["timeline"]][:3] == ["monitor", "judge", "alert"]
    # The owning department accepts, starts and resolves with feedback.
    for name in ("accept", "start"):
        assert "完成" in messages_of(move(water, order, name))[0]
    response = move(water, order, "resolve", feedback="已关闭阀门，抢修完成")
    order.refresh_from_db()
    assert order.state == WorkOrderState.RESOLVED
    assert order.history[-1]["feedback"] == "已关闭阀门，抢修完成"
    # The resolving department cannot verify; the ops centre can.
    response = move(water, order, "verify")
    assert "办结工单的部门不能核查" in messages_of(response)[0]
    order.refresh_from_db()
    assert order.state == WorkOrderState.RESOLVED
    move(ops, order, "verify")
    order.refresh_from_db()
    assert order.state == WorkOrderState.VERIFIED
    move(housing, order, "close")  # the provider closes (archives)
    order.refresh_from_db()
    assert order.state == WorkOrderState.CLOSED
    response = ops.get(reverse("operations:order", args=[order.pk]))
    handled = [
        (s.label, s.department, s.by) for s in response.context["timeline"] if s.stage == "handle"
    ]
    assert handled[:3] == [
        ("已派单", "住建委", "系统"),  # dispatched by the sync to the provider
        ("派单 → 水务局", "城运中心", "ops-staff"),
        ("督办", "城运中心", "ops-staff"),
    ]
    assert handled[-1] == ("已归档", "住建委", "housing-staff")
    page = response.content.decode()
    assert "已关闭阀门，抢修完成" in page
    for text in ("监测", "研判", "预警", "处置", "派单", "督办", "已签收", "已办结", "已核查"):
        assert text in page
    assert "ops-staff" in page and "water-staff" in page and "水务局" in page
    actions = [e.detail.get("to") for e in AuditEvent.objects.filter(action="work_order")]
    assert {"accepted", "in_progress", "resolved", "verified", "closed"} <= set(actions)


def test_ops_centre_cannot_accept_or_resolve(users):
    ops = client_for(users["cityops"])
    order = bridge_order()
    response = move(ops, order, "accept")
    assert messages_of(response) == ["签收：只有处置部门可以签收、处置和办结工单。"]
    order.refresh_from_db()
    assert order.state == WorkOrderState.DISPATCHED


def test_only_the_ops_centre_dispatches_and_urges(users):
    housing = client_for(users["housing"])
    order = bridge_order()
    water_pk = WorkOrder.objects.filter(department__code="water").first().department_id
    response = move(housing, order, "dispatch", department=water_pk)
    assert messages_of(response) == ["派单：只有城运中心可以派单。"]
    response = move(housing, order, "urge")
    assert messages_of(response) == ["督办：只有城运中心可以督办。"]
    order.refresh_from_db()
    assert order.department.code == "housing" and len(order.history) == 1


def test_illegal_move_says_state_names_not_codes(users):
    housing = client_for(users["housing"])
    order = bridge_order()
    response = move(housing, order, "resolve", feedback="x")
    assert messages_of(response) == ["办结：工单不能从“已派单”变为“已办结”。"]
    response = move(housing, order, "start")
    (message,) = messages_of(response)
    assert message == "开始处置：工单不能从“已派单”变为“处置中”。"


def test_resolve_needs_feedback(users):
    housing = client_for(users["housing"])
    order = bridge_order()
    move(housing, order, "accept")
    move(housing, order, "start")
    response = move(housing, order, "resolve", feedback="  ")
    assert messages_of(response) == ["办结：办结须填写处置反馈。"]
    order.refresh_from_db()
    assert order.state == WorkOrderState.IN_PROGRESS


def test_superuser_who_resolved_cannot_verify(users):
    root = client_for(users["root"])
    order = bridge_order()
    for name in ("accept", "start"):
        move(root, order, name)
    move(root, order, "resolve", feedback="ok")
    response = move(root, order, "verify")
    assert "办结工单的部门不能核查" in messages_of(response)[0]


def test_hidden_orders_are_404_and_moves_need_post_and_csrf(users):
    order = bridge_order()
    weather = client_for(users["weather"])  # no grant on the bridge resource
    assert weather.get(reverse("operations:order", args=[order.pk])).status_code == 404
    url = reverse("operations:order-move", args=[order.pk])
    assert weather.post(url, {"move": "accept"}).status_code == 404
    assert weather.get(reverse("operations:order", args=[10**9])).status_code == 404
    housing = client_for(users["housing"])
    assert housing.get(url).status_code == 405
    unknown = housing.post(url, {"move": "nope"}, follow=True)
    assert messages_of(unknown) == ["未知的操作。"]
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(users["housing"])
    assert strict.post(url, {"move": "accept"}).status_code == 403
    order.refresh_from_db()
    assert order.state == WorkOrderState.DISPATCHED


def test_page_offers_the_moves_of_the_role(users):
    order = bridge_order()
    ops_page = client_for(users["cityops"]).get(reverse("operations:order", args=[order.pk]))
    assert [m for m, _ in ops_page.context["moves"]] == ["dispatch", "urge"]
    housing_page = client_for(users["housing"]).get(reverse("operations:order", args=[order.pk]))
    assert [m for m, _ in housing_page.context["moves"]] == ["accept"]


# --- Localised states and Asia/Shanghai times, Chinese and English ----------------


def test_timeline_times_are_shanghai_and_states_localised(users, time_machine):
    from datetime import UTC, datetime

    order = bridge_order()
    time_machine.move_to(datetime(2026, 3, 7, 10, 0, tzinfo=UTC), tick=False)
    move(client_for(users["housing"]), order, "accept")
    client = client_for(users["cityops"])
    page = client.get(reverse("operations:order", args=[order.pk])).content.decode()
    assert "2026-03-07 18:00:00" in page  # 10:00 UTC is 18:00 in Shanghai
    assert "2026-03-07 10:00" not in page
    assert "已签收" in page and "accepted" not in re.sub(r"<[^>]+>", "", page)
    english = client.get(
        reverse("operations:order", args=[order.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    text = re.sub(r"<[^>]+>", "", english)
    assert "2026-03-07 18:00:00" in text
    for word in ("Accepted", "Monitoring", "Analysis", "Alert", "Response", "Red (level I)"):
        assert word in text, word
    assert "已签收" not in text


def test_english_illegal_move_message(users):
    housing = Client(HTTP_ACCEPT_LANGUAGE="en")
    housing.force_login(users["housing"])
    order = bridge_order()
    response = move(housing, order, "resolve", feedback="x")
    with translation.override("en"):
        assert messages_of(response) == [
            "Resolve: A work order cannot change from “Dispatched” to “Resolved”."
        ]


# --- The 大屏 ----------------------------------------------------------------------


def test_screen_and_its_data(users):
    client = client_for(users["cityops"])
    for url in (reverse("operations:screen"), reverse("operations:dashboard") + "?screen=1"):
        page = client.get(url)
        assert page.status_code == 200
        assert b'id="ticker"' in page.content and b'id="legend"' in page.content
        assert page.context["clock"]["zone"] == "Asia/Shanghai"
        assert page.context["clock"]["offset_minutes"] == 480
    data = client.get(reverse("operations:screen-data")).json()
    assert data["summary"]["open_alerts"] == 7 and len(data["alerts"]) == 7
    bridge = next(a for a in data["alerts"] if a["hazard"] == "桥梁结构异常")
    assert bridge["district"] == "黄浦区" and bridge["level_label"] == "红色（I级）"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", bridge["opened_at"])
    assert len(data["points"]) == MonitoringPoint.objects.exclude(latitude=None).count()
    assert any(p["level"] == 4 for p in data["points"])
    assert Client().get(reverse("operations:screen-data")).status_code == 302


# --- The admin -----------------------------------------------------------------------


def test_admin_history_is_a_table_and_actions_follow_roles(users):
    order = bridge_order()
    ops = client_for(users["cityops"])
    move(ops, order, "urge", feedback="尽快处置")
    page = ops.get(reverse("admin:operations_workorder_change", args=[order.pk])).content.decode()
    assert '<table class="history">' in page and "督办" in page and "尽快处置" in page
    assert '"state": "dispatched"' not in page and "dispatched" not in re.sub(r"<[^>]+>", "", page)
    event = AuditEvent.objects.order_by("-sequence").first()
    assert event.detail == {
        "ops_centre": "cityops",
        "view": "admin:workorder:view",
        "id": str(order.pk),
    }
    changelist = ops.get(reverse("admin:operations_workorder_changelist"))
    assert AuditEvent.objects.order_by("-sequence").first().detail["view"] == (
        "admin:workorder:list"
    )
    actions = [
        value for value, _label in changelist.context["action_form"].fields["action"].choices
    ]
    assert "urge" in actions and "verify" in actions and "accept" not in actions
    housing = client_for(users["housing"]).get(reverse("admin:operations_workorder_changelist"))
    actions = [value for value, _label in housing.context["action_form"].fields["action"].choices]
    assert "accept" in actions and "urge" not in actions


def test_summary_timeliness_counts_match_each_order(users, time_machine):
    from collections import Counter
    from datetime import timedelta

    from django.utils import timezone

    from operations.selectors import summary, timeliness
    from operations.services.workorders import transition_work_order

    orders = list(WorkOrder.objects.filter(state=WorkOrderState.DISPATCHED).order_by("pk"))
    for state in ("accepted", "in_progress", "resolved"):
        transition_work_order(user=None, work_order=orders[0], to_state=state, feedback="ok")
    transition_work_order(user=None, work_order=orders[1], to_state="accepted")
    # Later: the red orders are past their 15-minute acceptance, some past resolving too.
    time_machine.move_to(timezone.now() + timedelta(hours=5), tick=False)
    transition_work_order(user=None, work_order=orders[2], to_state="accepted")
    transition_work_order(user=None, work_order=orders[2], to_state="in_progress")
    transition_work_order(user=None, work_order=orders[2], to_state="resolved", feedback="late")
    now = timezone.now()
    expected = Counter(
        timeliness(o, now) for o in WorkOrder.objects.exclude(state=WorkOrderState.CLOSED)
    )
    counts = summary(user=users["root"])["work_orders"]
    assert counts == dict(expected)
    assert len(expected) >= 3  # several kinds, so the comparison means something


# --- The API: dispatch and urge ----------------------------------------------------


def test_api_dispatch_and_urge(users, api_client):
    order = bridge_order()
    base = f"/api/v1/ops/work-orders/{order.pk}"
    api_client.force_authenticate(users["housing"])
    refused = api_client.post(f"{base}/dispatch/", {"department": "water"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "只有城运中心可以派单。"
    api_client.force_authenticate(users["cityops"])
    unknown = api_client.post(f"{base}/dispatch/", {"department": "nowhere"}, format="json")
    assert unknown.status_code == 400 and "department" in unknown.json()
    moved = api_client.post(
        f"{base}/dispatch/", {"department": "water", "note": "请处置"}, format="json"
    )
    assert moved.status_code == 200
    assert moved.json()["department"] == "water" and moved.json()["state"] == "dispatched"
    urged = api_client.post(f"{base}/urge/", {"note": "尽快"}, format="json")
    assert urged.status_code == 200
    assert urged.json()["history"][-1]["action"] == "urge"
    # Hidden from a department without a grant: 404, not 403.
    api_client.force_authenticate(users["weather"])
    assert api_client.post(f"{base}/urge/", {}, format="json").status_code == 404


def test_api_dispatch_of_a_resolved_order_is_409(users, api_client):
    order = bridge_order()
    housing = client_for(users["housing"])
    for name in ("accept", "start"):
        move(housing, order, name)
    move(housing, order, "resolve", feedback="ok")
    api_client.force_authenticate(users["cityops"])
    response = api_client.post(
        f"/api/v1/ops/work-orders/{order.pk}/dispatch/", {"department": "water"}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["detail"] == ["“已办结”的工单不能派单。"]


def test_screen_data_in_english(users):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(users["cityops"])
    data = client.get(reverse("operations:screen-data")).json()
    labels = {a["level_label"] for a in data["alerts"]}
    assert "Red (level I)" in labels and not any("红" in label for label in labels)
    page = client.get(reverse("operations:screen")).content.decode()
    assert "Whole city" in page and "全市" not in re.sub(
        r"<script.*?</script>", "", page, flags=re.S
    )
