"""A compound alert's district is where its points read and its events happened: it is
read in clear only where both resources' district fields are. It was shown, placed in
the summary and matched by ?district= whenever the points' was, telling where the
caller's hidden events were."""

from __future__ import annotations

import pytest

from operations.models import Alert, Rule
from tests.operations.conftest import at, ponding
from tests.operations.test_field_values import grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def compound(ops):
    rule = Rule(
        name="积水叠加火警",
        kind="compound",
        hazard="复合风险",
        resource=ops.resources["road-ponding"],
        metric="depth",
        threshold=5,
        level=2,
        event_resource=ops.resources["fire-incidents"],
        event_type="火灾",
        event_min_level=0,
    )
    rule.full_clean()
    rule.save()
    ops.load("road-ponding", [ponding("PD01", 10, 12)])
    fire = {"incident_id": "F1", "reported_at": at(0), "district": "310115"}
    ops.load("fire-incidents", [{**fire, "incident_type": "火灾"}])
    return Alert.objects.get(rule=rule)


def test_a_compound_alert_hides_the_district_of_hidden_events(
    api_client, client, ops, compound, make_user
):
    # water reads its own ponding in clear, the fire incidents without their district
    grant(ops.resources["fire-incidents"], "water", ["incident_id", "reported_at", "incident_type"])
    water = make_user("water")
    api_client.force_authenticate(water)
    detail = api_client.get(f"/api/v1/ops/alerts/{compound.pk}/").json()
    assert (detail["district_code"], detail["scope"]) == ("", "")
    assert api_client.get("/api/v1/ops/alerts/?district=310115").json()["results"] == []
    summary = api_client.get("/api/v1/ops/summary/").json()
    assert "310115" not in summary["districts"] and summary["undisclosed_district"] == 1
    orders = api_client.get("/api/v1/ops/work-orders/").json()["results"]
    assert [o["district_code"] for o in orders if o["hazard"] == "复合风险"] == [""]
    client.force_login(water)
    screen = client.get("/ops/screen/data/").json()
    assert [a["district_code"] for a in screen["alerts"] if a["id"] == compound.pk] == [""]
    # The admin (the ops centre's, reached here directly) hides and refuses both too.
    from django.contrib import admin
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/operations/alert/")
    request.user = water
    alerts = admin.site._registry[Alert]
    assert {"district_code", "scope"} <= alerts._hidden_of(request, compound)
    assert {"district_code", "scope"} <= alerts._hidden(request)


def test_a_compound_alert_shows_its_district_where_both_fields_are_clear(
    api_client, ops, compound, make_user
):
    grant(
        ops.resources["fire-incidents"],
        "water",
        ["incident_id", "reported_at", "incident_type", "district"],
    )
    api_client.force_authenticate(make_user("water"))
    detail = api_client.get(f"/api/v1/ops/alerts/{compound.pk}/").json()
    assert (detail["district_code"], detail["scope"]) == ("310115", "district:310115")
    assert len(api_client.get("/api/v1/ops/alerts/?district=310115").json()["results"]) == 1
    assert api_client.get("/api/v1/ops/summary/").json()["districts"]["310115"] == 2
