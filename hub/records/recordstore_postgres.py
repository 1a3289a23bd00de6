"""The PostgreSQL record store: probe, COPY new rows, upsert changed ones, skip the rest.

A load (every chunk of one batch, one transaction) first takes a transaction-level
advisory lock on its resource, so it is the only writer of the resource's records until
it commits, and locks the resource row ``FOR KEY SHARE`` (records carry no database
foreign keys, see ``hub.records.models.Record``). Then, for each chunk sorted by key:

1. **Probe**: read the stored ``(key, content_hash)`` of the chunk's keys through the
   unique ``(resource_id, key)`` index: one bounded range scan between the chunk's first
   and last key while that works (files sorted by key), else a lookup per key. Skipped
   when the resource had no records when the lock was taken (keys are unique within a
   file, so no chunk can meet another's).
2. **New keys** are COPYed straight into ``hub_record``: no staging table, no conflict
   arm. Safe because nobody else writes the resource until commit.
3. **Changed rows** (same key, other hash) go through the staging table and
   ``INSERT … ON CONFLICT DO UPDATE`` (the arbiter index makes the plan fixed).
4. **Unchanged rows** are counted and not written at all.

The probe's plan is checked with ``EXPLAIN`` before it runs: statistics lag a load, and
with stale ones the planner has chosen other ``resource_id``-leading indexes and scanned
every record of the resource per chunk (see docs/INGEST.md). Whenever the plan is not a
scan of the unique index, the chunk takes the staging + ``ON CONFLICT`` path instead,
which is slower but never wrong.
"""

from __future__ import annotations

import json
import re
import time

import polars as pl
from django.db import connection

from hub.catalog.models import DataResource
from hub.records import pgbinary
from hub.records.load_state import LoadState, UpsertCounts
from hub.records.models import Record, UploadBatch

# pg_advisory_xact_lock(LOCK_CLASS, resource id): one writer of a resource's records.
LOCK_CLASS = 0x4855_4252  # "HUBR"
KEY_INDEX = "record_resource_key_unique"
# Below this size every plan of a probe is cheap, and PostgreSQL rightly seq-scans.
SMALL_TABLE_BYTES = 8 << 20
COPY_BLOCK = 1 << 20
RECORD_TABLE = Record._meta.db_table  # "hub_record", spelled out in the SQL below

STAGE_DDL = """
CREATE TEMP TABLE IF NOT EXISTS hub_record_stage (
    key text, data text, observed_at timestamptz, district_code text,
    latitude double precision, longitude double precision, content_hash text, source_row bigint
) ON COMMIT DROP
"""

UPSERT_SQL = """
WITH written AS (
    INSERT INTO hub_record AS r (resource_id, key, data, observed_at, district_code,
                                     latitude, longitude, content_hash, batch_id, source_row,
                                     created_at, updated_at)
    SELECT %(resource)s, key, data::jsonb, observed_at, COALESCE(district_code, ''), latitude,
           longitude, content_hash, %(batch)s, source_row, statement_timestamp(),
           statement_timestamp()
    FROM hub_record_stage ORDER BY key
    ON CONFLICT (resource_id, key) DO UPDATE SET
        data = EXCLUDED.data, observed_at = EXCLUDED.observed_at,
        district_code = EXCLUDED.district_code, latitude = EXCLUDED.latitude,
        longitude = EXCLUDED.longitude, content_hash = EXCLUDED.content_hash,
        batch_id = EXCLUDED.batch_id, source_row = EXCLUDED.source_row,
        updated_at = EXCLUDED.updated_at
    WHERE r.content_hash IS DISTINCT FROM EXCLUDED.content_hash
    RETURNING (r.xmax = 0) AS inserted
)
SELECT count(*) FILTER (WHERE inserted), count(*) FROM written
"""

ANY_RECORD_SQL = "SELECT key FROM hub_record WHERE resource_id = %s ORDER BY key LIMIT 1"
PROBE_SQL = "SELECT key, content_hash FROM hub_record WHERE resource_id = %s AND key = ANY(%s)"
# The bounds are the chunk's smallest and largest key in the column's own collation:
# polars sorts by bytes, which differs from e.g. en_US or ICU order (a range taken from
# the polars order could miss stored keys, and the direct COPY would then collide).
RANGE_PROBE_SQL = (
    "SELECT r.key, r.content_hash FROM hub_record r,"
    " (SELECT min(k) AS lo, max(k) AS hi FROM unnest(%s::varchar[]) AS k) b"
    " WHERE r.resource_id = %s AND r.key >= b.lo AND r.key <= b.hi ORDER BY r.key LIMIT %s"
)
# The same with the bounds given: right when text sorts by bytes, as polars sorts.
BYTE_RANGE_PROBE_SQL = (
    "SELECT key, content_hash FROM hub_record WHERE resource_id = %s AND key >= %s"
    " AND key <= %s ORDER BY key LIMIT %s"
)
_KEY_COND = re.compile(r"\bkey\b")
# The columns COPYed, with their PostgreSQL types (binary format, hub.records.pgbinary).
STAGE_TYPES = {
    "key": "text",
    "data": "text",
    "observed_at": "timestamptz",
    "district_code": "text",
    "latitude": "float8",
    "longitude": "float8",
    "content_hash": "text",
    "source_row": "int8",
}
DIRECT_TYPES = {
    "resource_id": "int8",
    "batch_id": "int8",
    **STAGE_TYPES,
    "data": "jsonb",
    "source_row": "int4",
}


def upsert_postgres(
    *,
    resource: DataResource,
    batch: UploadBatch | None,
    rows: pl.DataFrame,
    state: LoadState,
    payload: bytes | None = None,
) -> UpsertCounts:
    """Write one chunk of prepared rows (see the module docstring); return the counts.

    ``payload``, when given, is ``copy_payload`` of these rows sorted by key; it is used
    when every key is new.
    """
    started = time.perf_counter()
    if payload is None:
        rows = rows.sort("key")
    with connection.cursor() as cursor:
        if not state.locked:
            take_lock(cursor, resource, state)
        if state.empty:
            fresh, changed, unchanged = rows, rows.clear(), 0
        else:
            stored = _probe(cursor, resource, rows, state)
            if stored is None:
                started = state.tick("probe", started)
                return _stage_and_upsert(cursor, resource, batch, rows, state, started)
            fresh, changed, unchanged = _split(rows, stored)
        started = state.tick("probe", started)
        whole = payload if len(fresh) == len(rows) else None
        state.all_fresh = state.all_fresh and len(fresh) == len(rows)
        inserted = _copy_fresh(cursor, resource, batch, fresh, state, whole) if len(fresh) else 0
        started = time.perf_counter()
        counts = UpsertCounts(inserted=inserted, unchanged=unchanged)
        if len(changed):
            counts += _stage_and_upsert(cursor, resource, batch, changed, state, started)
    return counts


def take_lock(cursor, resource: DataResource, state: LoadState) -> None:
    """Become the resource's only writer until commit (see ``_lock``) and note what the
    load's chunks share: whether the resource has any record, the table's size, the
    database's text order."""
    state.small_table, state.byte_order = _lock(cursor, resource)
    state.empty = _probe_is_safe(
        cursor, ANY_RECORD_SQL, [resource.pk], state, by_key=False
    ) and not _fetch(cursor, ANY_RECORD_SQL, [resource.pk])
    state.locked = True


def _probe(
    cursor, resource: DataResource, rows: pl.DataFrame, state: LoadState
) -> list[tuple] | None:
    """The stored (key, content_hash) of every key of the sorted chunk that exists (and
    maybe others); None when no safe plan is available.

    First a range scan between the chunk's first and last key, bounded to 2n + 1 rows:
    one sweep of the index where a file comes sorted by key, as re-uploads of exports
    do. When the range holds more, the load switches to looking up each key.
    """
    if state.range_probe:
        limit = 2 * len(rows) + 1
        if state.byte_order:
            sql = BYTE_RANGE_PROBE_SQL
            params = [resource.pk, rows["key"][0], rows["key"][-1], limit]
        else:
            sql, params = RANGE_PROBE_SQL, [rows["key"].to_list(), resource.pk, limit]
        if _probe_is_safe(cursor, sql, params, state):
            stored = _fetch(cursor, sql, params)
            if len(stored) < limit:
                return stored
        state.range_probe = False
    params = [resource.pk, rows["key"].to_list()]
    if not _probe_is_safe(cursor, PROBE_SQL, params, state):
        return None
    return _fetch(cursor, PROBE_SQL, params)


def _lock(cursor, resource: DataResource) -> tuple[bool, bool]:
    """Become the only writer of the resource's records until commit and keep the
    resource alive; return whether the record table is small and whether the database
    sorts text by bytes (C collation), as polars does."""
    cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [LOCK_CLASS, resource.pk])
    cursor.execute(
        "SELECT pg_relation_size('hub_record'),"
        " (SELECT datlocprovider = 'c' AND datcollate IN ('C', 'POSIX', 'C.UTF-8', 'C.utf8')"
        "  FROM pg_database WHERE datname = current_database())"
        " FROM hub_dataresource WHERE id = %s FOR KEY SHARE",
        [resource.pk],
    )
    row = cursor.fetchone()
    if row is None:
        raise DataResource.DoesNotExist(f"resource {resource.pk} was deleted")
    return row[0] < SMALL_TABLE_BYTES, bool(row[1])


def _probe_is_safe(
    cursor, sql: str, params: list, state: LoadState, *, by_key: bool = True
) -> bool:
    """True when PostgreSQL would answer ``sql`` from the unique (resource_id, key) index
    (an index scan of it, or a bitmap heap scan fed by bitmap scans of it only) with
    ``key`` in the index condition when ``by_key`` (an index condition on resource_id
    alone reads every record of the resource), or when the record table is so small
    that any plan is cheap (it is then a seq scan)."""
    if state.small_table:
        return True
    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    raw = cursor.fetchone()[0]
    plan = json.loads(raw) if isinstance(raw, str) else raw
    scans = list(_record_scans(plan[0]["Plan"]))
    return bool(scans) and all(_uses_key_index(node, by_key) for node in scans)


def _record_scans(node: dict):
    if node.get("Relation Name") == RECORD_TABLE:
        yield node
    for child in node.get("Plans", ()):
        yield from _record_scans(child)


def _uses_key_index(scan: dict, by_key: bool) -> bool:
    kind = scan["Node Type"]
    if kind in ("Index Scan", "Index Only Scan"):
        return _on_key_index(scan, by_key)
    if kind == "Bitmap Heap Scan":
        feeds = list(_bitmap_index_scans(scan))
        return bool(feeds) and all(_on_key_index(node, by_key) for node in feeds)
    return False


def _on_key_index(node: dict, by_key: bool) -> bool:
    if node.get("Index Name") != KEY_INDEX:
        return False
    return not by_key or bool(_KEY_COND.search(node.get("Index Cond", "")))


def _bitmap_index_scans(node: dict):
    for child in node.get("Plans", ()):
        if child["Node Type"] == "Bitmap Index Scan":
            yield child
        yield from _bitmap_index_scans(child)


def _fetch(cursor, sql: str, params: list) -> list[tuple]:
    cursor.execute(sql, params)
    return cursor.fetchall()


def _split(rows: pl.DataFrame, stored: list[tuple]) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Rows with new keys, rows whose content changed, and how many are unchanged."""
    if not stored:
        return rows, rows.clear(), 0
    known = pl.DataFrame(
        {"key": [key for key, _ in stored], "stored_hash": [h for _, h in stored]},
        schema={"key": pl.String, "stored_hash": pl.String},
    )
    joined = rows.join(known, on="key", how="left", maintain_order="left")
    stored_hash = joined["stored_hash"]
    fresh = joined.filter(stored_hash.is_null()).drop("stored_hash")
    changed = joined.filter(
        stored_hash.is_not_null() & (stored_hash != joined["content_hash"])
    ).drop("stored_hash")
    return fresh, changed, len(rows) - len(fresh) - len(changed)


def _copy(cursor, sql: str, payload: bytes) -> None:
    # Django's cursor wraps psycopg 3's, whose copy() streams the CSV payload.
    with cursor.cursor.copy(sql) as copy:
        view = memoryview(payload)
        for start in range(0, len(view), COPY_BLOCK):
            copy.write(view[start : start + COPY_BLOCK])


def copy_payload(rows: pl.DataFrame, *, resource_id: int, batch_id: int | None) -> bytes:
    """The binary COPY payload (DIRECT_TYPES) of prepared rows sorted by key.

    Built by the reader thread for every valid chunk, so the database is not idle while
    it is written; created_at/updated_at come from the columns' defaults.
    """
    return pgbinary.encode(
        rows.with_columns(
            pl.lit(resource_id, dtype=pl.Int64).alias("resource_id"),
            pl.lit(batch_id, dtype=pl.Int64).alias("batch_id"),
        ),
        DIRECT_TYPES,
    )


def _copy_fresh(
    cursor,
    resource: DataResource,
    batch: UploadBatch | None,
    rows: pl.DataFrame,
    state: LoadState,
    payload: bytes | None,
) -> int:
    """COPY rows whose keys the resource does not have straight into the record table."""
    started = time.perf_counter()
    if payload is None:
        batch_id = batch.pk if batch else None
        payload = copy_payload(rows, resource_id=resource.pk, batch_id=batch_id)
    state.tick("payload", started)
    started = time.perf_counter()
    columns = ", ".join(DIRECT_TYPES)
    _copy(cursor, f"COPY {RECORD_TABLE} ({columns}) FROM STDIN (FORMAT binary)", payload)
    state.tick("copy", started)
    return len(rows)


def _stage_and_upsert(
    cursor,
    resource: DataResource,
    batch: UploadBatch | None,
    rows: pl.DataFrame,
    state: LoadState,
    started: float,
) -> UpsertCounts:
    """COPY into the staging table, then INSERT … ON CONFLICT (unchanged rows skipped)."""
    payload = pgbinary.encode(rows, STAGE_TYPES)
    cursor.execute(STAGE_DDL)
    cursor.execute("TRUNCATE hub_record_stage")
    _copy(
        cursor,
        f"COPY hub_record_stage ({', '.join(STAGE_TYPES)}) FROM STDIN (FORMAT binary)",
        payload,
    )
    started = state.tick("stage", started)
    params = {"resource": resource.pk, "batch": batch.pk if batch else None}
    cursor.execute(UPSERT_SQL, params)
    inserted, written = cursor.fetchone()
    state.tick("upsert", started)
    return UpsertCounts(
        inserted=inserted, updated=written - inserted, unchanged=len(rows) - written
    )
