"""Ops API and dashboard: filters, and visibility through the permission chokepoint."""

from __future__ import annotations

import pytest

from operations.models import Alert, MonitoringPoint, Rule, WorkOrder
from tests.operations.conftest import at, gas, ponding

pytestmark = pytest.mark.django_db


def rule(ops, code: str, metric: str, **kwargs) -> Rule:
    return Rule.objects.create(
        name=f"{code}-{metric}",
        kind="threshold",
        hazard=f"{code} 超限",
        metric=metric,
        resource=ops.resources[code],
        **kwargs,
    )


def bridge(sensor: str, minutes: float, deflection: float, district: str = "310101") -> dict:
    return {
        "bridge_id": "B1",
        "sensor_id": sensor,
        "observed_at": at(minutes),
        "district": district,
        "deflection": deflection,
        "latitude": 31.23,
        "longitude": 121.48,
    }


@pytest.fixture
def world(ops):
    """A gas alert (unconditional, 徐汇), a bridge alert (conditional, housing only, 黄浦)."""
    rule(ops, "gas-pipeline-pressure", "pressure", yellow=0.45, red=0.6)
    rule(ops, "bridge-structural-health", "deflection", orange=100)
    rule(ops, "road-ponding", "depth", blue=10)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.7), gas("GP000002", 0, 0.1)])
    ops.load("bridge-structural-health", [bridge("S1", 0, 130)])
    ops.load("road-ponding", [ponding("PD01", 0, 12)])
    return ops


def ids(response) -> set:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


def test_anonymous_is_refused(api_client, world):
    assert api_client.get("/api/v1/ops/alerts/").status_code in (401, 403)
    assert api_client.get("/api/v1/ops/summary/").status_code in (401, 403)


def test_alert_list_filters(api_client, world, make_user):
    api_client.force_authenticate(make_user(superuser=True, username="root"))
    gas_alert = Alert.objects.get(domain="gas")
    bridge_alert = Alert.objects.get(domain="bridge")
    ponding_alert = Alert.objects.get(domain="drainage")
    assert ids(api_client.get("/api/v1/ops/alerts/")) == {
        gas_alert.pk,
        bridge_alert.pk,
        ponding_alert.pk,
    }
    assert ids(api_client.get("/api/v1/ops/alerts/?level=4")) == {gas_alert.pk}
    assert ids(api_client.get("/api/v1/ops/alerts/?domain=bridge")) == {bridge_alert.pk}
    assert ids(api_client.get("/api/v1/ops/alerts/?district=310115")) == {ponding_alert.pk}
    assert ids(api_client.get("/api/v1/ops/alerts/?state=closed")) == set()
    world.load("road-ponding", [ponding("PD01", 5, 2)])
    assert ids(api_client.get("/api/v1/ops/alerts/?state=closed")) == {ponding_alert.pk}
    detail = api_client.get(f"/api/v1/ops/alerts/{ponding_alert.pk}/").json()
    assert [t["kind"] for t in detail["transitions"]] == ["opened", "closed"]
    assert detail["work_order"]["state"] == "dispatched"


def test_other_department_does_not_see_conditional_resource(api_client, world, make_user):
    api_client.force_authenticate(make_user("water"))
    bridge_alert = Alert.objects.get(domain="bridge")
    bridge_point = MonitoringPoint.objects.get(resource__code="bridge-structural-health")
    visible = ids(api_client.get("/api/v1/ops/alerts/"))
    assert bridge_alert.pk not in visible and len(visible) == 2
    assert api_client.get(f"/api/v1/ops/alerts/{bridge_alert.pk}/").status_code == 404
    assert bridge_point.pk not in ids(api_client.get("/api/v1/ops/points/"))
    assert api_client.get(f"/api/v1/ops/points/{bridge_point.pk}/").status_code == 404
    readings = api_client.get(f"/api/v1/ops/points/{bridge_point.pk}/readings/")
    assert readings.status_code == 404
    order = bridge_alert.work_order
    assert order.pk not in ids(api_client.get("/api/v1/ops/work-orders/"))
    assert api_client.get(f"/api/v1/ops/work-orders/{order.pk}/").status_code == 404
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert summary["districts"] == {"310104": 4, "310115": 1}  # no 黄浦 bridge alert
    assert summary["open_alerts"] == 2


def test_provider_department_sees_its_conditional_resource(api_client, world, make_user):
    api_client.force_authenticate(make_user("housing"))
    bridge_alert = Alert.objects.get(domain="bridge")
    assert bridge_alert.pk in ids(api_client.get("/api/v1/ops/alerts/"))
    point = bridge_alert.point
    series = api_client.get(f"/api/v1/ops/points/{point.pk}/readings/?metric=deflection").json()
    assert [(r["value"], r["label"], r["unit"]) for r in series] == [(130, "挠度", "mm")]
    assert api_client.get("/api/v1/ops/summary/").json()["districts"]["310101"] == 3


def test_compound_alert_needs_both_resources_visible(api_client, ops, make_user):
    compound = Rule(
        name="积水叠加火警",
        kind="compound",
        hazard="复合风险",
        resource=ops.resources["road-ponding"],
        metric="depth",
        threshold=5,
        level=2,
        event_resource=ops.resources["fire-incidents"],
        event_type="火灾",
        event_min_level=0,  # incidents carry no level
    )
    compound.full_clean()
    compound.save()
    ops.load("road-ponding", [ponding("PD01", 10, 12)])
    ops.load(
        "fire-incidents",
        [
            {
                "incident_id": "F1",
                "reported_at": at(0),
                "district": "310115",
                "incident_type": "火灾",
            }
        ],
    )
    alert = Alert.objects.get(rule=compound)
    api_client.force_authenticate(make_user("water"))  # ponding yes, fire incidents no
    assert api_client.get(f"/api/v1/ops/alerts/{alert.pk}/").status_code == 404
    api_client.force_authenticate(make_user("fire"))  # own fire incidents + open ponding
    assert api_client.get(f"/api/v1/ops/alerts/{alert.pk}/").status_code == 200


def test_work_order_transition_by_its_department_only(api_client, world, make_user):
    order = Alert.objects.get(domain="gas").work_order
    url = f"/api/v1/ops/work-orders/{order.pk}/transition/"
    api_client.force_authenticate(make_user("cityops"))  # sees it, is not the department
    assert api_client.post(url, {"to": "accepted"}, format="json").status_code == 403
    api_client.force_authenticate(make_user("housing"))
    response = api_client.post(url, {"to": "accepted", "feedback": "已到场"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "accepted"
    # Closing is not the department's role (403 before the state); resolving is, but not
    # from accepted (409).
    assert api_client.post(url, {"to": "closed"}, format="json").status_code == 403
    invalid = api_client.post(url, {"to": "resolved", "feedback": "x"}, format="json")
    assert invalid.status_code == 409
    assert WorkOrder.objects.get(pk=order.pk).state == "accepted"
    listed = api_client.get("/api/v1/ops/work-orders/?state=accepted").json()["results"]
    assert [o["code"] for o in listed] == [order.code]
    assert listed[0]["timeliness"] in ("on_time", "overdue")


def test_dashboard_requires_login_and_renders(client, world, make_user):
    response = client.get("/ops/")
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    client.force_login(make_user("water"))
    page = client.get("/ops/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="map"' in html and "echarts/dist/echarts.min.js" in html
    assert "shanghai.geojson" in html and "310115" in html


def test_district_grant_limits_points_and_alerts_to_its_districts(api_client, ops, make_user):
    """A grant of 桥梁监测 to 水务局 for 黄浦区 only shows 黄浦区's points and alerts."""
    import datetime as dt

    from django.utils import timezone

    from permissions.services import grant_access

    rule(ops, "bridge-structural-health", "deflection", orange=100)
    ops.load(
        "bridge-structural-health",
        [bridge("S1", 0, 130, district="310101"), bridge("S2", 0, 140, district="310104")],
    )
    resource = ops.resources["bridge-structural-health"]
    water = resource.provider.__class__.objects.get(code="water")
    grant = grant_access(
        user=None,
        resource=resource,
        department=water,
        districts=["310101"],
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    api_client.force_authenticate(make_user("water"))
    points = api_client.get("/api/v1/ops/points/").json()["results"]
    assert {p["external_id"] for p in points} == {"S1"}
    alerts = Alert.objects.filter(domain="bridge")
    assert alerts.count() == 2
    in_scope = alerts.get(district_code="310101")
    out_of_scope = alerts.get(district_code="310104")
    assert ids(api_client.get("/api/v1/ops/alerts/")) == {in_scope.pk}
    assert api_client.get(f"/api/v1/ops/alerts/{out_of_scope.pk}/").status_code == 404
    orders = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert {o["alert"]["id"] if isinstance(o["alert"], dict) else o["alert"] for o in orders} <= {
        in_scope.pk
    }

    # A second grant without a row scope lifts the limit.
    grant_access(
        user=None,
        resource=resource,
        department=water,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    assert ids(api_client.get("/api/v1/ops/alerts/")) == {in_scope.pk, out_of_scope.pk}
    assert grant.districts == ["310101"]
