"""PostgreSQL's binary COPY format, built column by column with numpy and pyarrow.

The record store COPYs every new record; in the text (CSV) format PostgreSQL parses each
number, timestamp and field boundary again: 15–20% of the COPY's server time in a psql
experiment, and the benchmark's COPY of 1M records went from 12.9–15.0 s to 9.1–11.3 s
within the same hour (bench/README-ingest.md). Here each cell becomes its binary form
(a 4-byte big-endian length, then the value) in vectorised passes, and the cells of a
row are joined by pyarrow: no Python code runs per row.

Format: https://www.postgresql.org/docs/current/sql-copy.html (Binary Format).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL = pa.scalar(b"\xff\xff\xff\xff", pa.large_binary())
# PostgreSQL counts timestamps in microseconds from 2000-01-01 00:00 UTC.
PG_EPOCH_MICROSECONDS = 946_684_800_000_000
JSONB_VERSION = b"\x01"
FIXED = {"int8": ">i8", "int4": ">i4", "float8": ">f8", "timestamptz": ">i8"}
INTEGER_RANGE = {"int4": (-(2**31), 2**31 - 1), "int8": (-(2**63), 2**63 - 1)}


def encode(frame: pl.DataFrame, types: dict[str, str]) -> bytes:
    """The binary COPY payload of ``frame``'s columns ``types`` (name -> PostgreSQL type:
    int8, int4, float8, timestamptz, text or jsonb), in that order.

    timestamptz columns hold ISO 8601 UTC text ("2025-07-01T06:30:00Z") or datetimes;
    text and jsonb columns hold strings; nulls are SQL NULL.
    """
    rows = len(frame)
    count = np.full((rows, 2), 0, dtype=np.uint8)
    count[:, :] = np.frombuffer(len(types).to_bytes(2, "big"), dtype=np.uint8)
    cells = [_fixed_width(count)]
    for name, kind in types.items():
        cells.append(_cells(frame[name], kind))
    joined = pc.binary_join_element_wise(*cells, pa.scalar(b"", pa.large_binary()))
    return SIGNATURE + _concatenated(joined) + TRAILER


def _cells(column: pl.Series, kind: str) -> pa.Array:
    if kind in ("text", "jsonb"):
        return _variable(column, prefix=JSONB_VERSION if kind == "jsonb" else b"")
    if kind == "timestamptz":
        column = _microseconds(column)
    elif kind in INTEGER_RANGE:
        if not (column.dtype.is_integer() or column.dtype == pl.Null):
            raise TypeError(f"{column.name}: {column.dtype} is not an integer type")
        low, high = INTEGER_RANGE[kind]
        outside = column.is_not_null() & ((column < low) | (column > high))
        if outside.any():
            raise ValueError(f"{column.name}: {column.filter(outside)[0]} is out of {kind} range")
    valid = column.is_not_null().to_numpy()
    values = column.fill_null(0).to_numpy()
    width = np.dtype(FIXED[kind]).itemsize
    raw = np.empty((len(column), 4 + width), dtype=np.uint8)
    raw[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
    raw[:, 4:] = values.astype(FIXED[kind]).view(np.uint8).reshape(len(column), width)
    cells = _fixed_width(raw)
    return cells if valid.all() else pc.if_else(pa.array(valid), cells, NULL)


def _microseconds(column: pl.Series) -> pl.Series:
    """Microseconds since PostgreSQL's epoch. Text is ISO 8601 UTC ("…T06:30:00Z") or a
    date ("2025-07-01", midnight UTC: what PostgreSQL made of it in a UTC session)."""
    if column.dtype == pl.String:
        moments = column.str.to_datetime(
            "%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", time_unit="us", strict=False
        )
        days = column.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us", "UTC"))
        parsed = moments.fill_null(days)
        unread = column.is_not_null() & parsed.is_null()
        if unread.any():
            raise ValueError(f"{column.name}: cannot read {column.filter(unread)[0]!r} as a time")
        column = parsed
    elif column.dtype == pl.Date:
        column = column.cast(pl.Datetime("us", "UTC"))
    elif column.dtype.time_zone is None:  # type: ignore[union-attr]
        column = column.dt.replace_time_zone("UTC")
    return column.dt.cast_time_unit("us").dt.epoch("us") - PG_EPOCH_MICROSECONDS


def _variable(column: pl.Series, *, prefix: bytes) -> pa.Array:
    """Length-prefixed UTF-8 bytes (plus the jsonb version byte)."""
    values = column.to_arrow().cast(pa.large_binary())
    lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
    # Add before the byte swap: arithmetic on a big-endian array gives a native one.
    lengths = (np.nan_to_num(lengths, nan=0).astype(np.int64) + len(prefix)).astype(">i4")
    heads = _fixed_width(lengths.view(np.uint8).reshape(len(column), 4))
    parts = [heads]
    if prefix:
        parts.append(pa.scalar(prefix, pa.large_binary()))
    cells = pc.binary_join_element_wise(*parts, values, pa.scalar(b"", pa.large_binary()))
    if values.null_count:
        cells = pc.if_else(values.is_valid(), cells, NULL)
    return cells


def _fixed_width(raw: np.ndarray) -> pa.Array:
    """Rows of a 2-D uint8 array as a binary array (one value per row)."""
    rows, width = raw.shape
    buffer = pa.py_buffer(np.ascontiguousarray(raw))
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), rows, [None, buffer]).cast(
        pa.large_binary()
    )


def _concatenated(values: pa.Array) -> bytes:
    """The bytes of every value of a binary array, end to end."""
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if len(values) == 0:
        return b""
    offsets = np.frombuffer(values.buffers()[1], dtype=np.int64)[
        values.offset : values.offset + len(values) + 1
    ]
    start, end = int(offsets[0]), int(offsets[-1])
    return values.buffers()[2].slice(start, end - start).to_pybytes()
