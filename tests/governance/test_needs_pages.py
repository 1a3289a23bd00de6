"""The 需求清单 over REST and on the hub pages, and 提出异议 from the data explorer."""

from __future__ import annotations

import pytest

from governance.models import Objection
from governance.needs.models import DataNeed
from permissions.models import AccessRequest
from tests.permissions.conftest import grant, records  # noqa: F401

pytestmark = pytest.mark.django_db

NEEDS = "/api/v1/needs/"
NEED = {
    "title": "道路积水实时数据",
    "description": "汛期各区道路积水深度",
    "purpose": "防汛应急指挥",
    "legal_basis": "《上海市防汛条例》",
    "update_cycle": "realtime",
    "fields": ["积水深度", "road_name"],
    "keywords": ["积水"],
    "districts": ["310101", "310104"],
}


@pytest.fixture
def people(catalog, make_user):
    return {name: make_user(name) for name in ("emergency", "water", "bigdata", "police")}


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def test_the_api_round_trip(api_client, people):
    body = as_user(api_client, people["emergency"]).post(NEEDS, NEED, format="json").json()
    assert (body["status"], body["department"], body["districts"]) == (
        "filed",
        "emergency",
        ["310101", "310104"],
    )
    url = f"{NEEDS}{body['id']}/"
    # Hidden from the police (404), visible to the authority.
    police = as_user(api_client, people["police"])
    assert police.get(NEEDS).json()["results"] == []
    assert police.get(url).status_code == 404
    assert police.post(url + "route/", {"provider": "water"}, format="json").status_code == 404
    # The filer sees it but neither asks for suggestions nor routes (403).
    filer = as_user(api_client, people["emergency"])
    assert filer.get(url + "suggestions/").status_code == 403
    assert filer.post(url + "route/", {"provider": "water"}, format="json").status_code == 403
    authority = as_user(api_client, people["bigdata"])
    suggestions = authority.get(url + "suggestions/").json()
    assert suggestions[0]["provider"] == "water"
    assert suggestions[0]["resources"][0]["code"] == "road-ponding"
    routed = authority.post(
        url + "route/", {"provider": "water", "candidates": ["road-ponding"]}, format="json"
    ).json()
    assert (routed["status"], routed["provider"]) == ("routed", "water")
    provider = as_user(api_client, people["water"])
    assert provider.post(url + "refuse/", {"basis": ""}, format="json").status_code == 400
    linked = provider.post(url + "link/", {"resource": "road-ponding"}, format="json").json()
    assert (linked["status"], linked["answer"], linked["resource"]) == (
        "answered",
        "linked",
        "road-ponding",
    )
    request = AccessRequest.objects.get(pk=linked["access_request"])
    assert request.districts == ["310101", "310104"]
    assert provider.post(url + "close/", {}, format="json").status_code == 403
    closed = as_user(api_client, people["emergency"]).post(url + "close/", {}, format="json")
    assert closed.json()["status"] == "closed"
    listed = as_user(api_client, people["water"]).get(NEEDS, {"status": "closed"}).json()
    assert [row["id"] for row in listed["results"]] == [body["id"]]


@pytest.mark.parametrize(
    "change, param",
    [
        ({"update_cycle": "sometimes"}, "update_cycle"),
        ({"districts": ["黄浦区"]}, "districts"),
        ({"legal_basis": " "}, "legal_basis"),
        ({"department": "water"}, "department"),
    ],
)
def test_the_api_names_the_bad_parameter(api_client, people, change, param):
    response = as_user(api_client, people["emergency"]).post(
        NEEDS, {**NEED, **change}, format="json"
    )
    assert response.status_code == 400
    assert param in response.json()
    assert not DataNeed.objects.exists()


def test_bad_filters_are_400(api_client, people):
    client = as_user(api_client, people["emergency"])
    for param, value in (("status", "done"), ("overdue", "yes")):
        response = client.get(NEEDS, {param: value})
        assert response.status_code == 400 and param in response.json()


def test_the_pages_file_route_and_link(client, people):
    client.force_login(people["emergency"])
    index = client.get("/explorer/").content.decode()
    assert '<a href="/governance/needs/new/" id="need-link">' in index  # from the explorer
    form = {
        "department": str(people["emergency"].groups.get(department__isnull=False).department.pk),
        **{k: v for k, v in NEED.items() if k not in ("fields", "keywords", "districts")},
        "fields": "积水深度、road_name",
        "keywords": "积水，防汛",
        "districts": ["310101"],
    }
    response = client.post("/governance/needs/new/", form)
    need = DataNeed.objects.get()
    assert response.status_code == 302 and response.url == f"/governance/needs/{need.pk}/"
    assert (need.fields, need.keywords) == (["积水深度", "road_name"], ["积水", "防汛"])
    page = client.get(f"/governance/needs/{need.pk}/").content.decode()
    assert "道路积水实时数据" in page and 'id="need-route"' not in page
    assert 'id="need-close"' in page and 'lang="zh-hans"' in page
    assert client.post(f"/governance/needs/{need.pk}/", {"do": "route"}).status_code == 403

    client.force_login(people["police"])
    assert client.get(f"/governance/needs/{need.pk}/").status_code == 404
    assert "道路积水实时数据" not in client.get("/governance/needs/").content.decode()

    client.force_login(people["bigdata"])
    page = client.get(f"/governance/needs/{need.pk}/").content.decode()
    assert 'id="need-suggestions"' in page and "道路积水监测数据" in page
    response = client.post(
        f"/governance/needs/{need.pk}/",
        {"do": "route", "route-provider": "water", "route-candidates": ["road-ponding"]},
    )
    assert response.status_code == 302
    need.refresh_from_db()
    assert (need.status, need.provider.code) == ("routed", "water")

    client.force_login(people["water"])
    bad = client.post(f"/governance/needs/{need.pk}/", {"do": "refuse", "refuse-basis": ""})
    assert bad.status_code == 400
    response = client.post(
        f"/governance/needs/{need.pk}/", {"do": "link", "link-resource": "road-ponding"}
    )
    assert response.status_code == 302
    request = AccessRequest.objects.get()
    assert (request.requester.code, request.resource.code) == ("emergency", "road-ponding")
    page = client.get(f"/governance/needs/{need.pk}/").content.decode()
    assert f"#{request.pk}" in page and 'id="need-link"' not in page


def test_the_list_refuses_an_unknown_status(client, people):
    client.force_login(people["emergency"])
    response = client.get("/governance/needs/", {"status": "gone"})
    assert response.status_code == 400 and "status" in response.content.decode()


def test_objection_from_the_explorer(client, catalog, records, grant, make_user):  # noqa: F811
    grant(records["fire-incidents"], "cityops", days=30)
    reader = make_user("cityops")
    client.force_login(reader)
    page = client.get("/explorer/fire-incidents/").content.decode()
    assert 'id="objection-link"' in page
    assert 'href="/governance/objections/new/fire-incidents/?key=F1"' in page
    form_page = client.get("/governance/objections/new/fire-incidents/?key=F1")
    assert form_page.status_code == 200 and 'value="F1"' in form_page.content.decode()
    department = reader.groups.get(department__isnull=False).department
    response = client.post(
        "/governance/objections/new/fire-incidents/?key=F1",
        {
            "department": str(department.pk),
            "scope": "field",
            "record_key": "F1",
            "field_name": "casualties",
            "reason": "伤亡人数与现场报告不符",
        },
    )
    assert response.status_code == 302 and response.url == "/explorer/fire-incidents/"
    objection = Objection.objects.get()
    assert (objection.record_key, objection.field_name, objection.department.code) == (
        "F1",
        "casualties",
        "cityops",
    )
    # A record the reader does not read is refused as not found, on the form.
    response = client.post(
        "/governance/objections/new/fire-incidents/",
        {"department": str(department.pk), "scope": "record", "record_key": "NO", "reason": "x"},
    )
    assert response.status_code == 400 and Objection.objects.count() == 1
    # Without a grant: 404, and no objection link in the explorer.
    client.force_login(make_user("police"))
    assert client.get("/governance/objections/new/fire-incidents/").status_code == 404


def test_answering_twice_says_already_handled_not_403(client, api_client, people):
    filed = as_user(api_client, people["emergency"]).post(NEEDS, NEED, format="json").json()
    url = f"/governance/needs/{filed['id']}/"
    client.force_login(people["bigdata"])
    route = {"do": "route", "route-provider": "water", "route-candidates": ["road-ponding"]}
    assert client.post(url, route).status_code == 302
    client.force_login(people["water"])
    answer = {"do": "refuse", "refuse-basis": "涉及国家秘密"}
    assert client.post(url, answer).status_code == 302
    again = client.post(url, answer, follow=True)
    assert again.redirect_chain == [(url, 302)]
    assert [str(m) for m in again.context["messages"]][-1] == "该需求已处理。"
    assert DataNeed.objects.get().status == "answered"
    # Someone who never held the role is still refused.
    client.force_login(people["police"])
    assert client.post(url, answer).status_code == 404
    client.force_login(people["emergency"])
    assert client.post(url, answer).status_code == 403
