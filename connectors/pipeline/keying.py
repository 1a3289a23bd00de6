"""Keying of parsed chunks in the pipeline's reader thread: store rows, natural-key
errors across the whole file (missing, overlong, repeated) and the COPY payload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
from django.utils.translation import gettext as _

from connectors.base import ParsedChunk, RowError
from connectors.pipeline.chunking import KeyRegistry
from connectors.pipeline.fingerprints import RowMemo
from hub.catalog.models import DataResource
from hub.records import recordstore

MAX_KEY_LENGTH = 255


def key_errors(
    resource: DataResource,
    chunk: ParsedChunk,
    rows: pl.DataFrame,
    registry: KeyRegistry,
    labels: dict[str, str],
) -> list[RowError]:
    """Missing, overlong and repeated natural keys (repeats name the first row)."""
    column = "、".join(labels.get(name, name) for name in resource.key_fields)
    first_field = resource.key_fields[0] if resource.key_fields else ""
    errors: list[RowError] = []
    present = [name for name in resource.key_fields if name in chunk.frame.columns]
    missing = (
        chunk.frame[present].isna().any(axis=1).to_numpy()
        if present
        else np.ones(len(chunk), dtype=bool)
    )
    keys = rows["key"]
    source_rows = np.asarray(chunk.source_rows, dtype=np.int64)
    for i in np.flatnonzero(keys.str.len_bytes().to_numpy() > MAX_KEY_LENGTH):
        errors.append(
            RowError(
                int(source_rows[i]),
                column,
                _("主键过长（超过 %(n)d 字节）") % {"n": MAX_KEY_LENGTH},
                first_field,
            )
        )
    # Rows already invalid for a missing required key field need no second message.
    for i in np.flatnonzero(missing & np.asarray(chunk.valid, dtype=bool)):
        errors.append(RowError(int(source_rows[i]), column, _("主键字段不能为空"), first_field))
    usable_idx = np.flatnonzero(~missing)
    # Rows found among the last load's fingerprints are checked with the others.
    check_keys, check_rows = keys.gather(usable_idx), source_rows[usable_idx]
    if chunk.known is not None:
        check_keys = pl.concat([check_keys, chunk.known.keys.alias(check_keys.name)])
        check_rows = np.concatenate([check_rows, chunk.known.source_rows])
    repeats = registry.check(check_keys, check_rows)
    for position, first_row in sorted(repeats.items()):
        errors.append(
            RowError(
                int(check_rows[position]),
                column,
                _("主键 %(key)s 与第 %(first)d 行重复")
                % {"key": check_keys[int(position)], "first": first_row},
                first_field,
            )
        )
    return errors


@dataclass
class Keyed:
    """A parsed chunk with its store rows and every error of its rows, keys included."""

    chunk: ParsedChunk
    rows: pl.DataFrame
    errors: list[RowError]
    seconds: float
    # The COPY payload of a valid chunk's rows (sorted by key), PostgreSQL only.
    payload: bytes | None = None


def keyed(
    chunks: Iterator[ParsedChunk],
    resource: DataResource,
    names: list[str],
    labels: dict,
    build_copy,
    state: recordstore.LoadState,
    memo: RowMemo,
) -> Iterator[Keyed]:
    """Key each chunk and check its keys across the file, keep its rows' fingerprints,
    and build the COPY payload of valid chunks; no database access (it runs in the
    reader thread, whose Django connection would be another transaction)."""
    registry = KeyRegistry()
    for chunk in chunks:
        started = time.perf_counter()
        rows = recordstore.prepare_rows(
            resource=resource,
            frame=chunk.frame,
            source_rows=np.asarray(chunk.source_rows, dtype=np.int64),
            fields=names,
        )
        errors = list(chunk.errors) + key_errors(resource, chunk, rows, registry, labels)
        _remember(memo, chunk, rows["key"])
        payload = None
        # Worth it while every chunk so far was all new rows (first loads, appends);
        # a re-upload's chunks are mostly known keys and are written another way.
        fresh_so_far = state.all_fresh
        if build_copy is not None and fresh_so_far and not errors and bool(np.all(chunk.valid)):
            rows, payload = build_copy(rows)
        yield Keyed(chunk, rows, errors, time.perf_counter() - started, payload)


def _remember(memo: RowMemo, chunk: ParsedChunk, keys: pl.Series) -> None:
    """Hand the chunk's rows to the memo in source order (known and normalised rows
    interleaved), so that the next upload of the same file meets them in place."""
    if memo.same:
        return  # nothing to collect while the upload is the stored rows in order
    if chunk.known is None:
        memo.record(chunk.fingerprints, keys)
        return
    normalised = chunk.fingerprints
    if normalised is None:  # every row of the chunk was known
        normalised = np.empty((0, 2), dtype=np.uint64)
    rows = np.concatenate([np.asarray(chunk.source_rows), chunk.known.source_rows])
    order = np.argsort(rows, kind="stable")
    prints = np.concatenate([normalised, chunk.known.fingerprints])[order]
    both = pl.concat([keys.cast(pl.String), chunk.known.keys.cast(pl.String).alias(keys.name)])
    memo.record(prints, both.gather(order))
