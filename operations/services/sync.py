"""Sync one loaded batch into points, readings and events, then evaluate rules.

Points and readings are upserted set-based, straight from ``hub_record`` with one
``INSERT … SELECT … ON CONFLICT`` per metric (PostgreSQL and SQLite both support it), so
no record travels through Python. Idempotent by source identity: a point is
(resource, point id), a reading (resource, record key, metric), an event (resource,
record key). The whole sync runs in one transaction: a worker killed mid-way leaves
nothing behind but its "running" SyncRun marker, and the redelivered task redoes it.
"""

from __future__ import annotations

import hashlib
import logging

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from hub.catalog.models import FieldSpec
from hub.records.models import Record, UploadBatch
from operations.models import (
    EntityKind,
    Event,
    MonitoringPoint,
    Reading,
    ResourceMapping,
    SyncRun,
    SyncState,
)
from operations.rules.engine import evaluate_compound, evaluate_points
from operations.services.alerts import reconcile

logger = logging.getLogger(__name__)

# A batch's records, found by the batch index alone. A batch belongs to one resource, so
# the records are the batch resource's; a ``resource_id`` condition here let PostgreSQL
# AND the batch index with the (resource, observed_at) index, reading an index entry for
# every record of the resource (410k for a 10k batch in the benchmark) in each sync.
BATCH_RECORDS = "r.batch_id = %(batch)s"

EVENT_LEVELS = {"蓝": 1, "黄": 2, "橙": 3, "红": 4, "IV": 1, "III": 2, "II": 3, "I": 4}


def _json_text(field: str) -> str:
    """SQL for the text value of a top-level JSON key of ``r.data`` (key as parameter)."""
    if connection.vendor == "postgresql":
        return f"(r.data ->> %({field})s)"
    return f"json_extract(r.data, %({field})s)"


def _json_number(field: str) -> str:
    """SQL for the numeric value of a JSON key, NULL when it is not a number."""
    if connection.vendor == "postgresql":
        return (
            f"(CASE WHEN jsonb_typeof(r.data -> %({field})s) = 'number' "
            f"THEN (r.data ->> %({field})s)::double precision END)"
        )
    return (
        f"(CASE WHEN json_type(r.data, %({field})s) IN ('integer', 'real') "
        f"THEN json_extract(r.data, %({field})s) END)"
    )


def _key(name: str) -> str:
    """Parameter value addressing a JSON key on this backend."""
    if connection.vendor == "postgresql":
        return name
    return '$."' + name.replace('"', '""') + '"'


def upsert_points(*, batch: UploadBatch, mapping: ResourceMapping) -> list[int]:
    """Create or update the batch's points; returns the ids of every point it touched."""
    resource = batch.resource
    point = MonitoringPoint._meta.db_table
    params = {
        "pf": _key(mapping.point_field),
        "nf": _key(mapping.point_name_field or mapping.point_field),
        "batch": batch.pk,
        "resource": resource.pk,
        "domain": resource.domain,
        "department": resource.provider_id,
        "now": connection.ops.adapt_datetimefield_value(timezone.now()),
    }
    name_sql = _json_text("nf") if mapping.point_name_field else "''"
    source = (
        f"SELECT {_json_text('pf')} AS ext, COALESCE({name_sql}, '') AS name, "  # noqa: S608 - only table names and fixed SQL are interpolated
        "r.district_code, r.latitude, r.longitude, r.observed_at "
        f"FROM {Record._meta.db_table} r WHERE {BATCH_RECORDS}"
    )
    # New points take their ids in an order that says nothing about their external ids
    # (a caller who reads the ids masked sees points in id order): a keyed hash of the
    # id, the same for every sync, so concurrent syncs still lock points in one order
    # (no deadlocks). SQLite serialises writers: any order will do.
    if connection.vendor == "postgresql":
        params["salt"] = _point_order_salt()
        # One row per point (its newest record).
        newest = (
            f"SELECT DISTINCT ON (ext) * FROM ({source}) s WHERE ext IS NOT NULL AND ext <> '' "  # noqa: S608 - only table names and fixed SQL are interpolated
            "ORDER BY ext, observed_at DESC NULLS LAST"
        )
        order = "ORDER BY md5(%(salt)s || ext)"
    else:
        # SQLite returns the bare columns of the row holding max(observed_at).
        newest = (
            "SELECT ext, name, district_code, latitude, longitude, max(observed_at) AS observed_at "  # noqa: S608 - only table names and fixed SQL are interpolated
            f"FROM ({source}) s WHERE ext IS NOT NULL AND ext <> '' GROUP BY ext"
        )
        order = "ORDER BY random()"
    newer = "(p.last_observed_at IS NULL OR EXCLUDED.last_observed_at >= p.last_observed_at)"
    sql = (
        f"INSERT INTO {point} AS p (resource_id, external_id, name, domain, department_id, "  # noqa: S608 - only table names and fixed SQL are interpolated
        "district_code, latitude, longitude, last_observed_at, created_at, updated_at) "
        "SELECT %(resource)s, ext, name, %(domain)s, %(department)s, COALESCE(district_code, ''), "
        f"latitude, longitude, observed_at, %(now)s, %(now)s FROM ({newest}) n WHERE true {order} "
        "ON CONFLICT (resource_id, external_id) DO UPDATE SET "
        "name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE p.name END, "
        f"district_code = CASE WHEN {newer} AND EXCLUDED.district_code <> '' "
        "THEN EXCLUDED.district_code ELSE p.district_code END, "
        f"latitude = CASE WHEN {newer} AND EXCLUDED.latitude IS NOT NULL "
        "THEN EXCLUDED.latitude ELSE p.latitude END, "
        f"longitude = CASE WHEN {newer} AND EXCLUDED.longitude IS NOT NULL "
        "THEN EXCLUDED.longitude ELSE p.longitude END, "
        f"last_observed_at = CASE WHEN {newer} THEN EXCLUDED.last_observed_at "
        "ELSE p.last_observed_at END, "
        "updated_at = EXCLUDED.updated_at "
        "RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def upsert_readings(*, batch: UploadBatch, mapping: ResourceMapping) -> int:
    """Upsert one reading per (record, metric) of the batch; returns rows written."""
    units = dict(
        FieldSpec.objects.filter(resource_id=batch.resource_id).values_list("name", "unit")
    )
    total = 0
    # The source identity holds the time (the readings are partitioned by it): a record
    # whose key does not hold its time field may move in time, and its old reading goes.
    resource = batch.resource
    if resource.time_field not in resource.key_fields:
        for metric in mapping.metrics:
            _drop_moved_readings(batch=batch, metric=metric)
    if connection.vendor == "postgresql":
        # A batch is usually loaded moments before its sync, before autovacuum has
        # analysed it: the planner then expects one record and picks a nested loop over
        # the points (seconds per 10k rows). A hash join is right for every batch size.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = off")
    for metric in mapping.metrics:
        params = {
            "pf": _key(mapping.point_field),
            "mf": _key(metric),
            "metric": metric,
            "unit": units.get(metric, ""),
            "batch": batch.pk,
            "resource": batch.resource_id,
        }
        value = _json_number("mf")
        sql = (
            f"INSERT INTO {Reading._meta.db_table} AS x (resource_id, record_key, metric, "  # noqa: S608 - only table names and fixed SQL are interpolated
            "point_id, value, unit, observed_at, batch_id) "
            f"SELECT %(resource)s, r.key, %(metric)s, p.id, {value}, %(unit)s, r.observed_at, "
            f"r.batch_id FROM {Record._meta.db_table} r "
            f"JOIN {MonitoringPoint._meta.db_table} p ON p.resource_id = %(resource)s "
            f"AND p.external_id = {_json_text('pf')} "
            f"WHERE {BATCH_RECORDS} AND r.observed_at IS NOT NULL AND {value} IS NOT NULL "
            "ON CONFLICT (resource_id, record_key, metric, observed_at) DO UPDATE SET "
            "point_id = EXCLUDED.point_id, value = EXCLUDED.value, unit = EXCLUDED.unit, "
            "batch_id = EXCLUDED.batch_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            total += cursor.rowcount
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_nestloop = on")
    return total


def _drop_moved_readings(*, batch: UploadBatch, metric: str) -> None:
    """Delete the readings of the batch's records that now have another time and a value
    for the metric (the upsert then writes the reading at the new time). Driven by the
    batch's records through the source-identity index (a nested loop, on purpose)."""
    reading = Reading._meta.db_table
    params = {
        "mf": _key(metric),
        "metric": metric,
        "batch": batch.pk,
        "resource": batch.resource_id,
    }
    sql = (
        f"DELETE FROM {reading} WHERE (id, observed_at) IN (SELECT x.id, x.observed_at "  # noqa: S608 - only table names and fixed SQL are interpolated
        f"FROM {Record._meta.db_table} r JOIN {reading} x ON x.resource_id = %(resource)s "
        "AND x.record_key = r.key AND x.metric = %(metric)s "
        f"WHERE {BATCH_RECORDS} AND r.observed_at IS NOT NULL "
        f"AND x.observed_at <> r.observed_at AND {_json_number('mf')} IS NOT NULL)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _event_level(raw: object) -> int:
    text = str(raw or "").strip()
    for prefix in ("IV", "III", "II", "I"):
        if text.upper().startswith(prefix):
            return EVENT_LEVELS[prefix]
    return EVENT_LEVELS.get(text[:1], 0)


def _as_datetime(raw: object):
    if not raw:
        return None
    value = parse_datetime(str(raw))
    if value is not None and timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def upsert_events(*, batch: UploadBatch, mapping: ResourceMapping) -> tuple[int, set[str]]:
    """Upsert one event per record of the batch; returns (count, districts touched)."""
    rows = Record.objects.filter(batch=batch, observed_at__isnull=False).values_list(
        "key", "data", "observed_at", "district_code", "latitude", "longitude"
    )
    events = [
        Event(
            resource_id=batch.resource_id,
            record_key=key,
            event_type=str(data.get(mapping.event_type_field) or "")[:64],
            level=_event_level(data.get(mapping.event_level_field)),
            district_code=district or "",
            latitude=lat,
            longitude=lon,
            occurred_at=observed_at,
            ended_at=_as_datetime(data.get(mapping.event_end_field)),
            batch=batch,
        )
        for key, data, observed_at, district, lat, lon in rows.iterator(chunk_size=2000)
    ]
    Event.objects.bulk_create(
        events,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["resource", "record_key"],
        update_fields=[
            "event_type",
            "level",
            "district_code",
            "latitude",
            "longitude",
            "occurred_at",
            "ended_at",
            "batch",
        ],
    )
    return len(events), {e.district_code for e in events}


def _begin(batch_id: int) -> SyncRun:
    """Commit the "running" marker before the sync's own transaction."""
    with transaction.atomic():
        _relaxed_commit()
        run, _ = SyncRun.objects.select_for_update().get_or_create(
            batch_id=batch_id, defaults={"state": SyncState.RUNNING}
        )
        run.state = SyncState.RUNNING
        run.attempts += 1
        run.started_at = timezone.now()
        run.finished_at = None
        run.save()
    return run


def sync_batch(*, batch_id: int) -> dict[str, int]:
    """Sync one loaded batch and evaluate rules for what it touched; idempotent.

    A batch id that does not exist (deleted since) is bad input: logged, not retried.
    """
    if not UploadBatch.objects.filter(pk=batch_id).exists():
        logger.warning("sync of batch %s skipped: no such batch", batch_id)
        return {}
    run = _begin(batch_id)
    with transaction.atomic():
        _relaxed_commit()
        counts = _sync(batch_id)
        # Marked done in the same transaction: "done" and the data commit together.
        SyncRun.objects.filter(pk=run.pk).update(
            state=SyncState.DONE, counts=counts, finished_at=timezone.now(), error=""
        )
    return counts


def _relaxed_commit() -> None:
    """Skip the WAL flush wait at commit (PostgreSQL): safe because a sync is derived.

    A crash may lose the last few hundred milliseconds of committed syncs, data and
    "done" marker together (a transaction stays atomic); the SyncRun is then still
    "running" and the sweeper re-runs it from the records, which are durable.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _sync(batch_id: int) -> dict[str, int]:
    batch = UploadBatch.objects.select_related("resource").get(pk=batch_id)
    mapping = ResourceMapping.objects.filter(resource_id=batch.resource_id, is_active=True).first()
    counts = {"points": 0, "readings": 0, "events": 0}
    if mapping is None:
        return counts
    outcomes = []
    if mapping.entity == EntityKind.READING:
        point_ids = upsert_points(batch=batch, mapping=mapping)
        counts["points"] = len(point_ids)
        counts["readings"] = upsert_readings(batch=batch, mapping=mapping)
        outcomes = evaluate_points(point_ids)
        districts = set(
            MonitoringPoint.objects.filter(pk__in=point_ids)
            .values_list("district_code", flat=True)
            .distinct()
        )
    else:
        counts["events"], districts = upsert_events(batch=batch, mapping=mapping)
    outcomes += evaluate_compound(resource_ids=[batch.resource_id], district_codes=districts)
    counts.update(reconcile(outcomes=outcomes))
    logger.info("synced batch %s: %s", batch_id, counts)
    return counts


def _point_order_salt() -> str:
    """The key of the points' insertion order (from SECRET_KEY: not guessable by callers)."""
    return hashlib.sha256(f"{settings.SECRET_KEY}:point-order".encode()).hexdigest()[:32]
