"""The pipeline end to end on real files: counts, all-or-nothing, duplicates, no-ops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors import services
from connectors.base import ParsedChunk, RowError
from connectors.pipeline import load as pipeline
from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import gas_frame


def _load(gas, housing, path):
    upload = services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name
    )
    assert (upload.duplicate_of, upload.message) == (None, "")
    return services.run_batch(batch_id=upload.batch.pk)


def test_csv_loads_with_counts_and_lineage(gas, housing, write_csv):
    batch = _load(gas, housing, write_csv(rows=25))

    assert batch.status == BatchStatus.LOADED
    assert (batch.rows_read, batch.inserted, batch.updated, batch.unchanged, batch.rejected) == (
        25,
        25,
        0,
        0,
        0,
    )
    assert batch.errors == []
    assert batch.attempts == 1
    assert batch.connector
    assert {"parse", "prepare", "load", "total"} <= set(batch.timings)
    record = Record.objects.get(resource=gas, key="GP000003|2025-07-01T06:30:00Z")
    assert record.batch_id == batch.pk
    assert record.source_row == 5  # header is row 1
    assert record.data["district"] == "310101"
    assert record.data["observed_at"] == "2025-07-01T06:30:00Z"  # 14:30 Shanghai
    gas.refresh_from_db()
    assert gas.last_loaded_at == batch.finished_at


def test_changed_row_is_exactly_one_update(gas, housing, write_csv):
    _load(gas, housing, write_csv(rows=30))
    batch = _load(gas, housing, write_csv("changed.csv", rows=30, changed=12))
    assert (batch.inserted, batch.updated, batch.unchanged) == (0, 1, 29)
    assert Record.objects.get(key="GP000012|2025-07-01T06:30:00Z").data["pressure"] == 0.36
    assert Record.objects.filter(resource=gas).count() == 30


def test_identical_file_is_a_noop(gas, housing, write_csv):
    path = write_csv(rows=5)
    first = _load(gas, housing, path)
    again = services.create_batch(
        resource=gas, department=housing, file=path, original_filename="again.csv"
    )
    assert again.batch.pk == first.pk
    assert again.duplicate_of == first.pk and again.is_duplicate
    assert f"#{first.pk}" in again.message
    assert not hasattr(again.batch, "duplicate_of")  # the batch carries no upload state
    assert UploadBatch.objects.count() == 1


def test_rejected_file_writes_nothing_and_reports(gas, housing, write_csv):
    batch = _load(gas, housing, write_csv(rows=8, bad_row=5))

    assert batch.status == BatchStatus.REJECTED
    assert batch.rejected == 1 and batch.rows_read == 8
    assert batch.inserted == 0
    assert batch.errors[0]["row"] == 7
    assert "压力" in batch.errors[0]["column"]
    assert not Record.objects.exists()
    assert batch.error_report.name.endswith(".xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(batch.error_report.path).active
    values = [cell for row in sheet.iter_rows(values_only=True) for cell in row]
    assert "GP000005" in values


def test_rejected_file_can_be_fixed_and_uploaded(gas, housing, write_csv):
    rejected = _load(gas, housing, write_csv("bad.csv", rows=4, bad_row=0))
    assert rejected.status == BatchStatus.REJECTED
    fixed = _load(gas, housing, write_csv("good.csv", rows=4))
    assert fixed.status == BatchStatus.LOADED and fixed.inserted == 4


def test_whole_file_problem_is_a_rejected_batch(gas, housing, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    batch = _load(gas, housing, path)
    assert batch.status == BatchStatus.REJECTED
    assert batch.message
    assert not Record.objects.exists()


def test_missing_column_is_rejected_with_message(gas, housing, tmp_path):
    path = tmp_path / "cols.csv"
    path.write_text("监测点编号,监测时间\nGP000001,2025-07-01 14:30\n", encoding="utf-8")
    batch = _load(gas, housing, path)
    assert batch.status == BatchStatus.REJECTED
    assert "缺少必填列" in batch.message


def test_final_batch_is_not_run_again(gas, housing, write_csv):
    batch = _load(gas, housing, write_csv(rows=3))
    again = services.run_batch(batch_id=batch.pk)
    assert again.status == BatchStatus.LOADED and again.attempts == 1


def test_batch_left_parsing_by_a_dead_worker_restarts(gas, housing, write_csv):
    path = write_csv(rows=6)
    batch = services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name
    ).batch
    UploadBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PARSING, attempts=1)
    done = services.run_batch(batch_id=batch.pk)
    assert done.status == BatchStatus.LOADED and done.attempts == 2 and done.inserted == 6


def _chunk(start, count, *, bad=(), first_row=None):
    frame = gas_frame(start, count)
    first_row = start + 2 if first_row is None else first_row
    rows = np.arange(first_row, first_row + count)
    valid = np.ones(count, dtype=bool)
    errors = []
    for i in bad:
        valid[i] = False
        errors.append(RowError(int(rows[i]), "管网压力", "小于最小值 0", "pressure"))
    raw = pd.DataFrame({"监测点编号": frame["point_id"], "管网压力": frame["pressure"].astype(str)})
    return ParsedChunk(frame=frame, source_rows=rows, valid=valid, errors=errors, raw=raw)


@pytest.fixture
def fake_chunks(monkeypatch):
    """Make the pipeline read prepared chunks instead of parsing the file."""

    def install(chunks):
        monkeypatch.setattr(pipeline, "parse_file", lambda **kwargs: iter(chunks))

    return install


def test_bad_row_in_chunk_three_leaves_nothing(gas, housing, write_csv, fake_chunks):
    fake_chunks([_chunk(0, 100), _chunk(100, 100), _chunk(200, 100, bad=[42])])
    batch = _load(gas, housing, write_csv(rows=1))
    assert batch.status == BatchStatus.REJECTED
    assert batch.rows_read == 300 and batch.rejected == 1
    assert batch.errors == [
        {"row": 244, "column": "管网压力", "message": "小于最小值 0", "field": "pressure"}
    ]
    assert not Record.objects.exists()


def test_duplicate_keys_across_chunks_name_the_first_row(gas, housing, write_csv, fake_chunks):
    # ids 40..49 of the second chunk (rows 52..61) repeat rows 42..51 of the first one.
    fake_chunks([_chunk(0, 50), _chunk(40, 20, first_row=52), _chunk(70, 5, first_row=72)])
    batch = _load(gas, housing, write_csv(rows=1))
    assert batch.status == BatchStatus.REJECTED
    assert batch.rows_read == 75 and batch.rejected == 10
    assert [e["row"] for e in batch.errors] == list(range(52, 62))
    assert "GP000040|2025-07-01T06:30:00Z" in batch.errors[0]["message"]
    assert "第 42 行" in batch.errors[0]["message"]
    assert "第 51 行" in batch.errors[-1]["message"]
    assert not Record.objects.exists()


def test_duplicate_key_within_a_chunk(gas, housing, write_csv, fake_chunks):
    chunk = _chunk(0, 6)
    chunk.frame.loc[5, "point_id"] = "GP000001"  # row 7 repeats row 3
    fake_chunks([chunk])
    batch = _load(gas, housing, write_csv(rows=1))
    assert batch.rejected == 1
    assert batch.errors[0]["row"] == 7 and "第 3 行" in batch.errors[0]["message"]


def test_stored_errors_are_capped_but_all_counted(
    gas, housing, write_csv, fake_chunks, monkeypatch
):
    monkeypatch.setattr(pipeline, "MAX_STORED_ERRORS", 5)
    fake_chunks([_chunk(0, 20, bad=range(12))])
    batch = _load(gas, housing, write_csv(rows=1))
    assert batch.rejected == 12 and len(batch.errors) == 5
    assert "12" in batch.message


def test_unexpected_error_fails_and_rolls_back(gas, housing, write_csv, monkeypatch):
    from hub.records import recordstore

    calls = []
    real = recordstore.RecordStore.upsert

    def upsert_then_break(store, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("disk on fire")
        return real(store, **kwargs)

    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 10)
    monkeypatch.setattr(recordstore.RecordStore, "upsert", upsert_then_break)
    batch = _load(gas, housing, write_csv(rows=25))
    assert batch.status == BatchStatus.FAILED
    assert "disk on fire" in batch.message
    assert not Record.objects.exists()
    monkeypatch.setattr(recordstore.RecordStore, "upsert", real)
    retried = services.run_batch(batch_id=batch.pk)
    assert retried.status == BatchStatus.FAILED  # final: retry means a new upload
    again = _load(gas, housing, write_csv(rows=25))
    assert again.status == BatchStatus.LOADED and again.inserted == 25


def test_upload_above_limit_is_refused(gas, housing, write_csv, settings):
    settings.HUB_MAX_UPLOAD_BYTES = 100
    with pytest.raises(services.UploadTooLarge):
        services.create_batch(
            resource=gas, department=housing, file=write_csv(rows=10), original_filename="x.csv"
        )
    assert not UploadBatch.objects.exists()
