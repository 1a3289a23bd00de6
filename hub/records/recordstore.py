"""The record store: the one owner of record writes.

``RecordStore(resource)`` holds everything that writes or deletes a resource's records:
its write lock, its source-row fingerprints, the fast upsert of the ingest pipeline, the
write of ready-made records (``operations.samples``) and deletes (the record admin, the
benchmark). Nothing else writes ``Record`` (tests/hub/test_record_writes.py checks it).

* ``upsert`` writes one chunk of prepared rows (``hub.records.recordrows.prepare_rows``) and
  returns how many were inserted, updated or unchanged. On PostgreSQL it COPYs the chunk
  into a temporary staging table and runs one ``INSERT … ON CONFLICT DO UPDATE`` whose
  conflict arm skips unchanged rows; elsewhere it uses ``bulk_create(update_conflicts)``.
* every other write first takes the resource's lock and drops its fingerprints (they
  describe the records as loaded), see ``forget_fingerprints``.

The caller owns the transaction: a batch is all-or-nothing because the pipeline wraps all
chunks of a file in one ``transaction.atomic`` block.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence

import polars as pl
from django.db import connection, transaction
from django.db.models import QuerySet

from hub.catalog.models import DataResource
from hub.records.keys import key_kinds, recanonicalise
from hub.records.load_state import LoadState, UpsertCounts
from hub.records.models import Record, RowFingerprints, UploadBatch
from hub.records.recordrows import (
    KEY_SEPARATOR,
    STORE_COLUMNS,
    content_hashes,
    field_names,
    prepare_rows,
)
from hub.records.signals import records_deleting

__all__ = [
    "KEY_SEPARATOR",
    "STORE_COLUMNS",
    "LoadState",
    "RecordStore",
    "UpsertCounts",
    "content_hashes",
    "field_names",
    "lock_for_delete",
    "prepare_rows",
    "upsert",
]

SQLITE_BATCH = 2000
# Record columns a write of an existing key replaces (the natural key stays).
WRITE_FIELDS = [
    "data",
    "observed_at",
    "district_code",
    "latitude",
    "longitude",
    "content_hash",
    "batch",
    "source_row",
    "updated_at",
]


class RecordStore:
    """The writes of one resource's records; one store per load (it keeps the load's
    ``LoadState``). Built from a resource id it can lock, forget and delete only."""

    def __init__(self, resource: DataResource | int, *, state: LoadState | None = None):
        if isinstance(resource, DataResource):
            self.resource: DataResource | None = resource
            self.resource_id: int = resource.pk
        else:
            self.resource, self.resource_id = None, resource
        self.state = state or LoadState()

    def _full(self) -> DataResource:
        if self.resource is None:
            raise TypeError("writing records needs the resource, not only its id")
        return self.resource

    def lock(self) -> None:
        """Become the resource's only writer until the transaction ends (the loads'
        advisory lock on PostgreSQL; SQLite serialises writers on its own)."""
        if connection.vendor == "postgresql":
            from hub.records.recordstore_postgres import LOCK_CLASS

            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, self.resource_id]
                )

    def begin_load(self) -> None:
        """Start a load: on PostgreSQL become the resource's only writer now, so that what
        the load reads before its first write (its source-row fingerprints) stays true
        until it commits, and note what its chunks share (``take_lock``)."""
        if connection.vendor == "postgresql" and not self.state.locked:
            from hub.records.recordstore_postgres import take_lock

            with connection.cursor() as cursor:
                take_lock(cursor, self._full(), self.state)

    def forget_fingerprints(self) -> None:
        """Lock, then drop the resource's source-row fingerprints: a load that read them
        commits first, and a load starting later finds none. Every write but ``upsert``
        (which holds the lock already) does this first, in its transaction."""
        self.lock()
        RowFingerprints.objects.filter(resource_id=self.resource_id).delete()

    def upsert(
        self, *, batch: UploadBatch | None, rows: pl.DataFrame, payload: bytes | None = None
    ) -> UpsertCounts:
        """Insert new records, update changed ones and skip unchanged ones; count each.

        ``rows`` comes from ``prepare_rows``; its keys must be unique (the pipeline
        rejects duplicate keys before loading). ``payload`` is what ``copy_builder``'s
        function returned for these rows, if used.
        """
        if rows.is_empty():
            return UpsertCounts()
        resource, state = self._full(), self.state
        with transaction.atomic():
            if connection.vendor == "postgresql":
                from hub.records.recordstore_postgres import upsert_postgres

                counts = upsert_postgres(
                    resource=resource, batch=batch, rows=rows, state=state, payload=payload
                )
            else:
                counts = _upsert_generic(resource, batch, rows)
            if (counts.inserted or counts.updated) and not state.forgot_fingerprints:
                # The load holds the resource's write lock already (upsert_postgres).
                RowFingerprints.objects.filter(resource_id=resource.pk).delete()
                state.forgot_fingerprints = True
        return counts

    def copy_builder(
        self, *, batch: UploadBatch | None
    ) -> Callable[[pl.DataFrame], tuple[pl.DataFrame, bytes]] | None:
        """PostgreSQL: a function that sorts prepared rows by key and builds their COPY
        payload, for the reader thread to run ahead of the load; None on other databases."""
        if connection.vendor != "postgresql":
            return None
        from hub.records.recordstore_postgres import copy_payload

        resource_id, batch_id = self.resource_id, batch.pk if batch else None

        def build(rows: pl.DataFrame) -> tuple[pl.DataFrame, bytes]:
            rows = rows.sort("key")
            return rows, copy_payload(rows, resource_id=resource_id, batch_id=batch_id)

        return build

    def save(self, records: Sequence[Record], *, chunk_size: int = 5000) -> int:
        """Write ready-made records of the resource, replacing those with the same key;
        for rows that skip the pipeline (``operations.samples``). Returns how many."""
        for record in records:
            if record.resource_id != self.resource_id:
                raise ValueError(f"record {record.key!r} belongs to another resource")
        # Whatever spelling the caller used, the stored key is canonical (hub.records.keys).
        kinds = key_kinds(self.resource or self.resource_id)
        for record in records:
            record.key = recanonicalise(record.key, kinds)
        with transaction.atomic():
            self.forget_fingerprints()
            Record.objects.bulk_create(
                records,
                batch_size=chunk_size,
                update_conflicts=True,
                unique_fields=["resource", "key"],
                update_fields=WRITE_FIELDS,
            )
        return len(records)

    def delete(
        self, records: QuerySet[Record] | None = None, *, keys: Iterable[str] | None = None
    ) -> int:
        """Delete records of the resource: those of ``records`` (other resources' ones
        are left alone), those with one of ``keys``, or all when neither is given.
        Returns how many were deleted."""
        queryset = records if records is not None else Record.objects.all()
        queryset = queryset.filter(resource_id=self.resource_id)
        if keys is not None:
            queryset = queryset.filter(key__in=list(keys))
        with transaction.atomic():
            self.forget_fingerprints()
            records_deleting.send(sender=Record, resource_id=self.resource_id, records=queryset)
            _total, deleted = queryset.delete()
        return deleted.get(Record._meta.label, 0)


def upsert(
    *,
    resource: DataResource,
    batch: UploadBatch | None,
    frame_rows: pl.DataFrame,
    state: LoadState | None = None,
    payload: bytes | None = None,
) -> UpsertCounts:
    """``RecordStore(resource, state=state).upsert(…)``: one chunk, for callers without a
    store of their own (tests, one-off loads)."""
    return RecordStore(resource, state=state).upsert(batch=batch, rows=frame_rows, payload=payload)


def _parse_time(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _upsert_generic(
    resource: DataResource, batch: UploadBatch | None, rows: pl.DataFrame
) -> UpsertCounts:
    """bulk_create(update_conflicts=True), skipping rows whose content hash is unchanged."""
    counts = UpsertCounts()
    for offset in range(0, len(rows), SQLITE_BATCH):
        part = rows.slice(offset, SQLITE_BATCH)
        keys = part["key"].to_list()
        existing = dict(
            Record.objects.filter(resource=resource, key__in=keys).values_list(
                "key", "content_hash"
            )
        )
        objects = []
        inserted = unchanged = 0
        for row in part.iter_rows(named=True):
            old = existing.get(row["key"])
            if old == row["content_hash"]:
                unchanged += 1
                continue
            inserted += old is None
            objects.append(
                Record(
                    resource=resource,
                    key=row["key"],
                    data=json.loads(row["data"]),
                    observed_at=_parse_time(row["observed_at"]),
                    district_code=row["district_code"] or "",
                    latitude=row["latitude"],
                    longitude=row["longitude"],
                    content_hash=row["content_hash"],
                    batch=batch,
                    source_row=row["source_row"],
                )
            )
        Record.objects.bulk_create(
            objects,
            update_conflicts=True,
            unique_fields=["resource", "key"],
            update_fields=WRITE_FIELDS,
        )
        counts += UpsertCounts(inserted, len(objects) - inserted, unchanged)
    return counts


def lock_for_delete(sender, instance, using: str = "default", **kwargs) -> None:
    """pre_delete of a resource or batch: wait for the loads writing its records.

    Records have no database foreign keys (see ``Record``); without this wait, Django's
    cascade (resource) or set-null (batch) would run before a load in progress commits
    and miss its rows. Runs inside the deletion's transaction, so the lock is held until
    the delete commits and a load starting meanwhile waits, then finds nothing to write to.
    """
    if connection.vendor != "postgresql":
        return  # SQLite serialises writers on its own
    if isinstance(instance, DataResource):
        RecordStore(instance).lock()
        return
    with connection.cursor() as cursor:
        # A load holds its batch row FOR UPDATE until it commits.
        cursor.execute("SELECT id FROM hub_uploadbatch WHERE id = %s FOR UPDATE", [instance.pk])
