"""Source-row fingerprints: rows already loaded are not normalised again.

Stewards re-upload whole snapshots (全量) in which most rows did not change. Each load
keeps, per resource, the 128-bit fingerprint of every source row's cells with the key of
the record that row became (``hub.models.RowFingerprints``). The next upload of the
resource computes its rows' fingerprints as it reads (two seeded polars row hashes, about
0.25 s per 1M rows) and, when its parse context is the same, sends only the rows not
found there through normalising, validation and the record store. A found row is counted
unchanged: its cells, header, schema, code lists, connector and code are the ones that
produced the stored record, and nothing else wrote the resource since (any other write
deletes the fingerprints, see ``hub.recordstore.forget_fingerprints``; a load reads them
under the resource's write lock).

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

from connectors.base import KnownRows
from connectors.headers import ColumnMatch
from connectors.readers import RawChunk
from connectors.schema import Schema

# A batch of more rows keeps no fingerprints (memory: ~40 bytes a row while loading).
MAX_ROWS = 2_000_000
_SEEDS = (0x5EED_F1A7, 0x5EED_0B0E)
_SOURCES = Path(__file__).resolve().parent
_RECORD_STORE = _SOURCES.parent / "hub" / "recordstore.py"


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
    for path in sorted([*_SOURCES.rglob("*.py"), _RECORD_STORE]):
        if "migrations" not in path.parts:
            digest.update(path.name.encode() + path.read_bytes())
    for package in ("pandas", "polars", "pyarrow", "numpy"):
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
            described["matcher"] = [type(info.matcher).__name__, sorted(info.matcher.exact.items())]
        fields.append(described)
    context = {
        "code": _code_digest(),
        "connector": [type(connector).__qualname__, connector.code, connector.version],
        "settings": {
            name: getattr(connector, name)
            for name in ("header_aliases", "source_units", "source_crs", "day_first")
        },
        "value_aliases": connector.value_aliases,
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
    (to keep for the next). ``split`` runs in the pipeline's reader thread, ``load`` and
    ``save`` in the loading thread, before and after it."""

    def __init__(self, *, context: str = "", table: pl.DataFrame | None = None):
        self.stored_context = context
        table = table if table is not None else _empty()
        table = table.sort(["high", "low"])
        self._high = table["high"].to_numpy()
        self._low = table["low"].to_numpy()
        self._keys = table["key"]
        self.context = ""
        self.active = False
        self._parts: list[pl.DataFrame] = []
        self._rows = 0

    @classmethod
    def load(cls, resource) -> RowMemo:
        """The resource's stored fingerprints (call under the load's write lock)."""
        from hub.models import RowFingerprints

        stored = RowFingerprints.objects.filter(resource=resource).first()
        if stored is None:
            return cls()
        return cls(context=stored.context, table=pl.read_ipc(io.BytesIO(bytes(stored.data))))

    def begin(self, context: str) -> None:
        """The parse context of this upload: stored fingerprints count only if equal."""
        self.context = context
        self.active = bool(context) and context == self.stored_context and len(self._high) > 0

    def split(self, raw: RawChunk, headers: list[str]) -> tuple[RawChunk, KnownRows | None]:
        """The chunk's rows that still need normalising, and the rows already stored.

        The returned chunk carries its rows' fingerprints (``RawChunk.fingerprints``).
        """
        prints = row_fingerprints(raw.frame)
        if not self.active or not len(prints):
            raw.fingerprints = prints
            return raw, None
        at = np.minimum(np.searchsorted(self._high, prints[:, 0]), len(self._high) - 1)
        found = (self._high[at] == prints[:, 0]) & (self._low[at] == prints[:, 1])
        if raw.errors:
            # A row the reader flagged (e.g. longer than the header) is never looked up.
            found &= ~np.isin(raw.source_rows, [error.row for error in raw.errors])
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
        rest = RawChunk(
            frame=raw.frame.iloc[misses].reset_index(drop=True),
            source_rows=raw.source_rows[misses],
            errors=raw.errors,
        )
        rest.fingerprints = prints[misses]
        return rest, known

    def record(self, fingerprints: np.ndarray | None, keys: pl.Series) -> None:
        """Keep rows of this load (fingerprint, key) for the next; bounded by MAX_ROWS."""
        if fingerprints is None or self._rows > MAX_ROWS or not len(keys):
            return
        self._rows += len(keys)
        if self._rows > MAX_ROWS:
            self._parts = []  # too large to keep: the next upload reads every row
            return
        self._parts.append(
            pl.DataFrame(
                {"high": fingerprints[:, 0], "low": fingerprints[:, 1], "key": keys},
                schema=_SCHEMA,
            )
        )

    def save(self, *, resource, batch) -> None:
        """Replace the resource's fingerprints with this load's (in its transaction)."""
        from hub.models import RowFingerprints

        RowFingerprints.objects.filter(resource=resource).delete()
        if not self.context or not self._parts or self._rows > MAX_ROWS:
            return
        table = pl.concat(self._parts)
        out = io.BytesIO()
        table.write_ipc(out, compression="lz4")
        RowFingerprints.objects.create(
            resource=resource,
            batch=batch,
            context=self.context,
            rows=len(table),
            data=out.getvalue(),
        )


_SCHEMA = {"high": pl.UInt64, "low": pl.UInt64, "key": pl.String}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema=_SCHEMA)
