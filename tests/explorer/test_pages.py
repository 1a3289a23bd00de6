"""The explorer's pages read through the permission door and are audited like the API."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse

from permissions.models import AuditEvent
from tests.permissions.conftest import fire_data, make_record

pytestmark = pytest.mark.django_db

FIRE = "/explorer/fire-incidents/"


def grid_keys(response) -> list[str]:
    """The incident ids in the grid (first column), in page order."""
    html = response.content.decode()
    body = html.split('id="record-grid"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        row.split("<td>", 1)[1].split("</td>", 1)[0]
        for row in body.split("<tr")[1:]
        if "<td>" in row
    ]


def test_list_names_only_visible_resources_with_status(records, grant, staff_client):
    client, _user = staff_client("cityops")
    response = client.get("/explorer/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "public-security-incidents" not in html  # 不予共享: not even named
    assert "fire-incidents" in html
    row = html.split("fire-incidents", 1)[1].split("</tr>", 1)[0]
    assert "可申请" in row
    grant(records["fire-incidents"], "cityops")
    row = client.get("/explorer/").content.decode().split("fire-incidents", 1)[1].split("</tr>")[0]
    assert "access-readable" in row and "可读" in row


def test_list_pending_request_and_search(records, staff_client):
    from hub.catalog.models import Department
    from permissions.services import request_access

    client, user = staff_client("cityops")
    request_access(
        user=user,
        resource=records["fire-incidents"],
        requester=Department.objects.get(code="cityops"),
        purpose="应急处置",
    )
    html = client.get("/explorer/", {"q": "火"}).content.decode()
    assert "申请中" in html.split("fire-incidents", 1)[1].split("</tr>", 1)[0]
    assert "road-ponding" not in html
    by_keyword = client.get("/explorer/", {"q": "积水"}).content.decode()
    assert "road-ponding" in by_keyword and "fire-incidents" not in by_keyword
    only_water = client.get("/explorer/", {"provider": "water"}).content.decode()
    assert "road-ponding" in only_water and "fire-incidents" not in only_water


def test_not_shared_resource_is_404_and_denied_is_audited(records, staff_client):
    client, _user = staff_client("cityops")
    response = client.get("/explorer/public-security-incidents/")
    assert response.status_code == 404
    event = AuditEvent.objects.get(action="read")
    assert (event.outcome, event.resource_code) == ("denied", "public-security-incidents")


def test_requestable_page_offers_request_not_records(records, staff_client):
    client, _user = staff_client("cityops")
    response = client.get(FIRE)
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="request-access"' in html
    try:  # the sharing workflow's request page once installed, else the admin's add page
        target = reverse("access:request", args=["fire-incidents"])
    except NoReverseMatch:
        target = f"/admin/permissions/accessrequest/add/?resource={records['fire-incidents'].pk}"
    assert f'href="{target}" id="request-access"' in html
    assert 'id="record-grid"' not in html and "13812345678" not in html
    assert 'id="upload-link"' not in html
    assert not AuditEvent.objects.filter(action="read").exists()


def test_district_scoped_grantee_sees_only_their_districts(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops", districts=["310101", "310104"])
    client, _user = staff_client("cityops")
    response = client.get(FIRE)
    html = response.content.decode()
    assert response.status_code == 200
    assert grid_keys(response) == ["F1", "F2"]
    assert "黄浦区" in html and "徐汇区" in html
    assert "<td>310101</td>" not in html  # names, not GB/T 2260 codes
    assert '<option value="310115"' not in html  # no picker entry outside the scope
    assert client.get(FIRE, {"district": "310115"}).status_code == 200
    assert grid_keys(client.get(FIRE, {"district": "310115"})) == []
    assert grid_keys(client.get(FIRE, {"district": "310104"})) == ["F2"]
    assert 'id="record-count">2<' in html


def test_masked_values_shown_masked_and_not_filterable(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    response = client.get(FIRE)
    html = response.content.decode()
    assert "13812345678" not in html and "138****5678" in html
    assert 'class="masked">138****5678' in html
    for params, name in (
        ({"eq.caller_phone": "13812345678"}, "eq.caller_phone"),
        ({"eq_field": "caller_phone", "eq_value": "13812345678"}, "eq.caller_phone"),
        ({"order": "caller_phone"}, "order"),
        ({"order": "-address"}, "order"),
    ):
        refused = client.get(FIRE, params)
        text = refused.content.decode()
        assert refused.status_code == 400, params
        assert f"参数 {name}" in text, params
        assert 'id="record-grid"' not in text
    # Masked fields are neither filter nor sort choices.
    picker = html.split('id="id_eq_field"', 1)[1].split("</select>", 1)[0]
    assert "caller_phone" not in picker and "incident_type" in picker
    assert 'value="caller_phone"' not in html.split('id="id_order"', 1)[1].split("</select>")[0]


def test_sorting_and_keyset_pages(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    assert grid_keys(client.get(FIRE, {"order": "-incident_id"})) == ["F3", "F2", "F1"]
    first = client.get(FIRE, {"page_size": 2, "order": "district"})
    assert grid_keys(first) == ["F1", "F2"]
    html = first.content.decode()
    link = html.split('" id="next-page"', 1)[0].rsplit('href="', 1)[1].replace("&amp;", "&")
    second = client.get(FIRE + link)
    assert grid_keys(second) == ["F3"]
    assert 'id="next-page"' not in second.content.decode()
    assert 'id="previous-page"' in second.content.decode()


def test_local_times_and_rounded_coordinates(records, grant, staff_client):
    resource = records["fire-incidents"]
    data = fire_data("F9", "310101", "13800000000", "黄浦区某路1号", 31.2345678, 121.4876543)
    data["reported_at"] = "2026-07-01T06:30:00Z"
    make_record(resource, "F9", data, district="310101", lat=31.2345678, lon=121.4876543)
    grant(resource, "cityops")
    client, _user = staff_client("cityops")
    html = client.get(FIRE, {"eq.incident_id": "F9"}).content.decode()
    assert "2026-07-01 14:30:00" in html
    assert "31.2346" in html and "121.4877" in html and "31.2345678" not in html


def test_read_audit_written(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops", districts=["310101", "310104"])
    client, _user = staff_client("cityops")
    client.get(FIRE)
    event = AuditEvent.objects.get(action="read")
    assert (event.actor, event.resource_code, event.rows, event.outcome) == (
        "cityops-staff",
        "fire-incidents",
        2,
        "ok",
    )
    assert "caller_phone" in event.fields


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_download_equals_grid_filter_and_is_audited(records, grant, staff_client, fmt):
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    params = {"district": "310104,310115", "order": "-incident_id"}
    shown = grid_keys(client.get(FIRE, params))
    assert shown == ["F3", "F2"]
    response = client.get(FIRE, {**params, "format": fmt})
    assert response.status_code == 200
    body = b"".join(response.streaming_content)
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    else:
        from openpyxl import load_workbook

        sheet = load_workbook(io.BytesIO(body), read_only=True).active
        rows = [
            [("" if v is None else str(v)) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    assert rows[0][0] == records["fire-incidents"].fields.get(name="incident_id").label
    assert [row[0] for row in rows[1:]] == shown
    phone_column = [spec.name for spec in records["fire-incidents"].fields.all()].index(
        "caller_phone"
    )
    assert all("****" in row[phone_column] for row in rows[1:])
    event = AuditEvent.objects.get(action="export")
    assert (event.rows, event.detail["format"]) == (2, fmt)


def test_bad_parameters_are_named_never_500(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    for params, name in (
        ({"since": "yesterday"}, "since"),
        ({"until": "2026-13-45"}, "until"),
        ({"district": "黄浦"}, "district"),
        ({"cursor": "forged"}, "cursor"),
        ({"page_size": "0"}, "page_size"),
        ({"format": "pdf"}, "format"),
        ({"order": "nope"}, "order"),
        ({"eq.casualties": "many"}, "eq.casualties"),
        ({"eq_value": "x"}, "eq_field"),
    ):
        response = client.get(FIRE, params)
        assert response.status_code == 400, params
        assert f"参数 {name}" in response.content.decode(), params
    listing = client.get("/explorer/", {"page": "x", "sharing_type": "bogus"})
    assert listing.status_code == 400
    assert "参数 page" in listing.content.decode()
    assert "参数 sharing_type" in listing.content.decode()


def test_upload_link_only_for_provider_steward(records, make_user, client):
    client.force_login(make_user("fire", steward=True))
    html = client.get(FIRE).content.decode()
    assert 'id="upload-link"' in html and "/admin/connectors/upload/fire-incidents/" in html
    assert "13812345678" in html  # the provider reads in clear
    client.force_login(make_user("fire", username="fire-clerk"))
    assert 'id="upload-link"' not in client.get(FIRE).content.decode()


def test_api_snippet_shows_key_prefix_only(records, grant, staff_client):
    from django.contrib.auth.models import Permission

    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    grant(records["fire-incidents"], "cityops")
    client, user = staff_client("cityops")
    html = client.get(FIRE).content.decode()
    assert "&lt;API-KEY&gt;" in html
    api_key, secret = create_api_key(department=Department.objects.get(code="cityops"), name="k")
    user.user_permissions.add(Permission.objects.get(codename="view_partnerapikey"))
    html = client.get(FIRE).content.decode()
    assert f"Api-Key {api_key.prefix}.********" in html
    assert secret not in html
    assert "/api/v1/resources/fire-incidents/records/" in html


def test_query_count_constant_in_rows(records, grant, staff_client):
    resource = records["fire-incidents"]
    grant(resource, "cityops")
    client, _user = staff_client("cityops")
    client.get(FIRE)  # warm caches (count, sessions)

    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            response = client.get(FIRE, {"page_size": 50})
        assert response.status_code == 200
        return len(context.captured_queries)

    few = queries()
    for index in range(30):
        key = f"G{index:02d}"
        make_record(resource, key, fire_data(key, "310101", "13800000000", "地址", 31.2, 121.4))
    from django.core.cache import cache

    cache.clear()
    client.get(FIRE)
    assert len(grid_keys(client.get(FIRE, {"page_size": 50}))) == 33
    assert queries() == few


def test_record_count_is_capped(records, grant, staff_client, monkeypatch):
    from explorer import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    assert 'id="record-count">超过 2<' in client.get(FIRE).content.decode()


def test_values_are_escaped(records, grant, staff_client):
    resource = records["fire-incidents"]
    data = fire_data("F8", "310101", "13800000000", "地址", 31.2, 121.4)
    data["incident_type"] = "<script>alert(1)</script>"
    make_record(resource, "F8", data, district="310101")
    grant(resource, "cityops")
    client, _user = staff_client("cityops")
    html = client.get(FIRE, {"eq.incident_id": "F8"}).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_anonymous_is_sent_to_login(records, client):
    response = client.get(FIRE)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/explorer/fire-incidents/")


def test_english_page(records, grant, staff_client):
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    html = client.get(FIRE, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Shared data" in html and "Readable" in html and "Download CSV" in html
    assert "下载 CSV" not in html


@pytest.mark.parametrize("order", ["reported_at", "-reported_at"])
def test_time_order_pages_through_ties_and_missing_times(records, grant, staff_client, order):
    """Every row once, in time order (missing times last ascending, first descending),
    forwards with ``next`` and back with ``previous``, one row per page."""
    import datetime as dt

    from django.utils import timezone

    from hub.records.models import Record

    resource = records["fire-incidents"]
    base = timezone.now().replace(microsecond=0)
    times = {"F1": base, "F2": None, "F3": base - dt.timedelta(hours=2)}
    for index, when in enumerate([base, None, base - dt.timedelta(hours=1), base, None]):
        key = f"T{index}"
        make_record(resource, key, fire_data(key, "310101", "13800000000", "地址", 31.2, 121.4))
        times[key] = when
    for key, when in times.items():
        Record.objects.filter(resource=resource, key=key).update(observed_at=when)
    ids = dict(Record.objects.filter(resource=resource).values_list("key", "id"))
    known = sorted((k for k in times if times[k] is not None), key=lambda k: (times[k], ids[k]))
    missing = sorted((k for k in times if times[k] is None), key=lambda k: ids[k])
    expected = known + missing
    if order.startswith("-"):
        expected = list(reversed(expected))
    grant(resource, "cityops")
    client, _user = staff_client("cityops")

    def link(html: str, anchor: str) -> str | None:
        if f'id="{anchor}"' not in html:
            return None
        return html.split(f'" id="{anchor}"', 1)[0].rsplit('href="', 1)[1].replace("&amp;", "&")

    seen, response = [], client.get(FIRE, {"order": order, "page_size": 1})
    while True:
        seen += grid_keys(response)
        following = link(response.content.decode(), "next-page")
        if following is None:
            break
        response = client.get(FIRE + following)
    assert seen == expected
    back = []
    while True:
        back += grid_keys(response)
        preceding = link(response.content.decode(), "previous-page")
        if preceding is None:
            break
        response = client.get(FIRE + preceding)
    assert back == list(reversed(expected))


def test_download_is_bounded_and_audits_rows_sent(records, grant, staff_client, monkeypatch):
    from explorer import grid

    monkeypatch.setattr(grid, "MAX_EXPORT_ROWS", 2)
    grant(records["fire-incidents"], "cityops")
    client, _user = staff_client("cityops")
    response = client.get(FIRE, {"format": "csv"})
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 3  # header + 2 of the 3 rows
    assert AuditEvent.objects.get(action="export").rows == 2
