"""REST ways in: uploads, batches, record pushes with Idempotency-Key, templates, 404s."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.records.models import Record, UploadBatch
from tests.ingest.helpers import gas_csv

# Real commits: the load is enqueued with transaction.on_commit and runs eagerly then.
pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
PUSH = "/api/v1/resources/gas-pipeline-pressure/records/"


def _file(text: str, name: str = "gas.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def _record(i: int, pressure: float = 0.4) -> dict:
    # Pushed records follow the Table Schema (MPa, WGS-84), not a department's file quirks.
    return {
        "point_id": f"GP{i:06d}",
        "observed_at": "2025-07-01T14:30:00+08:00",
        "district": "310104",
        "pressure": pressure,
        "latitude": 31.2,
        "longitude": 121.4,
    }


def test_upload_runs_in_process_and_returns_201(api_client, steward, gas):
    api_client.force_authenticate(steward)
    response = api_client.post(UPLOAD, {"file": _file(gas_csv(7))}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "loaded" and body["inserted"] == 7 and body["rows_read"] == 7
    assert body["duplicate_of"] is None
    batch = UploadBatch.objects.get(pk=body["id"])
    assert batch.uploaded_by == steward and batch.department.code == "housing"
    assert batch.source == "csv" and batch.original_filename == "gas.csv"

    again = api_client.post(UPLOAD, {"file": _file(gas_csv(7), "again.csv")}, format="multipart")
    assert again.status_code == 200
    assert again.json()["duplicate_of"] == body["id"] == again.json()["id"]

    detail = api_client.get(f"/api/v1/batches/{body['id']}/")
    assert detail.status_code == 200 and detail.json()["inserted"] == 7


def test_rejected_upload_links_error_report(api_client, steward, gas):
    api_client.force_authenticate(steward)
    response = api_client.post(UPLOAD, {"file": _file(gas_csv(4, bad_row=2))}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "rejected" and body["errors"][0]["row"] == 4
    assert body["error_report_url"].endswith(f"/api/v1/batches/{body['id']}/error-report.xlsx")
    from permissions.models import AuditEvent

    api_client.get(f"/api/v1/batches/{body['id']}/")
    report = api_client.get(body["error_report_url"])
    assert report.status_code == 200
    assert b"".join(report.streaming_content)[:2] == b"PK"
    assert not Record.objects.exists()
    # Reading the row errors and the report joined the audit chain.
    reads = AuditEvent.objects.filter(
        detail__batch=body["id"], action__in=["read_batch", "export"]
    ).order_by("sequence")
    assert [(e.action, e.detail["what"], e.rows) for e in reads] == [
        ("read_batch", "errors", 1),
        ("export", "error_report", 1),
    ]


def test_hostile_file_is_rejected_not_500(api_client, steward, gas):
    api_client.force_authenticate(steward)
    junk = SimpleUploadedFile("x.xlsx", b"PK\x03\x04 this is not a zip", content_type="x")
    response = api_client.post(UPLOAD, {"file": junk}, format="multipart")
    assert response.status_code == 201
    assert response.json()["status"] == "rejected" and response.json()["message"]


def test_upload_missing_file_and_too_large(api_client, steward, gas, settings):
    api_client.force_authenticate(steward)
    assert api_client.post(UPLOAD, {}, format="multipart").status_code == 400
    settings.HUB_MAX_UPLOAD_BYTES = 50
    response = api_client.post(UPLOAD, {"file": _file(gas_csv(5))}, format="multipart")
    assert response.status_code == 413
    assert not UploadBatch.objects.exists()


def test_other_departments_get_404(api_client, make_user, steward, gas):
    api_client.force_authenticate(steward)
    batch_id = api_client.post(UPLOAD, {"file": _file(gas_csv(3))}, format="multipart").json()["id"]

    outsider = make_user("water", steward=True)
    api_client.force_authenticate(outsider)
    assert (
        api_client.post(UPLOAD, {"file": _file(gas_csv(2))}, format="multipart").status_code == 404
    )
    assert api_client.post(PUSH, [_record(1)], format="json").status_code == 404
    # Batches carry raw source rows: even of a 无条件共享 resource (whose records other
    # departments read masked) only the provider, managers and the uploader see them.
    assert api_client.get(f"/api/v1/batches/{batch_id}/").status_code == 404
    # A 有条件共享 resource's batches are invisible to them.
    UploadBatch.objects.filter(pk=batch_id).update(
        resource=UploadBatch.objects.get(pk=batch_id).resource.provider.resources.get(
            code="bridge-structural-health"
        )
    )
    assert api_client.get(f"/api/v1/batches/{batch_id}/").status_code == 404
    assert api_client.get("/api/v1/batches/999999/").status_code == 404
    api_client.force_authenticate(None)
    assert api_client.post(PUSH, [_record(1)], format="json").status_code in (401, 403)


def test_records_push_and_idempotency(api_client, steward, gas):
    api_client.force_authenticate(steward)
    records = [_record(i) for i in range(3)]
    first = api_client.post(PUSH, records, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["source"] == "api" and body["status"] == "loaded" and body["inserted"] == 3
    record = Record.objects.get(key="GP000001|2025-07-01T06:30:00Z")
    assert record.data["pressure"] == 0.4 and record.batch_id == body["id"]
    # Coordinates are taken as WGS-84 as pushed (no GCJ-02 shift applied).
    assert (record.latitude, record.longitude) == (31.2, 121.4)
    assert body["connector"] == "generic"

    replay = api_client.post(PUSH, records, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.status_code == 200 and replay.json()["id"] == body["id"]
    assert UploadBatch.objects.count() == 1

    conflict = api_client.post(PUSH, [_record(9)], format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert conflict.status_code == 409 and conflict.json()["batch"] == body["id"]

    changed = api_client.post(PUSH, [_record(1, 0.5)], format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert changed.status_code == 201
    assert (changed.json()["updated"], changed.json()["inserted"]) == (1, 0)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("k" * 129, "Idempotency-Key 最长 128 个字符。"),
        ("a\x01b", "Idempotency-Key 只能包含可见的 ASCII 字符和空格。"),
    ],
)
def test_records_push_refuses_a_bad_idempotency_key(api_client, steward, gas, key, message):
    api_client.force_authenticate(steward)
    response = api_client.post(PUSH, [_record(1)], format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert (response.status_code, response.json()) == (400, {"Idempotency-Key": [message]})
    assert not UploadBatch.objects.exists()


def test_records_push_keys_sharing_a_long_prefix_are_two_keys(api_client, steward, gas):
    api_client.force_authenticate(steward)
    first = api_client.post(PUSH, [_record(1)], format="json", HTTP_IDEMPOTENCY_KEY="k" * 128)
    other = api_client.post(PUSH, [_record(2)], format="json", HTTP_IDEMPOTENCY_KEY="k" * 127 + "j")
    assert (first.status_code, other.status_code) == (201, 201)
    assert UploadBatch.objects.count() == 2


def test_records_push_bad_body_and_bad_rows(api_client, steward, gas):
    api_client.force_authenticate(steward)
    assert api_client.post(PUSH, {"a": 1}, format="json").status_code == 400
    assert api_client.post(PUSH, [], format="json").status_code == 400
    bad = _record(1, pressure=-5)
    response = api_client.post(PUSH, [_record(0), bad], format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "rejected" and response.json()["rejected"] == 1
    assert not Record.objects.exists()


def test_template_download(api_client, steward, gas):
    api_client.force_authenticate(steward)
    response = api_client.get("/api/v1/resources/gas-pipeline-pressure/template.xlsx")
    assert response.status_code == 200
    assert response.content[:2] == b"PK"
    assert api_client.get("/api/v1/resources/nope/template.xlsx").status_code == 404
