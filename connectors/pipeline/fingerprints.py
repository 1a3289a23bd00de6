"""Source-row fingerprints: rows already loaded are not normalised again.

Stewards re-upload whole snapshots (全量) in which most rows did not change. Each load
keeps, per resource, the 128-bit fingerprint of every source row's cells with the key of
the record that row became (``hub.records.models.RowFingerprints``). The next upload of the
resource computes its rows' fingerprints as it reads (two seeded polars row hashes, about
0.25 s per 1M rows) and, when its parse context is the same, sends only the rows not
found there through normalising, validation and the record store. A found row is counted
unchanged: its cells, header, schema, code lists, connector and code are the ones that
produced the stored record, and nothing else wrote the resource since (any other write
deletes the fingerprints, see ``hub.records.recordstore.RecordStore.forget_fingerprints``; a
load reads them under the resource's write lock).

What a found row skips is per-row work; what stays file-wide stays: its key still goes
through the duplicate-key check, and rows with reader errors are never looked up.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import asdict
from functools import lru_cache
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
from django.db import connection

from connectors.base import KnownRows
from connectors.normalisers.headers import ColumnMatch
from connectors.normalisers.schema import Schema
from connectors.readers.base import RawChunk

# A batch of more rows keeps no fingerprints (memory: ~40 bytes a row while loading).
MAX_ROWS = 2_000_000
_SEEDS = (0x5EED_F1A7, 0x5EED_0B0E)
_SOURCES = Path(__file__).resolve().parents[1]  # the connectors app
# The hub modules that decide what a row is stored as (keys, JSON, hashes).
_RECORD_STORE = [
    _SOURCES.parent / "hub" / "records" / name for name in ("recordstore.py", "recordrows.py")
]


def row_fingerprints(frame: pd.DataFrame) -> np.ndarray:
    """(n, 2) uint64: two seeded hashes of each row's cells (positional string columns)."""
    if frame.empty:
        return np.empty((0, 2), dtype=np.uint64)
    cells = pl.from_pandas(frame.reset_index(drop=True).rename(columns=str))
    cells = cells.select(pl.all().cast(pl.String).fill_null(""))
    return np.column_stack([cells.hash_rows(seed=seed).to_numpy() for seed in _SEEDS])


@lru_cache(maxsize=1)
def _code_digest() -> str:
    """The normalising code and libraries: any change makes old fingerprints useless."""
    digest = hashlib.sha256()
    for path in sorted([*_SOURCES.rglob("*.py"), *_RECORD_STORE]):
        if "migrations" not in path.parts:
            digest.update(path.name.encode() + path.read_bytes())
    for package in ("pandas", "polars", "pyarrow", "numpy", "fastexcel"):
        digest.update(f"{package}={metadata.version(package)}".encode())
    return digest.hexdigest()


def parse_context(
    *, resource, connector, schema: Schema, headers: list[str], matches: list[ColumnMatch]
) -> str:
    """A digest of everything besides a row's cells that decides what it is stored as."""
    fields = []
    for info in schema.fields:
        described = {k: v for k, v in asdict(info).items() if k != "matcher"}
        if info.matcher is not None:
            matcher = info.matcher  # its whole lookup state: exact, folded and the codes
            described["matcher"] = [
                type(matcher).__name__,
                sorted(matcher.exact.items()),
                sorted(matcher.folded.items()),
                sorted(matcher.codes),
            ]
        fields.append(described)
    context = {
        "code": _code_digest(),
        "connector": [type(connector).__qualname__, connector.code, connector.version],
        "settings": {
            name: getattr(connector, name)
            for name in (
                "header_aliases",
                "source_units",
                "source_crs",
                "day_first",
                "decimal_comma",
                "date_layouts",
                "source_timezone",
                "missing_values",
                "profile_version",
            )
        },
        "value_aliases": connector.value_aliases,
        # Value maps, district naming and lookups with the looked-up tables themselves:
        # a changed registry (another bridge id for a name) re-normalises the rows.
        "rules": {name: asdict(rules) for name, rules in schema.rules.items()},
        "fields": fields,
        "coordinates": [schema.latitude_field, schema.longitude_field],
        "store": [
            list(resource.key_fields),
            resource.time_field,
            resource.district_field,
            resource.latitude_field,
            resource.longitude_field,
        ],
        "headers": headers,
        "matches": [asdict(match) for match in matches],
    }
    text = json.dumps(context, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class RowMemo:
    """The fingerprints of a resource's last load (to look rows up in) and of this load
    (to keep for the next). ``split`` and ``record`` run in the pipeline's reader
    thread, ``load`` and ``save`` in the loading thread, before and after it.

    Fingerprints are kept in source order. A re-upload usually has the stored rows in
    the same order, so each row is first compared with the stored row at its position
    (no search); only rows that differ there are looked up in a sorted index. While the
    upload is exactly the stored rows in order (``same``), nothing new is collected: the
    stored table already says it all, and ``save`` only moves it to the new batch.
    """

    def __init__(self, *, context: str = "", table: pl.DataFrame | None = None):
        self.stored_context = context
        table = table if table is not None else _empty()
        self._high = table["high"].to_numpy()
        self._low = table["low"].to_numpy()
        self._keys = table["key"]
        # Built on the first row found out of place: positions sorted by high, and high so.
        self._order: np.ndarray | None = None
        self._sorted_high: np.ndarray | None = None
        self.context = ""
        self.active = False
        self.same = False
        self._cursor = 0  # stored position expected for the next row
        # This load's rows, written as they come to a compressed Arrow IPC stream.
        self._sink: io.BytesIO | None = None
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._rows = 0

    @classmethod
    def load(cls, resource) -> RowMemo:
        """The resource's stored fingerprints (call under the load's write lock)."""
        stored = _read(resource.pk)
        if stored is None:
            return cls()
        context, data = stored
        return cls(context=context, table=pl.read_ipc_stream(io.BytesIO(data)))

    def begin(self, context: str) -> None:
        """The parse context of this upload: stored fingerprints count only if equal."""
        self.context = context
        self.active = bool(context) and context == self.stored_context and len(self._high) > 0
        self.same = self.active

    def split(self, raw: RawChunk, headers: list[str]) -> tuple[RawChunk, KnownRows | None]:
        """The chunk's rows that still need normalising, and the rows already stored.

        The returned chunk carries its rows' fingerprints (``RawChunk.fingerprints``).
        """
        prints = row_fingerprints(raw.frame)
        start, self._cursor = self._cursor, self._cursor + len(prints)
        if not self.active:
            raw.fingerprints = prints
            return raw, None
        at = self._aligned(start, prints)
        # A row the reader flagged (e.g. longer than the header) is never looked up.
        flagged = np.isin(raw.source_rows, [error.row for error in raw.errors])
        at[flagged] = -1
        if (at < 0).any():
            self._depart(start)
            astray = np.flatnonzero((at < 0) & ~flagged)
            at[astray] = self._search(prints[astray])
        found = at >= 0
        if not found.any():
            raw.fingerprints = prints
            return raw, None
        hits, misses = np.flatnonzero(found), np.flatnonzero(~found)
        original = raw.frame.iloc[hits].reset_index(drop=True)
        original.columns = headers
        known = KnownRows(
            source_rows=raw.source_rows[hits],
            keys=self._keys.gather(at[hits]),
            fingerprints=prints[hits],
            raw=original,
        )
        if not len(misses):
            # Reader errors stay: some name rows no longer in the frame (a row blank but
            # for cells beyond the header).
            empty = RawChunk(frame=raw.frame.iloc[:0], source_rows=misses, errors=raw.errors)
            return empty, known
        rest = RawChunk(
            frame=raw.frame.iloc[misses].reset_index(drop=True),
            source_rows=raw.source_rows[misses],
            errors=raw.errors,
        )
        rest.fingerprints = prints[misses]
        return rest, known

    def _aligned(self, start: int, prints: np.ndarray) -> np.ndarray:
        """Stored position of each row where the stored row at its own position has the
        same fingerprint, else -1."""
        at = np.arange(start, start + len(prints))
        inside = at < len(self._high)
        clipped = np.minimum(at, len(self._high) - 1)
        same = inside & (self._high[clipped] == prints[:, 0]) & (self._low[clipped] == prints[:, 1])
        return np.where(same, at, -1)

    def _search(self, prints: np.ndarray) -> np.ndarray:
        """Stored position of each fingerprint anywhere, else -1."""
        if self._order is None:
            self._order = np.argsort(self._high, kind="stable")
            self._sorted_high = self._high[self._order]
        slot = np.minimum(np.searchsorted(self._sorted_high, prints[:, 0]), len(self._order) - 1)
        at = self._order[slot]
        found = (self._high[at] == prints[:, 0]) & (self._low[at] == prints[:, 1])
        return np.where(found, at, -1)

    def _depart(self, consumed: int) -> None:
        """This upload is no longer the stored rows in order: collect its rows from now
        on, starting with the stored ones it matched so far."""
        if not self.same:
            return
        self.same = False
        for offset in range(0, consumed, 100_000):
            part = slice(offset, min(consumed, offset + 100_000))
            self.record(
                np.column_stack([self._high[part], self._low[part]]),
                self._keys.slice(offset, part.stop - offset),
            )

    def record(self, fingerprints: np.ndarray | None, keys: pl.Series) -> None:
        """Keep rows of this load (fingerprint, key) for the next; bounded by MAX_ROWS."""
        if self.same or fingerprints is None or self._rows > MAX_ROWS or not len(keys):
            return
        self._rows += len(keys)
        if self._rows > MAX_ROWS:
            self._writer = self._sink = None  # too large to keep: the next upload reads all
            return
        batch = pa.record_batch(
            [
                pa.array(fingerprints[:, 0], type=pa.uint64()),
                pa.array(fingerprints[:, 1], type=pa.uint64()),
                keys.cast(pl.String).to_arrow().cast(pa.large_string()),
            ],
            names=list(_SCHEMA),
        )
        if self._writer is None:
            self._sink = io.BytesIO()
            self._writer = pa.ipc.new_stream(
                self._sink, batch.schema, options=pa.ipc.IpcWriteOptions(compression="lz4")
            )
        self._writer.write_batch(batch)

    def save(self, *, resource, batch) -> None:
        """Replace the resource's fingerprints with this load's (in its transaction)."""
        from hub.records.models import RowFingerprints

        if self.same and self._cursor == len(self._high):
            # Exactly the stored rows, in order: the stored table is this load's.
            RowFingerprints.objects.filter(resource=resource).update(batch=batch)
            return
        self._depart(self._cursor)
        RowFingerprints.objects.filter(resource=resource).delete()
        if not self.context or self._writer is None or self._rows > MAX_ROWS:
            return
        self._writer.close()
        _write(resource.pk, batch.pk, self.context, self._rows, self._sink.getbuffer())
        self._writer = self._sink = None


def _binary_cursor():
    """A server-side-binding psycopg cursor on Django's connection (same transaction)."""
    import psycopg

    connection.ensure_connection()
    return psycopg.Cursor(connection.connection)


def _read(resource_id: int) -> tuple[str, bytes] | None:
    """(context, data) of a resource's fingerprints, or None.

    On PostgreSQL the bytes come in binary: Django's client-side binding would
    round-trip tens of megabytes through hex text (1.5 s and 300 MB for 1M rows).
    """
    from hub.records.models import RowFingerprints

    if connection.vendor == "postgresql":
        with _binary_cursor() as cursor:
            cursor.execute(
                "SELECT context, data FROM hub_rowfingerprints WHERE resource_id = %s",
                [resource_id],
                binary=True,
            )
            return cursor.fetchone()
    stored = RowFingerprints.objects.filter(resource_id=resource_id).first()
    return None if stored is None else (stored.context, bytes(stored.data))


def _write(resource_id: int, batch_id: int, context: str, rows: int, data) -> None:
    """Store a resource's fingerprints (binary parameters on PostgreSQL, see ``_read``)."""
    from hub.records.models import RowFingerprints

    if connection.vendor == "postgresql":
        with _binary_cursor() as cursor:
            cursor.execute(
                "INSERT INTO hub_rowfingerprints (resource_id, batch_id, context, rows, data,"
                " created_at) VALUES (%s, %s, %s, %s, %b, now())",
                [resource_id, batch_id, context, rows, data],
            )
        return
    RowFingerprints.objects.create(
        resource_id=resource_id, batch_id=batch_id, context=context, rows=rows, data=bytes(data)
    )


_SCHEMA = {"high": pl.UInt64, "low": pl.UInt64, "key": pl.String}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)
