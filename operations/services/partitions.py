"""Monthly partitions of the readings and their retention (raw → hourly → gone).

PostgreSQL: ``operations_reading`` is range-partitioned by month on ``observed_at`` (UTC
bounds, migration 0005): ``operations_reading_pYYYYMM`` per month and
``operations_reading_default`` for rows outside every month partition. Beat
(``operations.tasks.maintain_readings``) creates the next months ahead, moving rows the
default partition holds for them, and applies retention. SQLite keeps one table: creating
partitions is a no-op there, retention deletes rows.

Retention per resource (``ResourceMapping.raw_retention_months`` /
``hourly_retention_months``, else ``OPS_RAW_RETENTION_MONTHS`` /
``OPS_HOURLY_RETENTION_MONTHS``): raw readings older than the first day of the current
month minus N months are first added into ``ReadingHourly`` (one row per point, metric and
UTC hour), then deleted, in one transaction. A month partition whose every row is expired
(its end is before the longest raw retention's cutoff) is dropped whole instead of
deleted row by row; a resource with a shorter retention loses its rows by DELETE.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from operations.models import EntityKind, Reading, ReadingHourly, ResourceMapping
from permissions.audit import log_event

TABLE = Reading._meta.db_table
HOURLY = ReadingHourly._meta.db_table
DEFAULT_PARTITION = f"{TABLE}_default"
MONTH_PARTITION = re.compile(rf"^{TABLE}_p(\d{{4}})(\d{{2}})$")
# DDL on the readings waits this long for a lock, then fails and beat retries later: a
# long read holding the table must not queue every sync behind the partition change.
LOCK_TIMEOUT = "10s"


@dataclass(frozen=True)
class PartitionResult:
    created: list[str] = field(default_factory=list)
    moved: int = 0  # rows moved out of the default partition into the new ones


@dataclass(frozen=True)
class RetentionResult:
    aggregated: int = 0  # raw readings added into hourly aggregates
    deleted: int = 0  # raw readings deleted row by row
    dropped: list[str] = field(default_factory=list)  # month partitions dropped whole
    dropped_rows: int = 0
    hourly_deleted: int = 0


def month_start(moment: dt.datetime) -> dt.datetime:
    """First instant (UTC) of the month holding ``moment``."""
    moment = moment.astimezone(dt.UTC)
    return dt.datetime(moment.year, moment.month, 1, tzinfo=dt.UTC)


def add_months(month: dt.datetime, months: int) -> dt.datetime:
    index = month.year * 12 + month.month - 1 + months
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=dt.UTC)


def partition_name(month: dt.datetime) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def is_partitioned() -> bool:
    """True when the readings table is a partitioned table (PostgreSQL after 0005)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def month_partitions() -> dict[dt.datetime, str]:
    """The month partitions of the readings, by first day of the month."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass",
            [TABLE],
        )
        names = [row[0] for row in cursor.fetchall()]
    months = {}
    for name in names:
        match = MONTH_PARTITION.match(name)
        if match:
            months[dt.datetime(int(match[1]), int(match[2]), 1, tzinfo=dt.UTC)] = name
    return months


def ensure_partitions(
    *, now: dt.datetime | None = None, ahead: int | None = None, since: dt.datetime | None = None
) -> PartitionResult:
    """Create the month partitions from this month (or from ``since``, for a backfill)
    to ``ahead`` months on, and one for every month the default partition holds rows of
    (those rows move in); audited."""
    if not is_partitioned():
        return PartitionResult()
    now = now or timezone.now()
    ahead = settings.OPS_PARTITIONS_AHEAD if ahead is None else ahead
    wanted = {add_months(month_start(now), i) for i in range(ahead + 1)}
    month = month_start(since or now)
    while month < month_start(now):
        wanted.add(month)
        month = add_months(month, 1)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT date_trunc('month', observed_at AT TIME ZONE 'UTC') "  # noqa: S608 - only table names are interpolated
            f"FROM {DEFAULT_PARTITION}"
        )
        wanted |= {row[0].replace(tzinfo=dt.UTC) for row in cursor.fetchall()}
    existing = month_partitions()
    created, moved = [], 0
    for month in sorted(wanted - set(existing)):
        moved += _create_partition(month)
        created.append(partition_name(month))
    if created:
        log_event(
            actor=None,
            action="reading_partitions",
            rows=moved,
            detail={"created": created, "moved_from_default": moved},
        )
    return PartitionResult(created=created, moved=moved)


def _create_partition(month: dt.datetime) -> int:
    """Create one month partition beside the table, move the default partition's rows of
    that month into it and attach it (ATTACH takes a weaker lock than PARTITION OF)."""
    name, end = partition_name(month), add_months(month, 1)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM {DEFAULT_PARTITION} "  # noqa: S608 - only table names are interpolated
            "WHERE observed_at >= %s AND observed_at < %s RETURNING *) "
            f"INSERT INTO {name} SELECT * FROM moved",
            [month, end],
        )
        moved = cursor.rowcount
        cursor.execute(
            f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [month, end],
        )
    return moved


def _policies(now: dt.datetime) -> tuple[dict[int, tuple[dt.datetime, dt.datetime]], tuple]:
    """Raw and hourly cutoffs per mapped resource, and the defaults for the others."""
    month = month_start(now)
    raw_default = settings.OPS_RAW_RETENTION_MONTHS
    hourly_default = settings.OPS_HOURLY_RETENTION_MONTHS
    cutoffs = {}
    rows = ResourceMapping.objects.filter(entity=EntityKind.READING).values_list(
        "resource_id", "raw_retention_months", "hourly_retention_months"
    )
    for resource_id, raw, hourly in rows:
        raw = raw or raw_default
        hourly = max(hourly or hourly_default, raw)
        cutoffs[resource_id] = (add_months(month, -raw), add_months(month, -hourly))
    default = (
        add_months(month, -raw_default),
        add_months(month, -max(hourly_default, raw_default)),
    )
    return cutoffs, default


def _aggregate(cursor, *, source: str, where: str, params: list) -> int:
    """Add the raw readings of ``source`` matching ``where`` into the hourly aggregates."""
    if connection.vendor == "postgresql":
        hour, least, greatest = "date_trunc('hour', observed_at)", "LEAST", "GREATEST"
    else:
        hour, least, greatest = "strftime('%%Y-%%m-%%d %%H:00:00', observed_at)", "min", "max"
    cursor.execute(
        f"INSERT INTO {HOURLY} AS h (resource_id, point_id, metric, hour, count, total, "  # noqa: S608 - only table names and fixed SQL are interpolated
        "minimum, maximum, unit) "
        f"SELECT resource_id, point_id, metric, {hour}, count(*), sum(value), min(value), "
        f"max(value), max(unit) FROM {source} WHERE {where} "
        "GROUP BY resource_id, point_id, metric, 4 "
        "ON CONFLICT (point_id, metric, hour) DO UPDATE SET count = h.count + EXCLUDED.count, "
        f"total = h.total + EXCLUDED.total, minimum = {least}(h.minimum, EXCLUDED.minimum), "
        f"maximum = {greatest}(h.maximum, EXCLUDED.maximum), unit = EXCLUDED.unit",
        params,
    )
    cursor.execute(f"SELECT count(*) FROM {source} WHERE {where}", params)  # noqa: S608 - only table names and fixed SQL are interpolated
    return cursor.fetchone()[0]


def _at(moment: dt.datetime):
    """A datetime as this backend stores it (SQLite compares text)."""
    return connection.ops.adapt_datetimefield_value(moment)


def _expire(where: str, params: list) -> tuple[int, int]:
    """Aggregate then delete the raw readings matching ``where``, in one transaction."""
    with transaction.atomic(), connection.cursor() as cursor:
        aggregated = _aggregate(cursor, source=TABLE, where=where, params=params)
        if not aggregated:
            return 0, 0
        cursor.execute(f"DELETE FROM {TABLE} WHERE {where}", params)  # noqa: S608 - only table names and fixed SQL are interpolated
        return aggregated, cursor.rowcount


def _resources_in(name: str) -> list[int]:
    """The resources with readings in one partition: a skip scan of the source-identity
    index (one index probe per resource, not a scan of the month)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE r AS (SELECT min(resource_id) AS id FROM {name} "  # noqa: S608 - only table names are interpolated
            f"UNION ALL SELECT (SELECT min(resource_id) FROM {name} WHERE resource_id > r.id) "
            "FROM r WHERE r.id IS NOT NULL) SELECT id FROM r WHERE id IS NOT NULL"
        )
        return [row[0] for row in cursor.fetchall()]


def _drop_partition(name: str) -> int:
    """Aggregate every row of an expired month partition, then detach and drop it."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        rows = _aggregate(cursor, source=name, where="true", params=[])
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")
    return rows


def apply_retention(*, now: dt.datetime | None = None) -> RetentionResult:
    """Expire raw readings and hourly aggregates past each resource's retention; audited."""
    now = now or timezone.now()
    cutoffs, default = _policies(now)
    aggregated = deleted = dropped_rows = hourly_deleted = 0
    dropped: list[str] = []
    if is_partitioned():
        # A month is dropped whole only when it is expired for every resource in it.
        # An empty month goes once it is expired for every policy (never an ahead month).
        everyone = min([raw for raw, _ in cutoffs.values()] + [default[0]])
        for month, name in sorted(month_partitions().items()):
            end = add_months(month, 1)
            present = _resources_in(name)
            if (present or end <= everyone) and all(
                end <= cutoffs.get(resource_id, default)[0] for resource_id in present
            ):
                rows = _drop_partition(name)
                aggregated += rows
                dropped_rows += rows
                dropped.append(name)
    by_resource: dict[str, int] = {}
    for resource_id, (raw, _) in cutoffs.items():
        added, gone = _expire("resource_id = %s AND observed_at < %s", [resource_id, _at(raw)])
        aggregated, deleted = aggregated + added, deleted + gone
        if gone:
            by_resource[str(resource_id)] = gone
    mapped = list(cutoffs)
    others = "observed_at < %s"
    if mapped:
        others += f" AND resource_id NOT IN ({', '.join(['%s'] * len(mapped))})"
    added, gone = _expire(others, [_at(default[0]), *mapped])
    aggregated, deleted = aggregated + added, deleted + gone
    for resource_id, (_, hourly) in cutoffs.items():
        hourly_deleted += ReadingHourly.objects.filter(
            resource_id=resource_id, hour__lt=hourly
        ).delete()[0]
    hourly_deleted += (
        ReadingHourly.objects.filter(hour__lt=default[1])
        .exclude(resource_id__in=mapped)
        .delete()[0]
    )
    result = RetentionResult(aggregated, deleted, dropped, dropped_rows, hourly_deleted)
    if aggregated or hourly_deleted:
        log_event(
            actor=None,
            action="reading_retention",
            rows=deleted + dropped_rows,
            detail={
                "aggregated": aggregated,
                "deleted": deleted,
                "deleted_by_resource": by_resource,
                "dropped": dropped,
                "dropped_rows": dropped_rows,
                "hourly_deleted": hourly_deleted,
            },
        )
    return result
