"""The ingest pipeline: run one batch from its stored file to records, all-or-nothing.

``run_batch`` moves a batch received → parsing → validated → loaded | rejected | failed.
Chunks from the connectors' readers are keyed, checked for duplicate keys across the
whole file and upserted inside ONE transaction; the first rejected row stops writing (the
rest of the file is still read so the user gets every error at once) and the transaction
is rolled back. Only rejected rows are kept, spooled to a temporary file; the XLSX error
report then re-reads the stored file and writes every row with them marked
(``connectors.writers.reports``), so memory stays bounded for files of millions of rows.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from connectors.base import InputError, ParsedChunk, RowError
from connectors.pipeline import corrections
from connectors.pipeline.chunking import prefetch
from connectors.pipeline.fingerprints import RowMemo
from connectors.pipeline.keying import Keyed
from connectors.pipeline.keying import keyed as keyed_chunks
from connectors.pipeline.parsing import parse_file
from connectors.pipeline.parsing import parse_records as parse_pushed_records
from connectors.pipeline.progress import ProgressReporter
from connectors.profiles.registry import GenericConnector
from hub.catalog.models import DataResource
from hub.records import notices, recordstore
from hub.records.models import BatchSource, BatchStatus, UploadBatch
from hub.records.signals import batch_loaded

logger = logging.getLogger(__name__)

# 25k rows keep a chunk's frames, JSON and COPY payload small; with one chunk being
# parsed ahead and one queued, peak memory stays well under 600 MB for any file size.
CHUNK_ROWS = 25_000
MAX_STORED_ERRORS = 1_000
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# A load inserting this many rows refreshes the record table's planner statistics.
ANALYZE_AFTER_ROWS = 50_000


class _Rollback(Exception):
    """Raised inside the records savepoint to undo every write of a rejected batch."""


@dataclass
class _Run:
    """Counters and spooled errors of one run of a batch."""

    rows_read: int = 0
    rejected: int = 0
    counts: recordstore.UpsertCounts = field(default_factory=recordstore.UpsertCounts)
    errors: list[dict] = field(default_factory=list)
    error_count: int = 0
    headers: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    spool: tempfile._TemporaryFileWrapper | None = None
    report_rows: int = 0
    memo: RowMemo | None = None
    progress: ProgressReporter | None = None
    notices: list = field(default_factory=list)

    def add_errors(self, errors: list[RowError]) -> None:
        self.error_count += len(errors)
        room = MAX_STORED_ERRORS - len(self.errors)
        if room > 0:
            self.errors.extend(error.as_dict() for error in errors[:room])

    def spool_rows(self, rows: list[tuple[int, list, list[RowError]]]) -> None:
        if self.spool is None:
            # Closed in run_batch's finally block, after the report is written.
            self.spool = tempfile.TemporaryFile(mode="w+", encoding="utf-8")  # noqa: SIM115
        # Every rejected row (on disk): the report marks each of them in the whole file.
        for source_row, values, errors in rows:
            line = [source_row, values, [error.as_dict() for error in errors]]
            self.spool.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
            self.report_rows += 1

    def spooled(self) -> Iterator[tuple[int, list, list[RowError]]]:
        if self.spool is None:
            return
        self.spool.seek(0)
        for line in self.spool:
            source_row, values, errors = json.loads(line)
            yield source_row, values, [RowError(**error) for error in errors]


def _connector_for(batch: UploadBatch):
    """Files get their department's connector (its quirks: units, CRS, layouts); records
    pushed through the API follow the published Table Schema, so the generic one."""
    if batch.source == BatchSource.API:
        return GenericConnector()
    # A profile chosen for the batch, else one saved for files with its headers.
    from connectors.proposal.choice import connector_for_file

    return connector_for_file(batch)


def _chunks(batch: UploadBatch, connector, memo: RowMemo) -> Iterator[ParsedChunk]:
    """The parsed chunks of a batch's stored file (or pushed records).

    ``parse_file`` reads the schema and checks the header here, in the caller's thread
    (it queries the database); the chunks are then normalised lazily.
    """
    if batch.source == BatchSource.API:
        with batch.file.open("rb") as handle:
            records = json.load(handle)
        parsed = parse_pushed_records(
            records=records, resource=batch.resource, connector=connector, memo=memo
        )
        return (chunk for chunk in [parsed])
    chunks = parse_file(
        path=Path(batch.file.path),
        filename=batch.original_filename or batch.file.name,
        resource=batch.resource,
        connector=connector,
        chunk_rows=CHUNK_ROWS,
        sheet=batch.sheet or None,
        memo=memo,
    )
    return iter(chunks)


def _process(batch: UploadBatch, run: _Run, connector) -> None:
    """Parse every chunk; write valid rows until the first rejected row is seen.

    Reading, normalising, keying and the duplicate-key check of the next chunk run in a
    helper thread while this one loads the current chunk into the database.
    """
    resource = batch.resource
    names = recordstore.field_names(resource)
    labels = dict(resource.fields.values_list("name", "label"))
    store = recordstore.RecordStore(resource)
    started = time.perf_counter()
    # Under the resource's write lock from here, so the fingerprints read now stay true.
    store.begin_load()
    run.memo = RowMemo.load(resource)
    build_copy = store.copy_builder(batch=batch)
    chunks = _chunks(batch, connector, run.memo)
    keyed = prefetch(
        keyed_chunks(chunks, resource, names, labels, build_copy, store.state, run.memo)
    )
    with contextlib.closing(keyed) as items:
        for item in items:
            run.timings["parse"] += time.perf_counter() - started
            started = _take(batch, run, item, store)
            if run.progress is not None:
                run.progress.report(run.rows_read)
    run.timings["parse"] += time.perf_counter() - started
    for step, seconds in store.state.timings.items():
        run.timings[f"load_{step}"] = seconds


def _take(batch: UploadBatch, run: _Run, item: Keyed, store: recordstore.RecordStore) -> float:
    """Count, spool errors of, or (while no row was rejected) load one keyed chunk;
    return when it ended."""
    chunk, rows, errors = item.chunk, item.rows, item.errors
    if not run.headers:
        run.headers = [str(name) for name in chunk.raw.columns]
    run.notices.extend(chunk.warnings)
    # Spent in the reader thread, overlapping the load of the previous chunk.
    run.timings["prepare"] += item.seconds
    source_rows = np.asarray(chunk.source_rows, dtype=np.int64)
    known = len(chunk.known) if chunk.known is not None else 0
    run.rows_read += len(chunk) + known
    invalid = source_rows[~np.asarray(chunk.valid, dtype=bool)]
    bad_rows = sorted({error.row for error in errors} | {int(row) for row in invalid})
    if bad_rows:
        run.rejected += len(bad_rows)
        run.add_errors(sorted(errors, key=lambda e: e.row))
        _spool_bad_rows(run, chunk, errors, bad_rows)
    if batch.accept_valid_rows and bad_rows:
        # Accept valid rows (connectors.pipeline.corrections): load the chunk's good rows.
        t0 = time.perf_counter()
        good = rows.filter(~pl.col("source_row").is_in(bad_rows))
        run.counts += store.upsert(batch=batch, rows=good)
        bad_known = 0
        if chunk.known is not None:
            bad_known = int(np.isin(chunk.known.source_rows, bad_rows).sum())
        run.counts += recordstore.UpsertCounts(unchanged=known - bad_known)
        run.timings["load"] += time.perf_counter() - t0
    elif not run.rejected:
        t0 = time.perf_counter()
        run.counts += store.upsert(batch=batch, rows=rows, payload=item.payload)
        run.counts += recordstore.UpsertCounts(unchanged=known)
        run.timings["load"] += time.perf_counter() - t0
    return time.perf_counter()


def _spool_bad_rows(run: _Run, chunk: ParsedChunk, errors: list[RowError], bad: list[int]) -> None:
    by_row: dict[int, list[RowError]] = defaultdict(list)
    for error in errors:
        by_row[error.row].append(error)
    frames = [(chunk.raw, chunk.source_rows)]
    if chunk.known is not None:
        frames.append((chunk.known.raw, chunk.known.source_rows))
    positions = {int(row): (raw, i) for raw, rows in frames for i, row in enumerate(rows)}
    items = []
    for row in bad:
        raw, i = positions.get(row, (None, None))
        values = [] if raw is None else ["" if v is None else v for v in raw.iloc[i].tolist()]
        items.append((row, values, by_row[row]))
    run.spool_rows(items)


def _claim(batch_id: int) -> UploadBatch | None:
    """Move a batch to parsing (committed, visible to pollers); None when nothing to do."""
    with transaction.atomic():
        # SKIP LOCKED: a batch whose row is locked is being loaded by another worker
        # right now (redelivery or sweeper); leave it to that worker.
        batch = UploadBatch.objects.select_for_update(skip_locked=True).filter(pk=batch_id).first()
        if batch is None or batch.is_final:
            return None
        # A batch found in "parsing" was left by a killed worker: its transaction was
        # rolled back with the connection, so starting over is safe.
        batch.status = BatchStatus.PARSING
        batch.attempts += 1
        batch.started_at = timezone.now()
        batch.save(update_fields=["status", "attempts", "started_at"])
        return batch


def run_batch(*, batch_id: int) -> UploadBatch:
    """Parse, validate and load one batch all-or-nothing; returns it in its final status.

    Idempotent: a final batch is returned untouched; a batch another worker is loading
    right now (row lock held) is left to it. Transient database errors propagate (the
    task retries them); bad input ends as ``rejected``, anything else as ``failed``.

    Messages are stored in the source language (msgids filled in) even when the load runs
    inside a request in another language (eager tasks); viewers read them in theirs
    (``hub.catalog.stored_text``).
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _run_batch(batch_id)


def _run_batch(batch_id: int) -> UploadBatch:
    if _claim(batch_id) is None:
        return UploadBatch.objects.select_related("resource").get(pk=batch_id)
    run = _Run(progress=ProgressReporter(batch_id))
    try:
        batch = _run_claimed(batch_id, run)
        if batch.status in (BatchStatus.REJECTED, BatchStatus.PARTIAL) and run.report_rows:
            try:
                _write_report(batch, run)
            except Exception:
                # The verdict stands without the report; the errors are on the batch.
                logger.exception("error report of batch %s could not be written", batch_id)
        return batch
    finally:
        if run.progress is not None:
            run.progress.close()
        if run.spool is not None:
            run.spool.close()


def _run_claimed(batch_id: int, run: _Run) -> UploadBatch:
    """The load transaction of a claimed batch, and what to record when it fails."""
    begun = time.perf_counter()
    try:
        with transaction.atomic():
            # Lock the batch row only ("self"): locking the joined resource row too made
            # concurrent loads of one resource skip each other and stay in "parsing".
            batch = (
                UploadBatch.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("resource", "department")
                .filter(pk=batch_id)
                .first()
            )
            if batch is None or batch.is_final:
                # Another worker holds the batch (or has just finished it).
                return UploadBatch.objects.get(pk=batch_id)
            connector = _connector_for(batch)
            batch.connector, batch.connector_version = connector.code, connector.version
            batch.profile_version = connector.profile_version
            try:
                with transaction.atomic():
                    _process(batch, run, connector)
                    if run.rejected and not batch.accept_valid_rows:
                        raise _Rollback
            except _Rollback:
                pass
            _finish(batch, run, begun)
            committing = time.perf_counter()
        # The commit flushes the WAL of every written record (no deferred FK checks left).
        batch.timings["commit"] = round(time.perf_counter() - committing, 3)
        if batch.status == BatchStatus.LOADED:
            _refresh_statistics(batch)
        UploadBatch.objects.filter(pk=batch.pk).update(timings=batch.timings)
        return batch
    except InputError as exc:
        errors = [{"row": exc.row or 0, "column": exc.column or "", "message": exc.message}]
        return _mark(batch_id, BatchStatus.REJECTED, exc.message, errors=errors, run=run)
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("batch %s failed", batch_id)
        return _mark(batch_id, BatchStatus.FAILED, f"{type(exc).__name__}: {exc}", run=run)


def _refresh_statistics(batch: UploadBatch) -> None:
    """ANALYZE the record table after a large load, so the next load's probe is planned
    on the unique index (docs/INGEST.md). Its sample is fixed in size: ~0.1–0.3 s."""
    if batch.inserted < ANALYZE_AFTER_ROWS or connection.vendor != "postgresql":
        return
    started = time.perf_counter()
    try:
        with connection.cursor() as cursor:
            # The probe plans on resource_id and key only; other columns double the cost.
            cursor.execute("ANALYZE hub_record (resource_id, key)")
    except DatabaseError:
        # The batch is committed and loaded; stale statistics only slow the next probe.
        logger.warning("ANALYZE after batch %s failed", batch.pk, exc_info=True)
        return
    batch.timings["analyze"] = round(time.perf_counter() - started, 3)


def _finish(batch: UploadBatch, run: _Run, begun: float) -> None:
    """Record the outcome inside the load transaction; announce a load on commit."""
    batch.rows_read = run.rows_read
    batch.rejected = run.rejected
    batch.errors = run.errors
    batch.warnings = [notice.as_dict() for notice in notices.merge(run.notices)]
    batch.finished_at = timezone.now()
    if run.rejected and batch.accept_valid_rows:
        corrections.finish_partial(
            batch=batch, counts=run.counts, rejected=run.rejected, error_count=run.error_count
        )
    elif run.rejected:
        batch.status = BatchStatus.REJECTED
        batch.inserted = batch.updated = batch.unchanged = 0
        batch.message = _("%(rows)d 行有错误（共 %(errors)d 处），整批未入库。") % {
            "rows": run.rejected,
            "errors": run.error_count,
        }
    elif run.rows_read == 0:
        # A header and no rows: nothing was delivered, so the resource is not fresher.
        batch.status = BatchStatus.REJECTED
        batch.inserted = batch.updated = batch.unchanged = 0
        batch.message = _("文件只有表头，没有数据行，未入库。")
        batch.errors = [{"row": 0, "column": "", "message": batch.message}]
    else:
        batch.status = BatchStatus.LOADED
        batch.inserted, batch.updated = run.counts.inserted, run.counts.updated
        batch.unchanged = run.counts.unchanged
        batch.message = _("已入库：新增 %(i)d，更新 %(u)d，未变 %(n)d。") % {
            "i": batch.inserted,
            "u": batch.updated,
            "n": batch.unchanged,
        }
        DataResource.objects.filter(pk=batch.resource_id).update(last_loaded_at=batch.finished_at)
        if run.memo is not None:
            run.memo.save(resource=batch.resource, batch=batch)
        transaction.on_commit(lambda: batch_loaded.send(sender=UploadBatch, batch=batch))
        if batch.correction_of_id is not None:
            corrections.complete_original(batch=batch)
    run.timings["total"] = time.perf_counter() - begun
    batch.timings = {name: round(value, 3) for name, value in run.timings.items()}
    batch.save()
    _audit_load(batch)


def _audit_load(batch: UploadBatch) -> None:
    """The outcome of a load joins the audit chain in the load's own transaction."""
    from permissions.audit import log_event

    log_event(
        actor=batch.uploaded_by,
        action="load",
        resource=batch.resource,
        api_key_prefix=batch.api_key_prefix,
        rows=batch.inserted + batch.updated,
        detail={
            "batch": batch.pk,
            "status": batch.status,
            "rows_read": batch.rows_read,
            "inserted": batch.inserted,
            "updated": batch.updated,
            "unchanged": batch.unchanged,
            "rejected": batch.rejected,
        },
    )


def _write_report(batch: UploadBatch, run: _Run) -> None:
    """Write the XLSX error report of a rejected (or partial) batch: every row of a file
    (connectors.writers.reports), the rejected records of a push."""
    from connectors.writers.reports import attach_report, file_rows

    if batch.source == BatchSource.API or not batch.file:
        attach_report(batch=batch, headers=run.headers, rows=run.spooled())
        return
    headers, rows = file_rows(batch=batch, connector=_connector_for(batch), rejected=run.spooled())
    attach_report(batch=batch, headers=headers, rows=rows)


def _mark(
    batch_id: int, status: str, message: str, *, run: _Run, errors: list | None = None
) -> UploadBatch:
    """Record a rejected or failed outcome after the load transaction was rolled back."""
    batch = UploadBatch.objects.get(pk=batch_id)
    batch.status = status
    batch.message = message[:2000]
    batch.errors = errors or []
    batch.warnings = [notice.as_dict() for notice in notices.merge(run.notices)]
    batch.rows_read, batch.rejected = run.rows_read, run.rejected
    batch.inserted = batch.updated = batch.unchanged = 0
    batch.finished_at = timezone.now()
    batch.save()
    return batch


def mark_failed(*, batch_id: int, message: str) -> UploadBatch:
    """Give up on a batch (e.g. after the task's last retry); it may be uploaded again."""
    return _mark(batch_id, BatchStatus.FAILED, message, run=_Run())
