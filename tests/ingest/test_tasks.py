"""The Celery task and the service edges: retries, signal on commit, racing uploads."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry
from django.db import OperationalError

from connectors import services
from connectors.pipeline import load as pipeline
from connectors.tasks import MAX_RETRIES, ingest_batch
from hub.records.models import BatchStatus, UploadBatch
from hub.records.signals import batch_loaded


def _received(gas, housing, write_csv, **options):
    path = write_csv(**options)
    return services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name
    ).batch


def test_transient_errors_are_retried_then_marked_failed(gas, housing, write_csv, monkeypatch):
    batch = _received(gas, housing, write_csv)
    calls = []

    def broken(*, batch_id):
        calls.append(batch_id)
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(pipeline, "run_batch", broken)
    with pytest.raises(Retry) as retry:
        ingest_batch.apply(args=[batch.pk])
    assert retry.value.when == 5  # backoff: 5 s, then 10, 20, …
    assert UploadBatch.objects.get(pk=batch.pk).status == BatchStatus.RECEIVED
    with pytest.raises(OperationalError):
        ingest_batch.apply(args=[batch.pk], retries=MAX_RETRIES)
    assert len(calls) == 2
    batch.refresh_from_db()
    assert batch.status == BatchStatus.FAILED and "closed the connection" in batch.message


def test_bad_input_is_not_retried(gas, housing, write_csv, monkeypatch):
    batch = _received(gas, housing, write_csv, rows=3, bad_row=0)
    real, calls = pipeline.run_batch, []

    def counting(*, batch_id):
        calls.append(batch_id)
        return real(batch_id=batch_id)

    monkeypatch.setattr(pipeline, "run_batch", counting)
    assert ingest_batch.apply(args=[batch.pk]).get() == "rejected"
    assert ingest_batch.apply(args=[batch.pk]).get() == "rejected"  # final: no-op
    assert len(calls) == 2
    batch.refresh_from_db()
    assert batch.attempts == 1


def test_batch_loaded_is_sent_on_commit(
    gas, housing, write_csv, django_capture_on_commit_callbacks
):
    received = []

    def listener(sender, batch, **kwargs):
        received.append((sender, batch.pk, batch.status))

    batch_loaded.connect(listener)
    try:
        batch = _received(gas, housing, write_csv, rows=4)
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.run_batch(batch_id=batch.pk)
        assert received == []  # not before the commit
        for callback in callbacks:
            callback()
        assert received == [(UploadBatch, batch.pk, "loaded")]
    finally:
        batch_loaded.disconnect(listener)


def test_submit_enqueues_on_commit(gas, housing, write_csv, django_capture_on_commit_callbacks):
    batch = _received(gas, housing, write_csv, rows=2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.submit_batch(batch=batch)
        assert UploadBatch.objects.get(pk=batch.pk).status == BatchStatus.RECEIVED
    assert len(callbacks) == 2  # the enqueue, then (nested) the batch_loaded signal
    assert UploadBatch.objects.get(pk=batch.pk).status == BatchStatus.LOADED


def test_racing_identical_uploads_end_as_one_batch(gas, housing, write_csv, monkeypatch):
    first = _received(gas, housing, write_csv, rows=2)
    UploadBatch.objects.filter(pk=first.pk).update(status=BatchStatus.LOADED)
    real = services._live_batch
    seen = []

    def racing(resource, sha256, sheet=""):
        # The other upload commits between our check and our insert.
        seen.append(sha256)
        return None if len(seen) == 1 else real(resource, sha256, sheet)

    monkeypatch.setattr(services, "_live_batch", racing)
    path = write_csv(rows=2)
    second = services.create_batch(
        resource=gas, department=housing, file=path, original_filename=path.name
    )
    assert second.batch.pk == first.pk and second.duplicate_of == first.pk
    assert UploadBatch.objects.count() == 1


def test_sweeper_skips_previews_and_requeues_lost_batches(
    gas, housing, write_csv, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    preview = _received(gas, housing, write_csv, name="a.csv", rows=2)
    lost = _received(gas, housing, write_csv, name="b.csv", rows=3)
    services.submit_batch(batch=lost)  # its message never reached a worker
    with django_capture_on_commit_callbacks(execute=True):
        swept = services.sweep_stuck_batches(received_for=timedelta(0))
    assert swept == [lost.pk]
    assert UploadBatch.objects.get(pk=lost.pk).status == BatchStatus.LOADED
    assert UploadBatch.objects.get(pk=preview.pk).status == BatchStatus.RECEIVED


@pytest.mark.postgres
def test_postgres_pipeline_counts(gas, housing, write_csv):
    first = services.run_batch(batch_id=_received(gas, housing, write_csv, rows=40).pk)
    assert (first.inserted, first.updated, first.unchanged) == (40, 0, 0)
    second = services.run_batch(
        batch_id=_received(gas, housing, write_csv, name="c.csv", rows=40, changed=5).pk
    )
    assert (second.inserted, second.updated, second.unchanged) == (0, 1, 39)


def test_the_task_is_acknowledged_after_it_ran():
    """A worker killed mid-load leaves the message to be redelivered (acks_late), also
    when it dies hard (reject_on_worker_lost); the load is idempotent by batch id."""
    assert ingest_batch.acks_late is True
    assert ingest_batch.reject_on_worker_lost is True
    assert ingest_batch.max_retries == MAX_RETRIES
