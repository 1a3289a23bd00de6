"""Values of points, readings, events and alerts follow the grant's fields.

A grant that leaves a field out (or serves it masked) leaves its values out of the ops
view: readings of a hidden metric are not listed, an alert's value is null, coordinates
and times are blank, in the API, /ops/, the order page and the admin, where filtering,
searching or ordering on a hidden value is refused too. The raw-id widget names only
objects the user may see.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hub.catalog.models import Department
from operations.models import Alert, Event, MonitoringPoint, Rule
from tests.operations.conftest import at, ponding

pytestmark = pytest.mark.django_db

BRIDGE = "bridge-structural-health"
FIRE = "fire-incidents"


def bridge(sensor: str, minutes: float, **values) -> dict:
    return {
        "bridge_id": "B1",
        "sensor_id": sensor,
        "observed_at": at(minutes),
        "district": "310101",
        "latitude": 31.2345,
        "longitude": 121.4876,
        **values,
    }


def grant(resource, department: str, fields: list[str]) -> None:
    from permissions.services import grant_access

    grant_access(
        user=None,
        resource=resource,
        department=Department.objects.get(code=department),
        fields=fields,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )


@pytest.fixture
def world(ops):
    """A bridge alert (deflection 131.98 in 黄浦) and a fire incident; police read the
    bridge's ids and district only, and the incident's id, district and type."""
    from operations import demo

    Rule.objects.create(
        name="挠度",
        kind="threshold",
        hazard="桥梁挠度超限",
        metric="deflection",
        orange=100,
        resource=ops.resources[BRIDGE],
    )
    ops.load(
        BRIDGE,
        [
            bridge("S1", 0, deflection=120.5, strain=800.0, frequency=2.5),
            bridge("S1", 10, deflection=131.98, strain=810.0, frequency=2.4),
        ],
    )
    fire = {
        "incident_id": "F1",
        "reported_at": at(5),
        "district": "310101",
        "incident_type": "火灾",
        "address": "南京东路1号",
        "caller_phone": "13800138000",
        "latitude": 31.3456,
        "longitude": 121.4987,
    }
    ops.load(FIRE, [fire])
    grant(ops.resources[BRIDGE], "police", ["bridge_id", "sensor_id", "district"])
    grant(ops.resources[FIRE], "police", ["incident_id", "district", "incident_type"])
    ops.point = MonitoringPoint.objects.get(resource__code=BRIDGE)
    ops.alert = Alert.objects.get(resource__code=BRIDGE)
    ops.event = Event.objects.get(resource__code=FIRE)
    ops.grant_roles = demo.grant_role_permissions
    return ops


def test_api_leaves_out_what_the_grant_leaves_out(api_client, world, make_user):
    api_client.force_authenticate(make_user("police"))
    point = api_client.get(f"/api/v1/ops/points/{world.point.pk}/").json()
    assert (point["external_id"], point["district_code"]) == ("S1", "310101")
    assert (point["latitude"], point["longitude"], point["last_observed_at"]) == (None, None, None)
    listed = api_client.get("/api/v1/ops/points/").json()["results"]
    assert [(p["id"], p["latitude"]) for p in listed] == [(world.point.pk, None)]
    # No metric is granted: no readings (the point is visible, so not a 404).
    readings = api_client.get(f"/api/v1/ops/points/{world.point.pk}/readings/")
    assert readings.status_code == 200 and readings.json() == []
    by_metric = api_client.get(f"/api/v1/ops/points/{world.point.pk}/readings/?metric=deflection")
    assert by_metric.json() == []
    alert = api_client.get(f"/api/v1/ops/alerts/{world.alert.pk}/").json()
    assert (alert["value"], alert["metric"], alert["point_name"]) == (None, "deflection", "S1")
    assert [(t["kind"], t["value"]) for t in alert["transitions"]] == [("opened", None)]
    listed = api_client.get("/api/v1/ops/alerts/").json()["results"]
    assert [(a["id"], a["value"]) for a in listed] == [(world.alert.pk, None)]


def test_a_granted_metric_is_served_without_its_hidden_time(api_client, world, make_user):
    grant(world.resources[BRIDGE], "police", ["sensor_id", "deflection"])
    api_client.force_authenticate(make_user("police"))
    readings = api_client.get(f"/api/v1/ops/points/{world.point.pk}/readings/").json()
    assert [(r["metric"], r["value"], r["observed_at"]) for r in readings] == [
        ("deflection", 120.5, None),
        ("deflection", 131.98, None),
    ]
    alert = api_client.get(f"/api/v1/ops/alerts/{world.alert.pk}/").json()
    assert alert["value"] == 131.98
    assert [t["value"] for t in alert["transitions"]] == [131.98]


@pytest.mark.parametrize("department", ["housing", "cityops"])
def test_provider_and_ops_centre_read_every_value(api_client, world, make_user, department):
    """The provider reads its records in clear; the ops centre views every department's
    points, readings and alerts (一网统管, docs/PERMISSIONS.md)."""
    api_client.force_authenticate(make_user(department))
    point = api_client.get(f"/api/v1/ops/points/{world.point.pk}/").json()
    assert (point["latitude"], point["longitude"]) == (31.2345, 121.4876)
    readings = api_client.get(f"/api/v1/ops/points/{world.point.pk}/readings/").json()
    assert sorted((r["metric"], r["value"]) for r in readings) == [
        ("deflection", 120.5),
        ("deflection", 131.98),
        ("frequency", 2.4),
        ("frequency", 2.5),
        ("strain", 800.0),
        ("strain", 810.0),
    ]
    assert api_client.get(f"/api/v1/ops/alerts/{world.alert.pk}/").json()["value"] == 131.98


def test_api_computes_access_once_per_request(api_client, world, make_user):
    """Clearances cost the same whether a page lists one point or eleven."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    api_client.force_authenticate(make_user("police"))
    api_client.get("/api/v1/ops/points/")  # warm the user's caches
    with CaptureQueriesContext(connection) as one:
        assert len(api_client.get("/api/v1/ops/points/").json()["results"]) == 1
    world.load(BRIDGE, [bridge(f"S{n}", 0, deflection=1.0) for n in range(2, 12)])
    with CaptureQueriesContext(connection) as many:
        body = api_client.get("/api/v1/ops/points/").json()
    assert len(body["results"]) == 11 and {p["latitude"] for p in body["results"]} == {None}
    assert len(many.captured_queries) == len(one.captured_queries)


def test_screen_data_and_order_page_show_no_hidden_value(client, world, make_user):
    client.force_login(make_user("police"))
    data = client.get("/ops/screen/data/").json()
    assert data["points"] == []  # no marker without readable coordinates
    assert [(a["id"], a["point"]) for a in data["alerts"]] == [(world.alert.pk, "S1")]
    order = world.alert.work_order
    page = client.get(f"/ops/orders/{order.pk}/").content.decode()
    assert "监测点 S1 读数" in page and "131.98" not in page
    client.force_login(make_user("housing"))
    page = client.get(f"/ops/orders/{order.pk}/").content.decode()
    assert "监测点 S1 读数 131.98" in page
    markers = client.get("/ops/screen/data/").json()["points"]
    assert [(p["name"], p["lat"]) for p in markers] == [("S1", 31.2345)]


def test_event_admin_hides_and_refuses_hidden_fields(client, world, make_user):
    client.force_login(make_user("police"))
    world.grant_roles()
    change = client.get(f"/admin/operations/event/{world.event.pk}/change/")
    assert change.status_code == 200
    page = change.content.decode()
    assert "火灾" in page and "310101" in page
    assert "31.3456" not in page and "121.4987" not in page and "发生时间" not in page
    listing = client.get("/admin/operations/event/")
    assert listing.status_code == 200 and "发生时间" not in listing.content.decode()
    for query in ("latitude__gt=31.3", "longitude__lt=122", "occurred_at__gte=2025-07-01"):
        assert client.get(f"/admin/operations/event/?{query}").status_code == 400, query
    assert client.get("/admin/operations/event/?event_type=火灾").status_code == 200
    # The provider reads everything in clear, and may filter on it.
    client.force_login(make_user("fire"))
    world.grant_roles()
    page = client.get(f"/admin/operations/event/{world.event.pk}/change/").content.decode()
    assert "31.3456" in page and "发生时间" in page
    listing = client.get("/admin/operations/event/?latitude__gt=31.3")
    assert listing.status_code == 200 and "火灾" in listing.content.decode()


def test_point_and_alert_admin_hide_and_refuse_hidden_fields(client, world, make_user):
    client.force_login(make_user("police"))
    world.grant_roles()
    page = client.get(f"/admin/operations/monitoringpoint/{world.point.pk}/change/")
    assert page.status_code == 200
    assert "S1" in page.content.decode() and "31.2345" not in page.content.decode()
    assert client.get("/admin/operations/monitoringpoint/?latitude__gt=31").status_code == 400
    listing = client.get("/admin/operations/monitoringpoint/").content.decode()
    assert "最近观测时间" not in listing
    alert = client.get(f"/admin/operations/alert/{world.alert.pk}/change/").content.decode()
    assert "131.98" not in alert and "触发值" not in alert
    assert client.get("/admin/operations/alert/?value__gt=100").status_code == 400
    client.force_login(make_user("housing"))
    world.grant_roles()
    alert = client.get(f"/admin/operations/alert/{world.alert.pk}/change/").content.decode()
    assert "131.98" in alert
    assert client.get("/admin/operations/alert/?value__gt=100").status_code == 200


def test_raw_id_widget_names_only_visible_points(client, world, make_user):
    """水务局 may not see the bridge point: its id typed into the rule form is not named."""
    world.load("road-ponding", [ponding("PD01", 0, 3)])
    own = MonitoringPoint.objects.get(resource__code="road-ponding")
    client.force_login(make_user("water", steward=True))
    world.grant_roles()
    assert client.get(f"/api/v1/ops/points/{world.point.pk}/").status_code == 404
    hidden = client.get(f"/admin/operations/rule/add/?point={world.point.pk}")
    assert hidden.status_code == 200
    assert f"/admin/operations/monitoringpoint/{world.point.pk}/change/" not in (
        hidden.content.decode()
    )
    visible = client.get(f"/admin/operations/rule/add/?point={own.pk}").content.decode()
    assert f"/admin/operations/monitoringpoint/{own.pk}/change/" in visible
    assert "路段PD01" in visible


def test_a_hidden_district_or_point_name_cannot_be_filtered_or_read(
    api_client, client, world, make_user
):
    from permissions.models import AccessGrant

    # The sensor id (the point's name) and the district no longer granted.
    AccessGrant.objects.filter(resource=world.resources[BRIDGE], department__code="police").update(
        fields=["bridge_id"]
    )
    police = make_user("police")
    api_client.force_authenticate(police)
    assert api_client.get("/api/v1/ops/points/?district=310101").json()["results"] == []
    assert api_client.get("/api/v1/ops/alerts/?district=310101").json()["results"] == []
    alert = api_client.get(f"/api/v1/ops/alerts/{world.alert.pk}/").json()
    assert alert["district_code"] == "" and "S1" not in alert["message"]
    assert alert["message"] == "挠度" and alert["point_name"] == ""
    client.force_login(police)
    screen = client.get("/ops/screen/data/").json()
    assert [(a["point"], a["district_code"]) for a in screen["alerts"]] == [("", "")]
    world.grant_roles()
    admin = "/admin/operations/alert/"
    assert client.get(f"{admin}?message__icontains=S1").status_code == 400
    assert client.get(f"{admin}?district_code=310101").status_code == 400
    page = client.get(f"{admin}{world.alert.pk}/change/").content.decode()
    assert "S1 挠度" not in page
    # The provider filters on its own district.
    api_client.force_authenticate(make_user("housing"))
    points = api_client.get("/api/v1/ops/points/?district=310101").json()["results"]
    assert [p["id"] for p in points] == [world.point.pk]
    alert = api_client.get(f"/api/v1/ops/alerts/{world.alert.pk}/").json()
    assert (alert["district_code"], alert["message"]) == ("310101", "S1 挠度")


def test_a_work_order_shows_no_hidden_district(api_client, world, make_user):
    """The order of the bridge alert carries the alert's district: blank, as on the alert,
    for police once the district is no longer granted; the provider reads it."""
    from operations.models import WorkOrder
    from permissions.models import AccessGrant

    order = WorkOrder.objects.get(alert=world.alert)
    AccessGrant.objects.filter(resource=world.resources[BRIDGE], department__code="police").update(
        fields=["bridge_id"]
    )
    api_client.force_authenticate(make_user("police"))
    listed = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert [(o["id"], o["district_code"]) for o in listed] == [(order.pk, "")]
    detail = api_client.get(f"/api/v1/ops/work-orders/{order.pk}/").json()
    assert detail["district_code"] == ""
    api_client.force_authenticate(make_user("housing"))
    detail = api_client.get(f"/api/v1/ops/work-orders/{order.pk}/").json()
    assert detail["district_code"] == "310101"


def test_the_summary_counts_no_hidden_district(api_client, world, make_user):
    """The summary's worst level per district leaves out a point alert whose district the
    caller does not read in clear (the alert itself shows it blank)."""
    from permissions.models import AccessGrant

    api_client.force_authenticate(make_user("police"))
    assert api_client.get("/api/v1/ops/summary/").json()["districts"] == {"310101": 3}
    AccessGrant.objects.filter(resource=world.resources[BRIDGE], department__code="police").update(
        fields=["bridge_id"]
    )
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert (summary["open_alerts"], summary["districts"]) == (1, {})
    api_client.force_authenticate(make_user("housing"))
    assert api_client.get("/api/v1/ops/summary/").json()["districts"] == {"310101": 3}
