"""Rows read so far while a batch loads: written outside the load transaction, shown by
the batch API as ``rows_read`` while the batch is parsed, removed when it ends."""

from __future__ import annotations

import pytest
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction

from connectors import services
from connectors.models import BatchProgress
from connectors.pipeline import load as pipeline
from connectors.pipeline import progress
from connectors.pipeline.progress import ProgressReporter
from hub.records.models import BatchStatus, UploadBatch

pytestmark = pytest.mark.django_db(transaction=True)


def _seen_elsewhere(batch_id: int) -> int | None:
    """The progress row as a third connection sees it (committed data only)."""
    other = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT rows_read FROM connectors_batchprogress WHERE batch_id = %s", [batch_id]
            )
            row = cursor.fetchone()
        return row[0] if row else None
    finally:
        other.close()


def _received(gas, housing, write_csv, rows: int) -> UploadBatch:
    path = write_csv(rows=rows)
    return services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name
    ).batch


@pytest.mark.postgres
def test_progress_is_visible_before_the_load_commits(
    gas, housing, write_csv, api_client, steward, monkeypatch
):
    monkeypatch.setattr(progress, "INTERVAL", 0)
    batch = _received(gas, housing, write_csv, rows=3)
    reporter = ProgressReporter(batch.pk)
    with transaction.atomic():
        UploadBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PARSING)
        reporter.report(1234)
        assert _seen_elsewhere(batch.pk) == 1234  # while this transaction is open
        reporter.report(5678)
        assert _seen_elsewhere(batch.pk) == 5678
    api_client.force_authenticate(steward)
    body = api_client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert (body["status"], body["rows_read"]) == ("parsing", 5678)
    reporter.close()
    assert _seen_elsewhere(batch.pk) is None
    body = api_client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert body["rows_read"] == 0  # the batch's own count until it ends


@pytest.mark.postgres
def test_a_load_reports_rows_chunk_by_chunk_then_removes_them(gas, housing, write_csv, monkeypatch):
    monkeypatch.setattr(progress, "INTERVAL", 0)
    monkeypatch.setattr(pipeline, "CHUNK_ROWS", 5)
    batch = _received(gas, housing, write_csv, rows=22)
    seen = []
    real = ProgressReporter.report

    def watched(self, rows_read):
        real(self, rows_read)
        seen.append((rows_read, _seen_elsewhere(self.batch_id)))

    monkeypatch.setattr(ProgressReporter, "report", watched)
    done = services.run_batch(batch_id=batch.pk)
    assert (done.status, done.rows_read, done.inserted) == (BatchStatus.LOADED, 22, 22)
    assert seen == [(5, 5), (10, 10), (15, 15), (20, 20), (22, 22)]
    assert not BatchProgress.objects.exists()


def test_sqlite_records_progress_in_the_cache(
    gas, housing, write_csv, api_client, steward, monkeypatch
):
    """SQLite has one writer at a time (the load's): progress goes to Django's cache,
    which the polls of the web process (the load runs in one of its threads) read."""
    if connection.vendor == "postgresql":
        pytest.skip("PostgreSQL records progress in connectors_batchprogress")
    monkeypatch.setattr(progress, "INTERVAL", 0)
    batch = _received(gas, housing, write_csv, rows=3)
    reporter = ProgressReporter(batch.pk)
    assert reporter.in_cache
    UploadBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.PARSING)
    with transaction.atomic():
        reporter.report(3)
    assert progress.rows_read_so_far(batch.pk) == 3
    api_client.force_authenticate(steward)
    body = api_client.get(f"/api/v1/batches/{batch.pk}/").json()
    assert (body["status"], body["rows_read"]) == ("parsing", 3)
    reporter.close()
    assert progress.rows_read_so_far(batch.pk) is None
    assert not BatchProgress.objects.exists()
