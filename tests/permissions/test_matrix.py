"""The generated permission matrix: callers × sharing types × endpoints and formats.

Every cell asserts the status code and, where data comes back, the exact rows, the
exact fields and the (masked or clear) values.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from rest_framework.test import APIClient

from tests.permissions.matrix import (
    CALLERS,
    SHARING,
    build_world,
    code,
    expected_records,
    metadata_visible,
    record_key,
)

pytestmark = pytest.mark.django_db

API_ENDPOINTS = ["list", "detail", "schema", "catalog"]
RECORD_FORMATS = ["page", "json", "csv", "xlsx"]
ADMIN_ENDPOINTS = ["admin-changelist", "admin-change", "admin-records"]


@pytest.fixture
def world(make_user, key_client, grant):
    return build_world(make_user, key_client, grant)


def client_for(world, caller: str) -> APIClient:
    callers, _ = world
    who = callers[caller]
    if isinstance(who, APIClient):
        return who
    client = APIClient()
    if who is not None:
        client.force_login(who)
    return client


def unauthenticated(caller: str) -> bool:
    return metadata_visible(caller, "open") is None


@pytest.mark.parametrize("endpoint", API_ENDPOINTS)
@pytest.mark.parametrize("sharing", list(SHARING))
@pytest.mark.parametrize("caller", CALLERS)
def test_catalog_endpoints(world, caller, sharing, endpoint):
    client = client_for(world, caller)
    visible = metadata_visible(caller, sharing)
    url = {
        "list": "/api/v1/resources/",
        "detail": f"/api/v1/resources/{code(sharing)}/",
        "schema": f"/api/v1/resources/{code(sharing)}/schema/",
        "catalog": "/api/v1/catalog.jsonld",
    }[endpoint]
    response = client.get(url)
    if visible is None:
        assert response.status_code == 401
        return
    if endpoint == "list":
        assert response.status_code == 200
        codes = {item["code"] for item in response.json()["results"]}
        assert (code(sharing) in codes) is visible
    elif endpoint == "catalog":
        assert response.status_code == 200
        ids = {d["dct:identifier"] for d in json.loads(response.content)["dcat:dataset"]}
        assert (code(sharing) in ids) is visible
    elif not visible:
        assert response.status_code == 404
    elif endpoint == "detail":
        assert response.status_code == 200
        names = [f["name"] for f in response.json()["field_specs"]]
        assert names == ["rid", "district", "name", "phone", "idno", "note"]
    else:
        assert response.status_code == 200
        assert [f["name"] for f in response.json()["fields"]][:2] == ["rid", "district"]


def read_rows(response, fmt: str) -> tuple[list[str], list[dict]]:
    """(field names, rows as dicts) from any records format."""
    if fmt == "page":
        body = response.json()
        return body["fields"], body["results"]
    content = b"".join(response.streaming_content)
    if fmt == "json":
        rows = json.loads(content)
        return (list(rows[0]) if rows else []), rows
    if fmt == "csv":
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    else:
        sheet = load_workbook(io.BytesIO(content), read_only=True).active
        table = [[cell for cell in row] for row in sheet.iter_rows(values_only=True)]
    header, *body = table
    return list(header), [dict(zip(header, row, strict=True)) for row in body]


@pytest.mark.parametrize("fmt", RECORD_FORMATS)
@pytest.mark.parametrize("sharing", list(SHARING))
@pytest.mark.parametrize("caller", CALLERS)
def test_records(world, caller, sharing, fmt):
    client = client_for(world, caller)
    params = {} if fmt == "page" else {"format": fmt}
    response = client.get(f"/api/v1/resources/{code(sharing)}/records/", params)
    if unauthenticated(caller):
        assert response.status_code == 401
        return
    expected = expected_records(caller, sharing)
    if expected is None:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    rows, fields, values = expected
    names, got = read_rows(response, fmt)
    assert names == fields
    assert [row["rid"] for row in got] == rows
    for row in got:
        assert list(row) == fields
        for name, value in values.items():
            assert row[name] == value
    if "note" in fields:
        note = got[0]["note"]
        assert note == ("'=1+1" if fmt in ("csv", "xlsx") else "=1+1")


@pytest.mark.parametrize("endpoint", ADMIN_ENDPOINTS)
@pytest.mark.parametrize("sharing", list(SHARING))
@pytest.mark.parametrize("caller", CALLERS)
def test_admin(world, caller, sharing, endpoint, client):
    callers, resources = world
    who = callers[caller]
    if isinstance(who, APIClient) or who is None:
        # Admin pages take no API keys: everyone without a session goes to the login page.
        response = client.get("/admin/catalog/dataresource/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
        return
    client.force_login(who)
    visible = metadata_visible(caller, sharing)
    if endpoint == "admin-changelist":
        response = client.get("/admin/catalog/dataresource/")
        assert response.status_code == 200
        assert (code(sharing) in response.content.decode()) is visible
    elif endpoint == "admin-change":
        response = client.get(f"/admin/catalog/dataresource/{resources[sharing].pk}/change/")
        assert response.status_code == (200 if visible else 404)
    else:
        # Raw record data in the admin is for the provider and superusers only.
        response = client.get("/admin/records/record/")
        assert response.status_code == 200
        clear = caller in ("provider", "superuser")
        assert (record_key(sharing, "1") in response.content.decode()) is clear
