"""Partial acceptance: all-or-nothing by default; "accept valid rows" (per resource or
per upload: CLI, API, admin) loads the good rows and keeps the rejected ones as a
correction batch with its error report; loading the corrected file completes the
original."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from hub.records.models import BatchStatus, Record, UploadBatch
from permissions.models import AuditEvent
from tests.ingest.helpers import gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
PUSH = "/api/v1/resources/gas-pipeline-pressure/records/"


def _ingest(path, *extra) -> tuple[int, dict]:
    out = StringIO()
    code = 0
    try:
        call_command(
            "ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", *extra, stdout=out
        )
    except SystemExit as exit_info:
        code = exit_info.code
    return code, json.loads(out.getvalue())


def _file(text: str, name: str = "gas.csv"):
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def test_cli_accepts_valid_rows_then_the_correction_completes_the_original(gas, write_csv):
    code, summary = _ingest(write_csv(rows=5, bad_row=1), "--accept-valid-rows")
    assert code == 2
    assert summary["status"] == "partial"
    assert (summary["inserted"], summary["rejected"], summary["accept_valid_rows"]) == (4, 1, True)
    original = UploadBatch.objects.get(pk=summary["batch"])
    [correction] = original.corrections.all()
    assert summary["corrections"] == [correction.pk]
    assert f"已留作更正批次 #{correction.pk}" in summary["message"]
    assert correction.status == BatchStatus.CORRECTION
    assert (correction.rows_read, correction.rejected) == (1, 1)
    assert correction.errors == original.errors and correction.errors[0]["row"] == 3
    assert correction.error_report.name == original.error_report.name != ""
    assert sorted(Record.objects.values_list("key", flat=True)) == [
        f"GP00000{i}|2025-07-01T06:30:00Z" for i in (0, 2, 3, 4)
    ]
    assert set(Record.objects.values_list("batch_id", flat=True)) == {original.pk}

    # A corrected file that is still wrong is rejected; nothing changes.
    code, still_bad = _ingest(
        write_csv("again.csv", rows=1, start=1, bad_row=1), "--corrects", str(correction.pk)
    )
    assert code == 1 and still_bad["status"] == "rejected"
    correction.refresh_from_db()
    assert correction.status == BatchStatus.CORRECTION

    code, fixed = _ingest(write_csv("fixed.csv", rows=1, start=1), "--corrects", str(correction.pk))
    assert code == 0 and fixed["status"] == "loaded" and fixed["inserted"] == 1
    assert fixed["correction_of"] == correction.pk
    correction.refresh_from_db()
    original.refresh_from_db()
    assert correction.status == BatchStatus.CORRECTED
    assert correction.message == f"已由批次 #{fixed['batch']} 更正。"
    assert original.status == BatchStatus.LOADED
    assert original.message == (
        f"已补齐：被拒绝的 1 行经更正批次 #{correction.pk} 以批次 #{fixed['batch']} 入库。"
    )
    assert Record.objects.count() == 5
    assert Record.objects.get(key="GP000001|2025-07-01T06:30:00Z").batch_id == fixed["batch"]

    # The correction batch is done: it cannot be corrected twice.
    with pytest.raises(Exception, match=f"批次 #{correction.pk} 不是本资源待更正的批次"):
        call_command(
            "ingest",
            str(write_csv("late.csv", rows=1, start=1)),
            "--resource",
            gas.code,
            "--corrects",
            str(correction.pk),
        )


def test_default_stays_all_or_nothing(gas, write_csv):
    code, summary = _ingest(write_csv(rows=5, bad_row=1))
    assert code == 1 and summary["status"] == "rejected" and summary["inserted"] == 0
    assert summary["corrections"] == [] and Record.objects.count() == 0


def test_resource_setting_and_api_choice(api_client, steward, gas):
    gas.accept_valid_rows = True
    gas.save(update_fields=["accept_valid_rows"])
    api_client.force_authenticate(steward)

    response = api_client.post(UPLOAD, {"file": _file(gas_csv(4, bad_row=2))}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "partial" and body["inserted"] == 3 and body["rejected"] == 1
    assert body["accept_valid_rows"] is True and len(body["corrections"]) == 1
    correction = api_client.get(f"/api/v1/batches/{body['corrections'][0]}/").json()
    assert correction["status"] == "correction" and correction["correction_of"] == body["id"]
    assert correction["error_report_url"]

    # The uploader may still ask for all-or-nothing.
    strict = api_client.post(
        UPLOAD,
        {"file": _file(gas_csv(4, start=10, bad_row=11)), "accept_valid_rows": "false"},
        format="multipart",
    )
    assert strict.json()["status"] == "rejected" and strict.json()["inserted"] == 0

    # Correcting a batch that is not a correction batch: 400 naming the parameter.
    wrong = api_client.post(
        UPLOAD, {"file": _file(gas_csv(1, start=2)), "corrects": body["id"]}, format="multipart"
    )
    assert wrong.status_code == 400
    assert wrong.json() == {"corrects": [f"批次 #{body['id']} 不是本资源待更正的批次。"]}
    bad_flag = api_client.post(
        UPLOAD, {"file": _file(gas_csv(1)), "accept_valid_rows": "maybe"}, format="multipart"
    )
    assert bad_flag.status_code == 400 and "accept_valid_rows" in bad_flag.json()

    fixed = api_client.post(
        UPLOAD,
        {"file": _file(gas_csv(1, start=2)), "corrects": body["corrections"][0]},
        format="multipart",
    )
    assert fixed.status_code == 201 and fixed.json()["status"] == "loaded"
    original = api_client.get(body["url"]).json()
    assert original["status"] == "loaded" and original["corrections"] == body["corrections"]


def test_push_accepting_valid_records(api_client, steward, gas):
    api_client.force_authenticate(steward)
    records = [
        {
            "point_id": f"GP{i:06d}",
            "observed_at": "2025-07-01T14:30:00+08:00",
            "district": "310104",
            "pressure": -1 if i == 1 else 0.4,
            "latitude": 31.2,
            "longitude": 121.4,
        }
        for i in range(3)
    ]
    response = api_client.post(f"{PUSH}?accept_valid_rows=true", records, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["inserted"], body["rejected"]) == ("partial", 2, 1)
    assert Record.objects.count() == 2
    wrong = api_client.post(f"{PUSH}?accept_valid_rows=yes", records, format="json")
    assert wrong.status_code == 400 and "accept_valid_rows" in wrong.json()


def test_admin_upload_form_accepts_valid_rows_and_corrects(client, steward, gas):
    url = "/admin/connectors/upload/gas-pipeline-pressure/"
    client.force_login(steward)
    form = client.get(url).content.decode()
    assert 'name="accept_valid_rows"' in form and 'name="corrects"' in form
    response = client.post(url, {"file": _file(gas_csv(3, bad_row=0)), "accept_valid_rows": "on"})
    batch = UploadBatch.objects.get()
    assert batch.accept_valid_rows is True
    client.post(response["Location"])  # confirm the preview
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PARTIAL and batch.inserted == 2
    correction = batch.corrections.get()
    page = client.get(f"{url}{batch.pk}/").content.decode()
    assert f"{url}?corrects={correction.pk}" in page
    prefilled = client.get(f"{url}?corrects={correction.pk}").content.decode()
    assert f'value="{correction.pk}"' in prefilled

    response = client.post(url, {"file": _file(gas_csv(1)), "corrects": str(correction.pk)})
    corrected = UploadBatch.objects.get(correction_of=correction)
    assert corrected.accept_valid_rows is False
    client.post(response["Location"])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.LOADED and Record.objects.count() == 3


def test_same_file_again_with_accept_valid_rows_is_loaded_with_that_choice(client, steward, gas):
    """The preview of an all-or-nothing upload with bad rows says to upload the file again
    choosing 只加载有效行. The batch was still received, so the same file reused it, and
    the new choice was dropped: the preview refused again with no confirm."""
    url = "/admin/connectors/upload/gas-pipeline-pressure/"
    client.force_login(steward)
    text = gas_csv(3, bad_row=0)
    first = client.post(url, {"file": _file(text)})
    refused = client.get(first["Location"]).content.decode()
    assert 'id="confirm-refused"' in refused and 'name="confirm"' not in refused
    again = client.post(url, {"file": _file(text), "accept_valid_rows": "on"})
    batch = UploadBatch.objects.get()  # the same batch, reused
    assert again["Location"] == first["Location"]
    assert batch.accept_valid_rows is True
    rechosen = AuditEvent.objects.filter(action="upload").order_by("sequence").last()
    assert (rechosen.actor, rechosen.detail["batch"]) == (steward.username, batch.pk)
    assert rechosen.detail["accept_valid_rows"] is True
    preview = client.get(again["Location"]).content.decode()
    assert 'id="confirm-partial"' in preview and 'name="confirm"' in preview
    client.post(again["Location"])
    batch.refresh_from_db()
    assert batch.status == BatchStatus.PARTIAL and batch.inserted == 2
    # And back: the same file without the choice is all-or-nothing again.
    other = gas_csv(2, start=10, bad_row=10)
    client.post(url, {"file": _file(other), "accept_valid_rows": "on"})
    assert UploadBatch.objects.get(status=BatchStatus.RECEIVED).accept_valid_rows is True
    client.post(url, {"file": _file(other)})
    assert UploadBatch.objects.get(status=BatchStatus.RECEIVED).accept_valid_rows is False
