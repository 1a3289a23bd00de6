"""Store rows: turn a typed frame into the keyed rows the record store writes.

``prepare_rows`` turns a typed pandas frame (one column per FieldSpec name) into the
rows the store writes: natural key, canonical JSON, content hash, observed_at,
district code, WGS-84 coordinates and source row. Everything is vectorised with polars.
It only computes; ``hub.records.recordstore.RecordStore`` writes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import polars as pl

from hub.catalog.models import DataResource
from hub.records.keys import ISO_UTC, KEY_SEPARATOR, canonical_key_series

__all__ = [
    "ISO_UTC",
    "KEY_SEPARATOR",
    "STORE_COLUMNS",
    "content_hashes",
    "field_names",
    "prepare_rows",
]
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


def _iso(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A column as text: datetimes in UTC ISO 8601 with "Z" (naive ones taken as UTC)."""
    dtype = frame.schema[name]
    if isinstance(dtype, pl.Datetime):
        column = pl.col(name)
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        return column.dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)
    return pl.col(name).cast(pl.String)


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
    jsonable = _jsonable(typed)
    data = jsonable.select(pl.struct(names).struct.json_encode().alias("data"))["data"]
    columns: list[pl.Series | pl.Expr] = [
        # Canonical key parts (hub.records.keys); nulls become "" (the pipeline
        # rejects empty key parts).
        canonical_key_series(typed, resource.key_fields),
        data,
    ]
    out = pl.DataFrame(columns)
    extras = []
    if resource.time_field and resource.time_field in names:
        time_field = resource.time_field
        if isinstance(typed.schema[time_field], pl.Datetime):  # _jsonable wrote it _iso
            observed = jsonable[time_field]
        else:
            observed = typed.select(_iso(typed, time_field)).to_series()
        extras.append(observed.alias("observed_at"))
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
