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
    count = np.frombuffer(len(types).to_bytes(2, "big"), dtype=np.uint8)
    pieces: list[np.ndarray | pa.Array] = [np.broadcast_to(count, (rows, 2))]
    for name, kind in types.items():
        pieces.extend(_pieces(frame[name], kind))
    # Neighbouring fixed-width pieces (a row's field count, numbers without nulls, the
    # length of the text after them) become one: pyarrow then joins a few wide pieces
    # per row instead of two per field.
    merged: list[np.ndarray | pa.Array] = []
    for piece in pieces:
        if isinstance(piece, np.ndarray) and merged and isinstance(merged[-1], np.ndarray):
            merged[-1] = np.hstack([merged[-1], piece])
        else:
            merged.append(piece)
    arrays = [_fixed_width(piece) if isinstance(piece, np.ndarray) else piece for piece in merged]
    joined = pc.binary_join_element_wise(*arrays, pa.scalar(b"", pa.large_binary()))
    return b"".join([SIGNATURE, _concatenated(joined), TRAILER])


def _pieces(column: pl.Series, kind: str) -> list[np.ndarray | pa.Array]:
    """One field of every row: fixed-width parts as (rows, width) uint8 arrays, the rest
    (text, and cells of a column with nulls, which are shorter) as binary arrays."""
    rows = len(column)
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
    width = np.dtype(FIXED[kind]).itemsize
    raw = np.empty((rows, 4 + width), dtype=np.uint8)
    raw[:, :4] = np.frombuffer(width.to_bytes(4, "big"), dtype=np.uint8)
    values = column.fill_null(0).to_numpy().astype(FIXED[kind])
    raw[:, 4:] = values.view(np.uint8).reshape(rows, width)
    if not column.null_count():
        return [raw]
    return [pc.if_else(pa.array(column.is_not_null().to_numpy()), _fixed_width(raw), NULL)]


def _microseconds(column: pl.Series) -> pl.Series:
    """Microseconds since PostgreSQL's epoch. Text is ISO 8601 UTC ("…T06:30:00Z") or a
    date ("2025-07-01", midnight UTC: what PostgreSQL made of it in a UTC session)."""
    if column.dtype == pl.String:
        parsed = column.str.to_datetime(
            "%Y-%m-%dT%H:%M:%SZ", time_zone="UTC", time_unit="us", strict=False
        )
        if parsed.null_count() > column.null_count():  # dates, read only when there are any
            days = column.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us", "UTC"))
            parsed = parsed.fill_null(days)
        unread = column.is_not_null() & parsed.is_null()
        if unread.any():
            raise ValueError(f"{column.name}: cannot read {column.filter(unread)[0]!r} as a time")
        column = parsed
    elif column.dtype == pl.Date:
        column = column.cast(pl.Datetime("us", "UTC"))
    elif column.dtype.time_zone is None:  # type: ignore[union-attr]
        column = column.dt.replace_time_zone("UTC")
    return column.dt.cast_time_unit("us").dt.epoch("us") - PG_EPOCH_MICROSECONDS


def _variable(column: pl.Series, *, prefix: bytes) -> list[np.ndarray | pa.Array]:
    """Length-prefixed UTF-8 bytes (plus the jsonb version byte): the lengths (and the
    version byte) as one fixed-width piece, then the bytes."""
    values = column.to_arrow()
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    values = values.cast(pa.large_binary())
    rows = len(values)
    lengths = pc.binary_length(values).to_numpy(zero_copy_only=False)
    valid = None
    if values.null_count:
        valid = values.is_valid().to_numpy(zero_copy_only=False)
        lengths = np.where(valid, lengths, 0)
        values = values.fill_null(b"")
    head = np.empty((rows, 4 + len(prefix)), dtype=np.uint8)
    # Add before the byte swap: arithmetic on a big-endian array gives a native one.
    big_endian = (lengths.astype(np.int64) + len(prefix)).astype(">i4")
    head[:, :4] = big_endian.view(np.uint8).reshape(rows, 4)
    head[:, 4:] = np.frombuffer(prefix, dtype=np.uint8)
    if valid is None:
        return [head, values]
    if not prefix:
        head[~valid, :4] = 0xFF  # NULL: a length of -1 and no bytes
        return [head, values]
    # A NULL has no version byte: its head is shorter than the others.
    return [pc.if_else(pa.array(valid), _fixed_width(head), NULL), values]


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
