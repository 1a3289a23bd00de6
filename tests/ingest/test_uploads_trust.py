"""Uploads people trust: the error report holds the whole file, so fixing it and uploading
it loads the whole file; the report's own columns are recognised and named in a warning;
the preview refuses a confirm it knows would fail; loads confirmed on the embedded default
run outside the request and report progress."""

from __future__ import annotations

import io
import threading

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given
from hypothesis import strategies as st

from connectors import confirm, services
from connectors.pipeline import load as pipeline
from connectors.writers import report_columns
from connectors.writers.reports import merged_rows, write_error_report
from connectors.writers.spreadsheet import safe_text
from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import HEADER, gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/admin/connectors/upload/gas-pipeline-pressure/"
GREEN = "FFFFC7CE"


def _load(gas, housing, path, **options) -> UploadBatch:
    batch = services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name, **options
    ).batch
    return services.run_batch(batch_id=batch.pk)


def _report(batch: UploadBatch) -> openpyxl.Workbook:
    with batch.error_report.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def _rows(sheet) -> list[list]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_report_holds_every_row_and_the_fixed_report_loads_the_whole_file(
    gas, housing, tmp_path, write_csv
):
    original = _load(gas, housing, write_csv(rows=6, bad_row=2))
    assert (original.status, original.rejected) == (BatchStatus.REJECTED, 1)
    assert not Record.objects.exists()

    book = _report(original)
    sheet = book.active
    rows = _rows(sheet)
    assert rows[0] == ["源文件行号", *HEADER.split(","), "错误说明"]
    # Every row of the file, in order, with its original text; only row 4 is marked.
    assert [row[0] for row in rows[1:]] == [2, 3, 4, 5, 6, 7]
    source = gas_csv(6, bad_row=2).splitlines()[1:]
    assert [",".join(str(cell) for cell in row[1:-1]) for row in rows[1:]] == source
    assert [row[-1] for row in rows[1:]] == [None, None, rows[3][-1], None, None, None]
    assert rows[3][-1].startswith("管网压力(MPa)：")
    pressure = sheet.cell(row=4, column=5)
    assert pressure.value == "-5" and pressure.fill.start_color.rgb == GREEN
    assert "最小值" in pressure.comment.text
    assert sheet.cell(row=3, column=5).fill.fill_type is None  # a good row stays plain

    # The steward fixes the red cell and uploads the report itself.
    pressure.value = "0.4"
    fixed = tmp_path / "fixed-report.xlsx"
    book.save(fixed)
    loaded = _load(gas, housing, fixed)
    assert (loaded.status, loaded.rows_read, loaded.inserted) == (BatchStatus.LOADED, 6, 6)
    stored = {r.key.split("|")[0]: r.data["pressure"] for r in Record.objects.all()}
    assert stored == {f"GP{i:06d}": 0.4 if i == 2 else 0.35 for i in range(6)}
    # The two report columns were ignored, and said so (not as unknown columns).
    assert [(w["code"], w["column"]) for w in loaded.warnings] == [
        ("report_column", "源文件行号"),
        ("report_column", "错误说明"),
    ]


def test_report_of_a_report_keeps_one_set_of_report_columns(gas, housing, tmp_path, write_csv):
    first = _load(gas, housing, write_csv(rows=3, bad_row=1))
    path = tmp_path / "still-bad.xlsx"
    with first.error_report.open("rb") as handle:
        path.write_bytes(handle.read())
    again = _load(gas, housing, path)  # uploaded unfixed: rejected again
    assert (again.status, again.rejected) == (BatchStatus.REJECTED, 1)
    rows = _rows(_report(again).active)
    assert rows[0] == ["源文件行号", *HEADER.split(","), "错误说明"]
    assert [row[0] for row in rows[1:]] == [2, 3, 4]  # the report's own rows
    assert rows[3][-1] is None and rows[2][-1].startswith("管网压力(MPa)：")


def test_partial_load_then_the_full_report_completes_the_original(
    gas, housing, tmp_path, write_csv
):
    original = _load(gas, housing, write_csv(rows=4, bad_row=0), accept_valid_rows=True)
    assert (original.status, original.inserted, original.rejected) == (BatchStatus.PARTIAL, 3, 1)
    correction = original.corrections.get()
    book = _report(original)
    assert book.active.max_row == 5  # header + all four rows
    book.active.cell(row=2, column=5).value = "0.5"
    fixed = tmp_path / "fixed.xlsx"
    book.save(fixed)
    loaded = _load(gas, housing, fixed, corrects=correction)
    assert (loaded.status, loaded.inserted, loaded.unchanged) == (BatchStatus.LOADED, 1, 3)
    original.refresh_from_db()
    assert original.status == BatchStatus.LOADED
    assert Record.objects.get(key__startswith="GP000000|").data["pressure"] == 0.5
    assert Record.objects.count() == 4


def test_report_streams_rows_without_holding_the_file():
    """merged_rows walks the raw chunks and the spooled rejected rows together, lazily."""
    import numpy as np
    import pandas as pd

    from connectors.base import RowError
    from connectors.readers.base import RawChunk

    consumed = []

    def chunks():
        for start in (2, 5):
            consumed.append(start)
            frame = pd.DataFrame({"a": [f"v{r}" for r in range(start, start + 3)]})
            yield RawChunk(frame=frame, source_rows=np.arange(start, start + 3))

    rejected = iter([(3, ["v3"], [RowError(3, "a", "bad")]), (6, ["v6"], [RowError(6, "a", "x")])])
    rows = merged_rows(chunks(), rejected)
    assert next(rows) == (2, ["v2"], []) and consumed == [2]
    rest = list(rows)
    assert [(n, values, [e.message for e in errors]) for n, values, errors in rest] == [
        (3, ["v3"], ["bad"]),
        (4, ["v4"], []),
        (5, ["v5"], []),
        (6, ["v6"], ["x"]),
        (7, ["v7"], []),
    ]
    out = io.BytesIO()
    write_error_report(out=out, headers=["a"], rows=iter(rest))
    sheet = openpyxl.load_workbook(out).active
    assert [c.value for c in sheet["A"]] == ["源文件行号", 3, 4, 5, 6, 7]


def test_report_columns_are_recognised_in_any_language_only_together():
    headers = ["监测点编号", "管网压力(MPa)"]
    assert report_columns.positions(["源文件行号", *headers, "错误说明"]) == [0, 3]
    assert report_columns.positions(["Source row number", *headers, "Error description"]) == [0, 3]
    assert report_columns.positions(["源文件行号", *headers]) == []
    assert report_columns.positions([*headers, "错误说明"]) == []
    # A resource that knows a column of that title keeps it as data.
    assert report_columns.positions(["源文件行号", *headers, "错误说明"], ["错误说明"]) == []


@given(st.text(max_size=30))
def test_unquote_inverts_safe_text(text):
    if text.startswith("'"):
        return  # a literal leading apostrophe is kept as written
    assert report_columns.unquote_text(safe_text(text)) == text


def test_preview_shows_names_and_offers_only_what_can_succeed(client, steward, gas):
    client.force_login(steward)
    response = client.post(URL, {"file": SimpleUploadedFile("gas.csv", gas_csv(3).encode())})
    html = client.get(response["Location"]).content.decode()
    # No known error: the ordinary confirm; the district by name, coordinates rounded.
    assert 'name="confirm"' in html and 'id="confirm-refused"' not in html
    assert '<td title="310101">黄浦区</td>' in html
    assert '<td title="31.23191987362987">31.23192</td>' in html

    bad = SimpleUploadedFile("bad.csv", gas_csv(3, bad_row=0).encode())
    response = client.post(URL, {"file": bad, "accept_valid_rows": "on"})
    html = client.get(response["Location"]).content.decode()
    # Valid rows accepted for this upload: confirm says so.
    assert "确认入库（只加载有效行）" in html and 'id="confirm-partial"' in html


def test_a_corrected_file_with_known_errors_cannot_accept_valid_rows(
    client, steward, gas, housing, write_csv
):
    original = _load(gas, housing, write_csv(rows=3, bad_row=0), accept_valid_rows=True)
    correction = original.corrections.get()
    client.force_login(steward)
    still_bad = SimpleUploadedFile("again.csv", gas_csv(1, bad_row=0).encode())
    response = client.post(URL, {"file": still_bad, "corrects": str(correction.pk)})
    html = client.get(response["Location"]).content.decode()
    assert 'id="confirm-refused"' in html and 'id="accept-valid-rows"' not in html
    assert "更正文件须整批入库" in html
    refused = client.post(response["Location"], {"accept_valid_rows": "1"})
    assert refused.status_code == 400
    assert "更正文件须整批入库，不能只加载有效行。" in refused.content.decode()
    batch = UploadBatch.objects.get(correction_of=correction)
    assert batch.status == BatchStatus.RECEIVED


def test_confirm_answers_at_once_and_the_load_runs_in_a_thread(
    client, steward, gas, settings, monkeypatch
):
    settings.HUB_BACKGROUND_LOADS = True
    gate, threads = threading.Event(), []
    real = pipeline.run_batch

    def gated(*, batch_id):
        threads.append(threading.current_thread().name)
        assert gate.wait(30)
        return real(batch_id=batch_id)

    monkeypatch.setattr(pipeline, "run_batch", gated)
    client.force_login(steward)
    response = client.post(URL, {"file": SimpleUploadedFile("gas.csv", gas_csv(5).encode())})
    confirmed = client.post(response["Location"], {"confirm": "1"})
    batch = UploadBatch.objects.get()
    assert confirmed["Location"] == f"{URL}{batch.pk}/"
    # The request is over, the load not: it waits in its own thread.
    assert batch.status == BatchStatus.RECEIVED and not Record.objects.exists()
    assert client.get(f"/api/v1/batches/{batch.pk}/").json()["status"] == "received"
    page = client.get(confirmed["Location"]).content.decode()
    assert 'id="batch-busy"' in page and 'id="batch-busy" hidden' not in page
    gate.set()
    assert confirm.wait_for_load(batch.pk, timeout=60)
    assert threads == [f"hub-load-{batch.pk}"]
    batch.refresh_from_db()
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, 5)
    assert Record.objects.count() == 5


@pytest.mark.parametrize(
    ("value", "names", "decimals", "shown"),
    [
        ("310115", {"310115": "浦东新区"}, None, "浦东新区"),
        ("999999", {"310115": "浦东新区"}, None, "999999"),  # unknown code: as stored
        (31.23191987362987, None, 6, "31.23192"),
        (121.4654508758567, None, 6, "121.465451"),
        (31.0, None, 6, "31"),
        (None, {"310115": "浦东新区"}, 6, ""),
    ],
)
def test_display_value_names_codes_and_rounds_coordinates(value, names, decimals, shown):
    from hub.catalog.display import display_value

    assert display_value(value, "code", names=names, decimals=decimals) == shown


def test_field_displays_name_districts_and_round_the_coordinate_fields(gas, steward):
    from hub.catalog.display import field_displays

    shown = field_displays(gas, steward)
    assert shown["district"].show("310101") == "黄浦区"
    assert shown["latitude"].show(31.23191987362987) == "31.23192"
    assert shown["pressure"].show(0.123456789) == "0.123456789"  # not a coordinate


def test_preview_and_report_warning_in_english(client, steward, gas):
    client.force_login(steward)
    bad = SimpleUploadedFile("bad.csv", gas_csv(3, bad_row=0).encode())
    response = client.post(URL, {"file": bad}, HTTP_ACCEPT_LANGUAGE="en")
    html = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "1 rows of the preview already have errors" in html
    assert 'value="Load valid rows only"' in html
    assert "The preview checks the first 20 rows only" in html
    from django.utils import translation

    from hub.records.notices import REPORT_COLUMN, render_message

    with translation.override("en"):
        assert render_message(REPORT_COLUMN, {}).startswith("The file is a corrected error report")


def test_report_of_a_file_read_in_many_chunks_marks_each_bad_row(
    gas, housing, write_csv, monkeypatch
):
    """The merge of the raw re-read with the spooled rejected rows across chunk limits."""
    from connectors.readers import formats as readers

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    real_open = readers.open_table

    def small_chunks(**options):
        return real_open(**{**options, "chunk_rows": 4})  # the re-read: other limits

    monkeypatch.setattr(readers, "open_table", small_chunks)
    path = write_csv(rows=22)
    text = path.read_text(encoding="utf-8").splitlines()
    bad = {4, 5, 17}  # data rows (0-based) made wrong: rows 6, 7 and 19 of the file
    for i in bad:
        text[1 + i] = text[1 + i].replace(",0.35,", ",-1,")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    batch = _load(gas, housing, path)
    assert (batch.status, batch.rows_read, batch.rejected) == (BatchStatus.REJECTED, 22, 3)
    rows = _rows(_report(batch).active)[1:]
    assert [row[0] for row in rows] == list(range(2, 24))
    assert [row[0] for row in rows if row[-1]] == [2 + i for i in sorted(bad)]
    assert [row[4] for row in rows] == ["-1" if i in bad else "0.35" for i in range(22)]
