"""Rows read so far by a loading batch, visible to pollers before the load commits.

The load runs in one transaction (all-or-nothing), so the batch's own counts appear
only when it ends. On PostgreSQL a reporter writes the rows read so far to
``connectors_batchprogress`` on a second, autocommit connection, at most twice a
second; the batch API shows them as ``rows_read`` while the batch is being parsed. On
SQLite (one writer at a time, so no second writing connection) the reporter writes to
Django's cache instead: the embedded default loads in a thread of the web process
(``connectors.confirm``), whose polls read the same (local-memory) cache.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connection, connections

from connectors.models import BatchProgress

logger = logging.getLogger(__name__)

INTERVAL = 0.5  # seconds between two reports
CACHE_SECONDS = 6 * 3600


def _cache_key(batch_id: int) -> str:
    return f"hub:batch-progress:{batch_id}"


class ProgressReporter:
    """Publishes one batch's rows read so far; best effort (a failure only stops it)."""

    def __init__(self, batch_id: int) -> None:
        self.batch_id = batch_id
        self.enabled = True
        self.in_cache = connection.vendor != "postgresql"
        self.own = None  # the second connection, opened at the first report
        self.last = time.monotonic()  # a batch done within INTERVAL reports nothing

    def report(self, rows_read: int) -> None:
        """Record ``rows_read`` unless the last report is more recent than INTERVAL."""
        now = time.monotonic()
        if not self.enabled or now - self.last < INTERVAL:
            return
        self.last = now
        if self.in_cache:
            cache.set(_cache_key(self.batch_id), rows_read, CACHE_SECONDS)
            return
        try:
            if self.own is None:
                self.own = connections.create_connection(DEFAULT_DB_ALIAS)
            with self.own.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO connectors_batchprogress (batch_id, rows_read, updated_at) "
                    "VALUES (%s, %s, now()) ON CONFLICT (batch_id) DO UPDATE "
                    "SET rows_read = EXCLUDED.rows_read, updated_at = EXCLUDED.updated_at",
                    [self.batch_id, rows_read],
                )
        except DatabaseError:
            logger.warning("progress of batch %s not recorded", self.batch_id, exc_info=True)
            self.enabled = False

    def close(self) -> None:
        """Remove the batch's progress row (its counts are on the batch now)."""
        if self.in_cache:
            cache.delete(_cache_key(self.batch_id))
        if self.own is None:
            return
        try:
            with self.own.cursor() as cursor:
                cursor.execute(
                    "DELETE FROM connectors_batchprogress WHERE batch_id = %s", [self.batch_id]
                )
        except DatabaseError:
            logger.warning("progress of batch %s not removed", self.batch_id, exc_info=True)
        finally:
            self.own.close()
            self.own = None


def rows_read_so_far(batch_id: int) -> int | None:
    """The rows a batch being loaded has read so far, if it reported any."""
    if connection.vendor != "postgresql":
        return cache.get(_cache_key(batch_id))
    return (
        BatchProgress.objects.filter(batch_id=batch_id).values_list("rows_read", flat=True).first()
    )
