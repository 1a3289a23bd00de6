"""Choosing the XLSX sheet of an upload: CLI ``--sheet``, the REST ``sheet`` field and the
admin upload form, by name or 1-based number."""

from __future__ import annotations

import contextlib
import io
import json
from io import StringIO

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

MONTHS = {"7月": (0, 5), "8月": (100, 3)}  # sheet -> first point number, rows


def workbook() -> bytes:
    """Two monthly sheets, each with a header the gas resource knows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, (start, rows) in MONTHS.items():
        sheet = book.create_sheet(title)
        for line in gas_csv(rows, start=start).splitlines():
            sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ingest(path, *extra) -> dict:
    out = StringIO()
    with contextlib.suppress(SystemExit):  # a rejected batch exits 1, summary printed
        call_command(
            "ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", *extra, stdout=out
        )
    return json.loads(out.getvalue())


def _points(batch_id: int) -> list[str]:
    return sorted(Record.objects.filter(batch_id=batch_id).values_list("key", flat=True))


def test_cli_sheet_by_name_or_number(gas, tmp_path):
    path = tmp_path / "months.xlsx"
    path.write_bytes(workbook())

    first = _ingest(path)
    assert (first["status"], first["inserted"]) == ("loaded", 5)
    assert _points(first["batch"])[0].startswith("GP000000")

    august = _ingest(path, "--sheet", "8月")
    assert (august["status"], august["inserted"]) == ("loaded", 3)
    assert "duplicate_of" not in august  # the same file, another sheet: another batch
    assert [key[:8] for key in _points(august["batch"])] == ["GP000100", "GP000101", "GP000102"]

    again = _ingest(path, "--sheet", "8月")
    assert again["duplicate_of"] == august["batch"]

    by_number = _ingest(path, "--sheet", "2")
    assert (by_number["status"], by_number["unchanged"], by_number["inserted"]) == ("loaded", 3, 0)

    missing = _ingest(path, "--sheet", "3")
    assert missing["status"] == "rejected"
    assert missing["message"] == "工作表序号 3 不存在（共 2 个工作表）。"


def test_rest_upload_takes_a_sheet(api_client, steward, gas):
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("months.xlsx", workbook())
    response = api_client.post(
        "/api/v1/resources/gas-pipeline-pressure/uploads/",
        {"file": upload, "sheet": "8月"},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["sheet"], body["status"], body["inserted"]) == ("8月", "loaded", 3)
    assert UploadBatch.objects.get(pk=body["id"]).sheet == "8月"


def test_admin_upload_previews_the_chosen_sheet(client, steward, gas):
    client.force_login(steward)
    url = "/admin/connectors/upload/gas-pipeline-pressure/"
    assert 'name="sheet"' in client.get(url).content.decode()
    response = client.post(url, {"file": SimpleUploadedFile("m.xlsx", workbook()), "sheet": "2"})
    batch = UploadBatch.objects.get()
    assert batch.sheet == "2" and batch.status == BatchStatus.RECEIVED
    preview = client.get(response["Location"])
    assert [row["cells"][0]["value"] for row in preview.context["rows"]] == [
        "GP000100",
        "GP000101",
        "GP000102",
    ]
