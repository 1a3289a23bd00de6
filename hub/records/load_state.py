"""What a load of records shares and reports (装载状态): the counts of an upsert and the
state the chunks of one load share, for ``recordstore`` and its PostgreSQL path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field


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
