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
    """Remembers the natural keys seen so far in a file as 64-bit hashes (8 bytes a row).

    ``check`` returns, for each row of a chunk whose key was already seen (earlier in the
    chunk or in an earlier chunk), the source row where it first appeared.
    """

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.rows = np.empty(0, dtype=np.int64)

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
        if len(self.hashes):
            at = np.searchsorted(self.hashes, hashes)
            clipped = np.minimum(at, len(self.hashes) - 1)
            seen = self.hashes[clipped] == hashes
            for position in np.flatnonzero(seen):
                duplicates[int(position)] = int(self.rows[clipped[position]])
        fresh = np.ones(len(hashes), dtype=bool)
        fresh[list(duplicates)] = False
        # Fresh hashes are distinct from each other and from the stored ones: sort the
        # chunk's alone and merge them in (linear), instead of re-sorting everything seen.
        new_hashes, new_rows = hashes[fresh], rows[fresh]
        by_hash = np.argsort(new_hashes, kind="stable")
        new_hashes, new_rows = new_hashes[by_hash], new_rows[by_hash]
        at = np.searchsorted(self.hashes, new_hashes)
        self.hashes = np.insert(self.hashes, at, new_hashes)
        self.rows = np.insert(self.rows, at, new_rows)
        return duplicates


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
