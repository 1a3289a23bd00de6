"""Bad input is a 400 naming the parameter, never a 500 (nor a debug page).

Invalid dates, nan/inf and out-of-range numbers in ``eq.`` filters, NUL bytes, bounds of
``limit``/``offset``/``page_size``, filter values outside their choices; the parsers
(dates, cursors, bounded integers) never raise anything but a 400 on any text.
"""

from __future__ import annotations

import pytest
from django.db import DataError
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework.exceptions import ValidationError
from rest_framework.test import APIRequestFactory

from hub.api.exceptions import as_api_exception
from hub.api.pagination import bounded_int
from hub.api.record_filters import parse_bbox, parse_moment
from hub.api.record_pages import KEY, LOAD, Cursor, decode_cursor, encode_cursor
from tests.hub.test_settings import probe

RECORDS = "/api/v1/resources/fire-incidents/records/"


@pytest.fixture
def partner(records, grant, key_client):
    """bigdata reads every field of fire-incidents (caller_phone, address masked)."""
    grant(records["fire-incidents"], "bigdata")
    client, _key = key_client("bigdata")
    return client


def errors(response) -> dict:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize(
    "value",
    [
        "2026-02-30",
        "2026-13-01T00:00:00",
        "2026-07-01T25:00",
        "yesterday",
        "2026-07-01T08:00+25:00",
    ],
)
@pytest.mark.parametrize("name", ["since", "until"])
def test_invalid_dates_name_the_parameter(partner, name, value):
    body = errors(partner.get(RECORDS, {name: value}))
    assert list(body) == [name]


@pytest.mark.parametrize("value", ["0001-01-01", "9999-12-31", "0001-01-01T00:00:00+14:00"])
def test_dates_at_the_ends_of_the_calendar_are_accepted(partner, value):
    assert partner.get(RECORDS, {"since": value, "until": value}).status_code == 200


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("eq.latitude", "nan"),
        ("eq.latitude", "inf"),
        ("eq.longitude", "-Infinity"),
        ("eq.latitude", "1e999"),
        ("eq.casualties", "99999999999999999999999"),
        ("eq.casualties", "1.5"),
        ("eq.casualties", "9" * 5000),
    ],
)
def test_non_finite_and_out_of_range_numbers_are_refused(partner, param, value):
    assert list(errors(partner.get(RECORDS, {param: value}))) == [param]


def test_equality_on_numbers_still_filters(partner):
    body = partner.get(RECORDS, {"eq.latitude": "31.19"}).json()
    assert [row["incident_id"] for row in body["results"]] == ["F2"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"bbox": "nan,31,122,32"}, "bbox"),
        ({"bbox": "121,31,inf,32"}, "bbox"),
        ({"bbox": "121,31,181,32"}, "bbox"),
        ({"bbox": "122,31,121,32"}, "bbox"),
        ({"district": "31010x"}, "district"),
        ({"district": ",".join(["310101"] * 101)}, "district"),
        ({"page_size": "0"}, "page_size"),
        ({"page_size": "-5"}, "page_size"),
        ({"page_size": "1001"}, "page_size"),
        ({"page_size": "ten"}, "page_size"),
        ({"page_size": ""}, "page_size"),
        ({"format": "xml"}, "format"),
        ({"order": "casualties"}, "order"),
        ({"order": ""}, "order"),
        ({"cursor": "cD0wMDAx"}, "cursor"),
        ({"fields": "incident_id,secret"}, "fields"),
    ],
)
def test_record_parameters_are_validated(partner, params, name):
    assert list(errors(partner.get(RECORDS, params))) == [name]


@pytest.mark.parametrize("path", [RECORDS, "/api/v1/resources/", "/api/v1/ops/alerts/"])
def test_nul_bytes_are_refused_naming_the_parameter(partner, path):
    body = errors(partner.get(path + "?search=a%00b&domain=fire"))
    assert list(body) == ["search"]
    assert errors(partner.get(path + "?a%00=1")) == {"a\\x00": [body["search"][0]]}


def test_nul_bytes_outside_the_api_are_refused_too(client):
    response = client.get("/admin/login/?next=/admin/%00")
    assert response.status_code == 400
    assert b"next" in response.content


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/api/v1/resources/", {"limit": "0"}, "limit"),
        ("/api/v1/resources/", {"limit": "-1"}, "limit"),
        ("/api/v1/resources/", {"limit": "1001"}, "limit"),
        ("/api/v1/resources/", {"limit": "9" * 30}, "limit"),
        ("/api/v1/resources/", {"offset": "-1"}, "offset"),
        ("/api/v1/resources/", {"offset": "99999999999999999999"}, "offset"),
        ("/api/v1/resources/", {"domain": "moon"}, "domain"),
        ("/api/v1/resources/", {"sharing_type": "secret"}, "sharing_type"),
        ("/api/v1/departments/", {"limit": "abc"}, "limit"),
        ("/api/v1/access-requests/", {"status": "maybe"}, "status"),
        ("/api/v1/ops/alerts/", {"level": "9"}, "level"),
        ("/api/v1/ops/alerts/", {"state": "AAA"}, "state"),
        ("/api/v1/ops/work-orders/", {"state": "AAA"}, "state"),
        ("/api/v1/ops/points/", {"domain": "moon"}, "domain"),
    ],
)
def test_list_parameters_are_validated(partner, path, params, name):
    assert list(errors(partner.get(path, params))) == [name]


def test_list_filters_and_limits_still_work(partner):
    body = partner.get("/api/v1/resources/", {"domain": "fire"}).json()
    assert [item["code"] for item in body["results"]] == ["fire-incidents"]
    body = partner.get("/api/v1/resources/", {"limit": "1", "offset": "2"}).json()
    assert len(body["results"]) == 1 and body["next"] and body["previous"]


def test_reading_limits_are_bounded(partner):
    from operations.models import MonitoringPoint

    resource = partner_resource()
    point = MonitoringPoint.objects.create(
        resource=resource,
        external_id="P",
        name="点",
        domain="fire",
        department=resource.provider,
    )
    url = f"/api/v1/ops/points/{point.pk}/readings/"
    for value in ("-5", "0", "2001", "x"):
        assert list(errors(partner.get(url, {"limit": value}))) == ["limit"]
    assert partner.get(url, {"limit": "5"}).json() == []  # one array, not a page
    assert partner.get("/api/v1/ops/points/99999999999999999999999/").status_code == 404


def partner_resource():
    from hub.catalog.models import DataResource

    return DataResource.objects.get(code="fire-incidents")


def test_unknown_api_routes_answer_json_404(partner, settings):
    settings.DEBUG = False
    response = partner.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert "detail" in response.json()


def test_value_errors_reaching_the_handler_become_400_naming_the_parameters():
    request = APIRequestFactory().get("/api/v1/x/", {"when": "x", "n": "1"})
    from rest_framework.request import Request

    context = {"request": Request(request)}
    for error in (DataError("integer out of range"), OverflowError("big"), ValueError("nan")):
        converted = as_api_exception(error, context)
        assert isinstance(converted, ValidationError)
        assert sorted(converted.detail) == ["n", "when"]
    other = RuntimeError("bug")
    assert as_api_exception(other, context) is other


def test_debug_is_off_by_default_and_on_when_asked():
    assert probe(DJANGO_SETTINGS_MODULE="hub.settings")["debug"] is False
    assert probe(DJANGO_SETTINGS_MODULE="hub.settings", DJANGO_DEBUG="1")["debug"] is True


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40))
def test_moments_parse_or_are_400(text):
    try:
        moment = parse_moment(text, "since")
    except ValidationError as exc:
        assert list(exc.detail) == ["since"]
    else:
        assert moment.tzinfo is not None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60) | st.from_regex(r"[-0-9.,e]{0,30}", fullmatch=True))
def test_bboxes_parse_or_are_400(text):
    try:
        west, south, east, north = parse_bbox(text)
    except ValidationError as exc:
        assert list(exc.detail) == ["bbox"]
    else:
        assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_bounded_integers_parse_or_are_400(text):
    try:
        value = bounded_int({"limit": text}, "limit", minimum=1, maximum=1000, default=50)
    except ValidationError as exc:
        assert list(exc.detail) == ["limit"]
    else:
        assert 1 <= value <= 1000


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=120)
    | st.from_regex(r"[-_A-Za-z0-9]{10,80}:[-_A-Za-z0-9]{43}")
    | st.from_regex(r"\AgAAAAA[-_A-Za-z0-9]{94,200}\Z")  # the shape of a Fernet token
)
def test_cursors_decode_only_when_issued(text):
    with pytest.raises(ValidationError) as caught:
        decode_cursor(text, resource_id=1, ordering=KEY)
    assert list(caught.value.detail) == ["cursor"]


@given(
    st.lists(st.integers(min_value=0, max_value=2**63 - 1), min_size=3, max_size=3),
    st.booleans(),
)
def test_issued_cursors_round_trip_and_are_bound(position, before):
    token = encode_cursor(Cursor(7, "load", position, before))
    assert decode_cursor(token, resource_id=7, ordering=LOAD) == Cursor(7, "load", position, before)
    for resource_id, ordering in ((8, LOAD), (7, KEY)):
        with pytest.raises(ValidationError):
            decode_cursor(token, resource_id=resource_id, ordering=ordering)


# A body nested deeper than Python's recursion limit: DRF's JSONParser let RecursionError
# through, a 500 on every JSON endpoint.
DEEP_JSON = b"[" * 5000 + b"]" * 5000


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/access-requests/",
        "/api/v1/objections/",
        "/api/v1/needs/",
        "/api/v1/resources/fire-incidents/pushes/",
        "/api/v1/resources/fire-incidents/records/",
    ],
)
def test_deeply_nested_json_is_a_400(catalog, key_client, path):
    client, _key = key_client("fire", scopes=["read", "push"])
    response = client.post(path, DEEP_JSON, content_type="application/json")
    assert errors(response) == {"detail": "JSON 请求体嵌套过深，无法解析。"}


def test_every_api_view_parses_json_with_the_hubs_parser():
    """Views that name their parsers (and those that take the default) never use DRF's
    own JSONParser: e.g. the work-order transition, which needs an order to reach parsing."""
    from django.urls import URLPattern, URLResolver, get_resolver
    from rest_framework import parsers

    from hub.api.parsers import JSONParser

    def views(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from views(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view = getattr(pattern.callback, "cls", None)
                if view is not None:
                    yield view

    found = {view: view.parser_classes for view in views(get_resolver().url_patterns)}
    assert any(JSONParser in classes for classes in found.values())
    plain = [view for view, classes in found.items() if parsers.JSONParser in classes]
    assert plain == []
