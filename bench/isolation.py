"""Keep benchmarks apart: each starts on an empty broker and counts only its own work.

A benchmark that loads a batch (ingest, permissions) enqueues its sync on the broker of
``CELERY_BROKER_URL`` (``batch_loaded`` -> ``sync_batch.delay``). Nobody consumes it until a
later benchmark starts workers, which then run those foreign syncs in the middle of their
own measurement. ``purge_broker`` empties the hub's queues (and Redis' unacknowledged
set, which a killed worker leaves behind and Kombu would restore later) before a
benchmark starts and before it starts workers.
"""

from __future__ import annotations

import os

QUEUES = ("default", "ingest", "sync")
#: Kombu's Redis transport keeps delivered-but-unacknowledged messages here.
REDIS_UNACKED = ("unacked", "unacked_index", "unacked_mutex")


def broker_url() -> str:
    return os.environ.get("CELERY_BROKER_URL", "")


def purge_broker(url: str | None = None) -> int:
    """Drop every message of the hub's queues on the benchmark broker; returns the count."""
    url = broker_url() if url is None else url
    if not url:
        return 0  # eager mode: nothing is queued
    from kombu import Connection

    dropped = 0
    with Connection(url, connect_timeout=2) as conn:
        channel = conn.default_channel
        for queue in QUEUES:
            try:
                dropped += channel.queue_purge(queue) or 0
            except Exception:  # a queue never declared has nothing to drop
                continue
        if url.startswith(("redis://", "rediss://")):
            client = channel.client
            dropped += client.hlen("unacked")
            client.delete(*REDIS_UNACKED)
    return dropped


def vacuum(*models) -> None:
    """VACUUM ANALYZE the tables of ``models`` (PostgreSQL; elsewhere nothing).

    A benchmark deletes its earlier runs' rows before it starts. Where autovacuum is off
    (this machine's PostgreSQL: ``autovacuum = off`` in its conf.d), the dead rows and
    their index entries stay, every run adds more, and each insert's unique check and
    each claim's index scan walks them: runs slowed down one after another and within a
    run. Each run starts on vacuumed tables, as a server with autovacuum would keep them.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
