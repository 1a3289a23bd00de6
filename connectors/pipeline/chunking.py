"""Helpers of the ingest pipeline: read-ahead of chunks and the file-wide key registry."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

import numpy as np
import polars as pl

from connectors.base import ParsedChunk


class KeyRegistry:
    """Remembers the natural keys seen so far in a file as 64-bit hashes.

    ``check`` returns, for each row of a chunk whose key was already seen (earlier in the
    chunk or in an earlier chunk), the source row where it first appeared.

    The hashes live in sorted runs of at most ``run_size`` entries (12 bytes a row: the
    hash and the source row as uint32 while rows fit). Only the newest run grows, so
    taking a chunk in copies at most one run, not everything seen: a 10M-row file needs
    120 MB here, not twice 160 MB at its last chunk.
    """

    def __init__(self, run_size: int = 1 << 20) -> None:
        self.run_size = run_size
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []

    @property
    def hashes(self) -> np.ndarray:
        """Every hash seen, sorted (for tests and diagnostics: it copies)."""
        if not self.runs:
            return np.empty(0, dtype=np.uint64)
        return np.sort(np.concatenate([hashes for hashes, _ in self.runs]))

    def check(self, keys: pl.Series, rows: np.ndarray) -> dict[int, int]:
        """Map position in the chunk → first source row, for every repeated key."""
        hashes = keys.hash(seed=7).to_numpy()
        order = np.lexsort((rows, hashes))
        sorted_hashes = hashes[order]
        repeated = np.zeros(len(order), dtype=bool)
        repeated[1:] = sorted_hashes[1:] == sorted_hashes[:-1]
        run_start = np.maximum.accumulate(np.where(repeated, 0, np.arange(len(order))))
        first_in_chunk = rows[order[run_start]]
        duplicates: dict[int, int] = {}
        for position in np.flatnonzero(repeated):
            duplicates[int(order[position])] = int(first_in_chunk[position])
        for run_hashes, run_rows in self.runs:
            at = np.searchsorted(run_hashes, hashes)
            clipped = np.minimum(at, len(run_hashes) - 1)
            for position in np.flatnonzero(run_hashes[clipped] == hashes):
                duplicates[int(position)] = int(run_rows[clipped[position]])
        fresh = np.ones(len(hashes), dtype=bool)
        fresh[list(duplicates)] = False
        self._add(hashes[fresh], rows[fresh])
        return duplicates

    def _add(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        """Merge distinct new hashes into the newest run (linear), or start a new one."""
        if not len(hashes):
            return
        if int(rows.min()) >= 0 and int(rows.max()) < 1 << 32:
            rows = rows.astype(np.uint32)
        by_hash = np.argsort(hashes, kind="stable")
        hashes, rows = hashes[by_hash], rows[by_hash]
        if (
            not self.runs
            or len(self.runs[-1][0]) + len(hashes) > self.run_size
            or self.runs[-1][1].dtype != rows.dtype
        ):
            self.runs.append((hashes, rows))
            return
        run_hashes, run_rows = self.runs[-1]
        at = np.searchsorted(run_hashes, hashes)
        self.runs[-1] = (np.insert(run_hashes, at, hashes), np.insert(run_rows, at, rows))


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


_DONE = object()


def prefetch(chunks: Iterator[ParsedChunk], depth: int = 1) -> Iterator[ParsedChunk]:
    """Parse the next chunk in a thread while the database loads the current one.

    The COPY and upsert mostly wait on the PostgreSQL server (the GIL is released), so
    reading and normalising overlap with loading. At most ``depth`` chunks wait in the
    queue, which bounds memory. Exceptions of the reader reach the caller unchanged.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for chunk in chunks:
                handoff.put(chunk)
                if stop.is_set():
                    return
            handoff.put(_DONE)
        except BaseException as error:
            handoff.put(_Failed(error))

    worker = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        # Unblock a producer waiting on a full queue, then let it finish.
        while worker.is_alive():
            with contextlib.suppress(queue.Empty):
                handoff.get(timeout=0.1)
        worker.join()
        # Now that no thread runs it, close the source: a prefetch feeding this one
        # stops its own thread at once instead of when it is garbage-collected.
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
