"""Direct checks of the records API with grants, masking, keys and exports."""

from __future__ import annotations

import csv
import io
import json

import pytest

pytestmark = pytest.mark.django_db

URL = "/api/v1/resources/{}/records/"


def test_granted_department_sees_scoped_masked_rows(records, grant, make_user, api_client):
    grant(
        records["fire-incidents"],
        "cityops",
        districts=["310101", "310115"],
        fields=["incident_id", "district", "caller_phone", "address"],
        clear_fields=["address"],
    )
    api_client.force_authenticate(make_user("cityops"))
    response = api_client.get(URL.format("fire-incidents"))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fields"] == ["incident_id", "district", "address", "caller_phone"]
    assert [r["incident_id"] for r in body["results"]] == ["F1", "F3"]
    assert body["results"][0]["caller_phone"] == "138****5678"
    assert body["results"][0]["address"] == "黄浦区南京东路100号"


def test_csv_export_neutralises_formulas(records, make_user, api_client):
    api_client.force_authenticate(make_user("fire"))
    response = api_client.get(URL.format("fire-incidents"), {"format": "csv"})
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "incident_id"
    assert rows[1][3] == '\'=HYPERLINK("x")'
    assert len(rows) == 4


def test_api_key_reads_unconditional(records, key_client):
    client, _ = key_client("bigdata")
    response = client.get(URL.format("road-ponding"))
    assert response.status_code == 200
    assert response.json()["results"][0]["depth"] == 12.5
    assert client.get(URL.format("fire-incidents")).status_code == 404


def test_json_and_xlsx_exports(records, make_user, api_client):
    api_client.force_authenticate(make_user("police"))
    response = api_client.get(URL.format("public-security-incidents"), {"format": "json"})
    assert json.loads(b"".join(response.streaming_content))[0]["reporter_name"] == "张三丰"
    response = api_client.get(URL.format("public-security-incidents"), {"format": "xlsx"})
    assert response.status_code == 200
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [c.value for c in sheet[2]][:2] == ["P1", "2026-07-01T10:00:00+08:00"]
