"""What a grant hides stays hidden in the ops view's aggregates, orders, times and after
a correction: alerts of a hidden district are counted but not placed, rows with a hidden
id are not ordered by it, an alert's times (its readings' times) follow the time field,
and a value corrected in place reaches the readings and the rules.
"""

from __future__ import annotations

import pytest

from hub.records.models import Record
from operations.models import Alert, MonitoringPoint, Reading
from permissions.models import AccessGrant
from tests.operations.conftest import at
from tests.operations.test_field_values import BRIDGE, bridge, grant, world  # noqa: F401

pytestmark = pytest.mark.django_db


def police_fields(world, fields: list[str]) -> None:  # noqa: F811
    AccessGrant.objects.filter(resource=world.resources[BRIDGE], department__code="police").update(
        fields=fields
    )


def test_summary_counts_alerts_of_a_hidden_district_without_placing_them(
    api_client,
    client,
    world,  # noqa: F811
    make_user,
):
    police_fields(world, ["bridge_id", "sensor_id", "deflection"])
    police = make_user("police")
    api_client.force_authenticate(police)
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert (summary["open_alerts"], summary["districts"]) == (1, {})
    assert summary["undisclosed_district"] == 1
    client.force_login(police)
    screen = client.get("/ops/screen/data/").json()["summary"]
    assert (screen["districts"], screen["undisclosed_district"]) == ({}, 1)
    page = client.get("/ops/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Alerts in undisclosed districts" in page
    # The work order of the alert names no district either.
    orders = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert [o["district_code"] for o in orders] == [""]
    # The provider reads its district: the alert is placed there.
    api_client.force_authenticate(make_user("housing"))
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert (summary["districts"], summary["undisclosed_district"]) == ({"310101": 3}, 0)
    orders = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert [o["district_code"] for o in orders] == ["310101"]


def test_points_with_a_hidden_id_are_not_ordered_by_it(api_client, world, make_user):  # noqa: F811
    # S0 is made after S1: by the hidden id it would come first, by the hub's key last.
    world.load(BRIDGE, [bridge("S0", 20, deflection=1.0)])
    first, later = (MonitoringPoint.objects.get(external_id=s).pk for s in ("S1", "S0"))
    assert first < later
    police_fields(world, ["bridge_id", "district"])
    api_client.force_authenticate(make_user("police"))
    listed = api_client.get("/api/v1/ops/points/").json()["results"]
    assert [(p["id"], p["external_id"]) for p in listed] == [(first, ""), (later, "")]
    for query in ("ordering=external_id", "ordering=-name", "search=S1"):
        response = api_client.get(f"/api/v1/ops/points/?{query}")
        assert response.status_code == 400, query
        assert list(response.json()) == [query.split("=")[0]]
    for url in ("/api/v1/ops/alerts/?ordering=value", "/api/v1/ops/work-orders/?search=S1"):
        assert api_client.get(url).status_code == 400, url
    readings = api_client.get(f"/api/v1/ops/points/{first}/readings/?ordering=value")
    assert list(readings.json()) == ["ordering"]
    # The provider reads the ids: ordered by them.
    api_client.force_authenticate(make_user("housing"))
    listed = api_client.get("/api/v1/ops/points/").json()["results"]
    assert [p["external_id"] for p in listed] == ["S0", "S1"]


def test_point_admin_does_not_order_by_a_hidden_id(client, world, make_user):  # noqa: F811
    world.load(BRIDGE, [bridge("S0", 20, deflection=1.0)])
    police_fields(world, ["bridge_id", "district"])
    client.force_login(make_user("police"))
    world.grant_roles()
    listing = client.get("/admin/operations/monitoringpoint/")
    assert listing.status_code == 200
    assert [p.pk for p in listing.context["cl"].result_list] == sorted(
        MonitoringPoint.objects.values_list("pk", flat=True), reverse=True
    )
    assert client.get("/admin/operations/monitoringpoint/?q=S1").status_code == 200
    assert listing.context["cl"].model_admin.get_search_fields(listing.wsgi_request) == []


def test_alert_times_are_the_readings_times_and_follow_the_time_field(
    api_client,
    client,
    world,  # noqa: F811
    make_user,
):
    # S2's alert is made after S1's, for a reading ten minutes older.
    world.load(BRIDGE, [bridge("S2", 0, deflection=140.0)])
    a1 = world.alert
    a2 = Alert.objects.get(point__external_id="S2")
    assert (a1.opened_at, a2.opened_at) == (at(10), at(0))  # copied from the readings
    police_fields(world, ["bridge_id", "sensor_id", "district", "deflection"])
    police = make_user("police")
    api_client.force_authenticate(police)
    listed = api_client.get("/api/v1/ops/alerts/").json()["results"]
    assert [(a["id"], a["opened_at"]) for a in listed] == [(a2.pk, None), (a1.pk, None)]
    detail = api_client.get(f"/api/v1/ops/alerts/{a1.pk}/").json()
    assert detail["value"] == 131.98 and detail["closed_at"] is None
    assert [(t["kind"], t["at"]) for t in detail["transitions"]] == [("opened", None)]
    order = a1.work_order
    assert not order.code.startswith("GD20250701")  # dated by its dispatch, not the reading
    client.force_login(police)
    screen = client.get("/ops/screen/data/").json()
    assert [(a["id"], a["opened_at"]) for a in screen["alerts"]] == [(a2.pk, ""), (a1.pk, "")]
    page = client.get(f"/ops/orders/{order.pk}/").content.decode()
    assert "2025-07-01 08:10" not in page and "131.98" in page
    world.grant_roles()
    admin = client.get(f"/admin/operations/alert/{a1.pk}/change/").content.decode()
    assert "2025-07-01" not in admin and "发布时间" not in admin
    assert client.get("/admin/operations/alert/?opened_at__gte=2025-07-01").status_code == 400
    assert "发布时间" not in client.get("/admin/operations/alert/").content.decode()
    # The provider reads the time field: the times, and newest first.
    housing = make_user("housing")
    api_client.force_authenticate(housing)
    listed = api_client.get("/api/v1/ops/alerts/").json()["results"]
    assert [a["id"] for a in listed] == [a1.pk, a2.pk]
    detail = api_client.get(f"/api/v1/ops/alerts/{a1.pk}/").json()
    assert detail["opened_at"] == "2025-07-01T08:10:00+08:00"
    assert detail["transitions"][0]["at"] == "2025-07-01T08:10:00+08:00"


def test_a_corrected_value_is_synced_and_the_rule_re_evaluated(
    world,  # noqa: F811
    make_user,
    django_capture_on_commit_callbacks,
):
    from governance import services

    grant(
        world.resources[BRIDGE], "police", ["bridge_id", "sensor_id", "observed_at", "deflection"]
    )
    record = Record.objects.get(resource=world.resources[BRIDGE], data__deflection=131.98)
    objection = services.file_objection(
        user=make_user("police"),
        department=world.departments["police"],
        resource=world.resources[BRIDGE],
        scope="field",
        record_key=record.key,
        field_name="deflection",
        reason="传感器漂移",
    ).objection
    with django_capture_on_commit_callbacks(execute=True):
        services.correct_value(user=make_user("housing"), objection=objection, value=31.98)
    reading = Reading.objects.get(record_key=record.key, metric="deflection")
    assert reading.value == 31.98
    world.alert.refresh_from_db()
    assert (world.alert.state, world.alert.value) == ("closed", 31.98)


def test_new_points_take_ids_in_an_order_unrelated_to_their_external_ids(ops):
    """Callers who read a point's id masked see points in pk order: pks must not follow
    the sorted external ids (the sync once inserted points ORDER BY external id)."""
    from tests.operations.conftest import gas

    ids = [f"GP{i:06d}" for i in range(24)]
    ops.load("gas-pipeline-pressure", [gas(point, 5, 0.3) for point in ids])
    by_pk = list(
        MonitoringPoint.objects.filter(resource=ops.resources["gas-pipeline-pressure"])
        .order_by("pk")
        .values_list("external_id", flat=True)
    )
    assert sorted(by_pk) == ids
    assert by_pk != ids and by_pk != ids[::-1]  # 2 of 24! orders
