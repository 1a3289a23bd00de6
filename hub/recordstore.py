"""The record store: turn typed frames into keyed records and upsert them fast.

One interface, two implementations (see DESIGN.md, "Record store: the fast path"):

* ``prepare_rows`` turns a typed pandas frame (one column per FieldSpec name) into the
  rows the store writes: natural key, canonical JSON, content hash, observed_at,
  district code, WGS-84 coordinates and source row. Everything is vectorised with polars.
* ``upsert`` writes one chunk of prepared rows and returns how many were inserted,
  updated or unchanged. On PostgreSQL it COPYs the chunk into a temporary staging table
  and runs one ``INSERT … ON CONFLICT DO UPDATE`` whose conflict arm skips unchanged
  rows; elsewhere it uses ``bulk_create(update_conflicts)``.

The caller owns the transaction: a batch is all-or-nothing because the pipeline wraps all
chunks of a file in one ``transaction.atomic`` block.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import polars as pl
from django.db import connection, transaction

from hub.models import DataResource, Record, RowFingerprints, UploadBatch

KEY_SEPARATOR = "|"
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
# Columns of a prepared chunk, in COPY order.
STORE_COLUMNS = (
    "key",
    "data",
    "observed_at",
    "district_code",
    "latitude",
    "longitude",
    "content_hash",
    "source_row",
)
# Fixed seeds: the content hash must be identical across runs and processes. polars only
# promises a stable hash within one version (it is pinned); after an upgrade every record
# is counted "updated" once, which rewrites identical data but never loses any.
_HASH_SEEDS = (0x5EED_0001, 0x5EED_1729)
SQLITE_BATCH = 2000


@dataclass(frozen=True)
class UpsertCounts:
    """What one upsert did: rows inserted, rows updated, rows whose content was unchanged."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


def _iso(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as text: datetimes in UTC ISO 8601 with "Z" (naive ones taken as UTC)."""
    dtype = frame.schema[name]
    if isinstance(dtype, pl.Datetime):
        column = pl.col(name)
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)
    return pl.col(name).cast(pl.String)


def _as_text(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as key text; nulls become "" (the pipeline rejects empty key parts)."""
    return _iso(frame, name).fill_null("")


def _jsonable(frame: pl.DataFrame) -> pl.DataFrame:
    """Datetimes become ISO 8601 UTC strings, so the JSON says "…Z" and not epoch numbers."""
    converted = []
    for name, dtype in frame.schema.items():
        if isinstance(dtype, pl.Datetime):
            converted.append(_iso(frame, name).alias(name))
        elif dtype in (pl.Float32, pl.Float64):
            converted.append(pl.col(name).fill_nan(None))
    return frame.with_columns(converted) if converted else frame


def content_hashes(data: pl.Series) -> pl.Series:
    """A 128-bit hex digest of each JSON text, vectorised (two seeded 64-bit hashes)."""
    digest = np.empty((len(data), 2), dtype="<u8")
    digest[:, 0] = data.hash(seed=_HASH_SEEDS[0]).to_numpy()
    # The top bit is forced on: numpy's fixed-width bytes would drop trailing zero bytes.
    digest[:, 1] = data.hash(seed=_HASH_SEEDS[1]).to_numpy() | np.uint64(1 << 63)
    return pl.Series("content_hash", digest.view("S16").ravel(), dtype=pl.Binary).bin.encode("hex")


def field_names(resource: DataResource) -> list[str]:
    """The resource's field names in schema order."""
    return list(resource.fields.order_by("order", "id").values_list("name", flat=True))


def prepare_rows(
    *,
    resource: DataResource,
    frame: pd.DataFrame,
    source_rows: Sequence[int] | np.ndarray,
    fields: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Build the store rows (STORE_COLUMNS) of a typed frame, aligned with its rows.

    ``frame`` has one typed column per field name (the connectors' ParsedChunk.frame);
    columns the resource does not declare are ignored, declared ones missing become null.
    """
    names = list(fields) if fields is not None else field_names(resource)
    typed = pl.from_pandas(frame.reset_index(drop=True), nan_to_null=True)
    missing = [pl.lit(None).alias(name) for name in names if name not in typed.columns]
    typed = typed.with_columns(missing).select(names) if missing else typed.select(names)
    data = _jsonable(typed).select(pl.struct(names).struct.json_encode().alias("data"))["data"]
    columns: list[pl.Series | pl.Expr] = [
        typed.select(
            pl.concat_str(
                [_as_text(typed, name) for name in resource.key_fields], separator=KEY_SEPARATOR
            ).alias("key")
        )["key"],
        data,
    ]
    out = pl.DataFrame(columns)
    extras = []
    if resource.time_field and resource.time_field in names:
        extras.append(
            typed.select(_iso(typed, resource.time_field)).to_series().alias("observed_at")
        )
    else:
        extras.append(pl.Series("observed_at", [None] * len(out), dtype=pl.String))
    if resource.district_field and resource.district_field in names:
        extras.append(
            typed[resource.district_field].cast(pl.String).fill_null("").alias("district_code")
        )
    else:
        extras.append(pl.Series("district_code", [""] * len(out), dtype=pl.String))
    # One geopoint field named as both holds canonical "lon,lat" text (connectors'
    # geopoint normaliser): longitude is its first part, latitude its second.
    paired = resource.latitude_field == resource.longitude_field
    for part, target, name in (
        (1, "latitude", resource.latitude_field),
        (0, "longitude", resource.longitude_field),
    ):
        if name and name in names:
            column = typed[name]
            if paired and column.dtype == pl.String:
                column = column.str.split(",").list.get(part, null_on_oob=True)
            extras.append(column.cast(pl.Float64, strict=False).fill_nan(None).alias(target))
        else:
            extras.append(pl.Series(target, [None] * len(out), dtype=pl.Float64))
    extras.append(content_hashes(data))
    extras.append(pl.Series("source_row", np.asarray(source_rows, dtype=np.int64)))
    return out.with_columns(extras).select(STORE_COLUMNS)


@dataclass
class LoadState:
    """What the chunks of one load (one transaction) share."""

    # Seconds spent in each step of the PostgreSQL path (probe, copy, stage, upsert).
    timings: dict[str, float] = field(default_factory=dict)
    # PostgreSQL: set by the first chunk, once the load holds the resource's lock.
    locked: bool = False
    # The resource had no records when the load took its lock: every key is new.
    empty: bool = False
    # The record table was under SMALL_TABLE_BYTES: any probe plan is cheap.
    small_table: bool = False
    # Every chunk so far had only new keys (the reader thread reads it: a bool).
    all_fresh: bool = True
    # The database sorts text by bytes (C collation), as polars does.
    byte_order: bool = False
    # Probe stored keys with one range scan per chunk until a range holds too many.
    range_probe: bool = True
    # The resource's source-row fingerprints were deleted by a write of this load.
    forgot_fingerprints: bool = False

    def tick(self, step: str, since: float) -> float:
        now = time.perf_counter()
        self.timings[step] = self.timings.get(step, 0.0) + now - since
        return now


def upsert(
    *,
    resource: DataResource,
    batch: UploadBatch | None,
    frame_rows: pl.DataFrame,
    state: LoadState | None = None,
    payload: bytes | None = None,
) -> UpsertCounts:
    """Insert new records, update changed ones and skip unchanged ones; count each.

    ``frame_rows`` comes from ``prepare_rows``; its keys must be unique (the pipeline
    rejects duplicate keys before loading). Pass one ``state`` for all chunks of a load.
    ``payload`` is what ``copy_builder``'s function returned for these rows, if used.
    """
    if frame_rows.is_empty():
        return UpsertCounts()
    state = state or LoadState()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            from hub.recordstore_postgres import upsert_postgres

            counts = upsert_postgres(
                resource=resource, batch=batch, rows=frame_rows, state=state, payload=payload
            )
        else:
            counts = _upsert_generic(resource, batch, frame_rows)
        if (counts.inserted or counts.updated) and not state.forgot_fingerprints:
            # The load holds the resource's write lock already (forget_fingerprints).
            RowFingerprints.objects.filter(resource_id=resource.pk).delete()
            state.forgot_fingerprints = True
    return counts


def begin_load(*, resource: DataResource, state: LoadState) -> None:
    """Start a load: on PostgreSQL become the resource's only writer now, so that what
    the load reads before its first write (its source-row fingerprints) stays true until
    it commits. SQLite serialises writers on its own."""
    if connection.vendor == "postgresql" and not state.locked:
        from hub.recordstore_postgres import take_lock

        with connection.cursor() as cursor:
            take_lock(cursor, resource, state)


def forget_fingerprints(*, resource_id: int) -> None:
    """Drop a resource's source-row fingerprints: call it from any code that writes or
    deletes its records outside ``upsert`` (they describe the records as loaded), in the
    same transaction and BEFORE writing. On PostgreSQL it first becomes the resource's
    only writer (the loads' advisory lock), so a load that read the fingerprints
    commits first, and a load starting later finds none."""
    if connection.vendor == "postgresql":
        from hub.recordstore_postgres import LOCK_CLASS

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, resource_id])
    RowFingerprints.objects.filter(resource_id=resource_id).delete()


def copy_builder(
    *, resource: DataResource, batch: UploadBatch | None
) -> Callable[[pl.DataFrame], tuple[pl.DataFrame, bytes]] | None:
    """PostgreSQL: a function that sorts prepared rows by key and builds their COPY
    payload, for the reader thread to run ahead of the load; None on other databases."""
    if connection.vendor != "postgresql":
        return None
    from hub.recordstore_postgres import copy_payload

    batch_id = batch.pk if batch else None

    def build(rows: pl.DataFrame) -> tuple[pl.DataFrame, bytes]:
        rows = rows.sort("key")
        return rows, copy_payload(rows, resource_id=resource.pk, batch_id=batch_id)

    return build


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
    update_fields = [
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
            update_fields=update_fields,
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
    from hub.recordstore_postgres import LOCK_CLASS

    with connection.cursor() as cursor:
        if isinstance(instance, DataResource):
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, instance.pk])
        else:
            # A load holds its batch row FOR UPDATE until it commits.
            cursor.execute("SELECT id FROM hub_uploadbatch WHERE id = %s FOR UPDATE", [instance.pk])
