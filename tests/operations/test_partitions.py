"""Readings by month: partitions (PostgreSQL), retention per resource, hourly aggregates,
and the sync's upserts on the time-bearing source identity (both backends)."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from django.apps import apps
from django.db import connection

from operations.models import Reading, ReadingHourly, ResourceMapping
from operations.services import partitions
from permissions.models import AuditEvent
from tests.operations.conftest import at, gas

pytestmark = pytest.mark.django_db

GAS = "gas-pipeline-pressure"
UTC = dt.UTC


def where(reading_ids) -> dict[int, str]:
    """The partition holding each reading (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, tableoid::regclass::text FROM operations_reading WHERE id = ANY(%s)",
            [list(reading_ids)],
        )
        return dict(cursor.fetchall())


# --- PostgreSQL: partitions -----------------------------------------------------------


@pytest.mark.postgres
def test_migration_partitions_the_readings_by_month_with_a_default():
    assert partitions.is_partitioned()
    months = partitions.month_partitions()
    this_month = partitions.month_start(dt.datetime.now(UTC))
    assert this_month in months and partitions.add_months(this_month, 3) in months
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'operations_reading'::regclass AND c.relname = %s",
            [partitions.DEFAULT_PARTITION],
        )
        assert cursor.fetchone()[0] == 1


@pytest.mark.postgres
def test_rows_are_routed_to_their_month_and_new_partitions_take_them_from_default(ops):
    now = dt.datetime.now(UTC).replace(microsecond=0)
    ops.load(GAS, [{**gas("GP000001", 0, 0.3), "observed_at": now}])
    ops.load(GAS, [gas("GP000001", 0, 0.31), gas("GP000001", 60, 0.32)])  # July 2025
    by_time = dict(Reading.objects.values_list("observed_at", "id"))
    current = partitions.partition_name(partitions.month_start(now))
    assert where([by_time[now]]) == {by_time[now]: current}
    july = [by_time[at(0)], by_time[at(60)]]
    assert set(where(july).values()) == {partitions.DEFAULT_PARTITION}

    result = partitions.ensure_partitions(now=now, ahead=1)

    assert result.created == ["operations_reading_p202507"] and result.moved == 2
    assert set(where(july).values()) == {"operations_reading_p202507"}
    assert Reading.objects.filter(observed_at__lt=now).count() == 2  # moved, not lost
    event = AuditEvent.objects.filter(action="reading_partitions").latest("sequence")
    assert event.detail["created"] == ["operations_reading_p202507"] and event.rows == 2
    assert partitions.ensure_partitions(now=now, ahead=1).created == []  # idempotent
    # The sync still upserts into the attached partition: same key, new value.
    ops.load(GAS, [gas("GP000001", 60, 0.5)])
    assert Reading.objects.get(pk=july[1]).value == 0.5
    assert Reading.objects.filter(observed_at=at(60)).count() == 1


@pytest.mark.postgres
def test_a_backfill_creates_every_month_since(db):
    now = dt.datetime(2020, 3, 10, tzinfo=UTC)
    result = partitions.ensure_partitions(
        now=now, ahead=1, since=dt.datetime(2019, 12, 5, tzinfo=UTC)
    )
    assert result.created == [
        "operations_reading_p201912",
        "operations_reading_p202001",
        "operations_reading_p202002",
        "operations_reading_p202003",
        "operations_reading_p202004",
    ]


@pytest.mark.postgres
def test_retention_aggregates_then_drops_an_expired_month(ops):
    ops.load(GAS, [gas("GP000001", m, 0.3 + m / 1000) for m in (0, 10, 20, 70)])
    partitions.ensure_partitions(now=at(0), ahead=0)
    ResourceMapping.objects.update(raw_retention_months=2)

    result = partitions.apply_retention(now=dt.datetime(2025, 10, 15, tzinfo=UTC))

    assert result.dropped == ["operations_reading_p202507"] and result.dropped_rows == 4
    assert "operations_reading_p202507" not in partitions.month_partitions().values()
    assert not Reading.objects.exists()
    hours = {
        h.hour: (h.count, round(h.total, 3), h.minimum, h.maximum, h.unit)
        for h in ReadingHourly.objects.filter(metric="pressure")
    }
    assert hours == {
        dt.datetime(2025, 7, 1, 0, tzinfo=UTC): (3, 0.93, 0.3, 0.32, "MPa"),
        dt.datetime(2025, 7, 1, 1, tzinfo=UTC): (1, 0.37, 0.37, 0.37, "MPa"),
    }
    event = AuditEvent.objects.filter(action="reading_retention").latest("sequence")
    assert event.detail["dropped"] == ["operations_reading_p202507"]


@pytest.mark.postgres
def test_a_shorter_retention_deletes_rows_and_keeps_the_shared_partition(ops):
    ops.load(GAS, [gas("GP000001", 0, 0.3)])
    ops.load("road-ponding", [{**gas("RP1", 0, 0), "depth": 12.0, "road_name": "x"}])
    partitions.ensure_partitions(now=at(0), ahead=0)
    ResourceMapping.objects.filter(resource__code=GAS).update(raw_retention_months=1)

    result = partitions.apply_retention(now=dt.datetime(2025, 10, 15, tzinfo=UTC))

    assert result.dropped == [] and result.deleted == 1
    assert list(Reading.objects.values_list("metric", flat=True)) == ["depth"]
    assert "operations_reading_p202507" in partitions.month_partitions().values()
    assert ReadingHourly.objects.get().metric == "pressure"


# --- both backends ---------------------------------------------------------------------


def test_retention_adds_expired_readings_into_hours_then_deletes_them(ops):
    ops.load(GAS, [gas("GP000001", m, 0.3) for m in (0, 30)])
    ops.load(GAS, [{**gas("GP000001", 0, 0.4), "observed_at": dt.datetime(2025, 9, 3, tzinfo=UTC)}])
    ResourceMapping.objects.update(raw_retention_months=2, hourly_retention_months=3)
    now = dt.datetime(2025, 10, 15, tzinfo=UTC)  # raw cutoff 1 Aug, hourly cutoff 1 Jul

    result = partitions.apply_retention(now=now)

    assert result.aggregated == 2 and result.hourly_deleted == 0
    assert list(Reading.objects.values_list("value", flat=True)) == [0.4]
    [hour] = ReadingHourly.objects.all()
    assert (hour.count, hour.mean, hour.point.external_id) == (2, 0.3, "GP000001")
    assert partitions.apply_retention(now=now).aggregated == 0  # nothing left to expire
    # A month later the hour itself expires.
    later = partitions.apply_retention(now=dt.datetime(2025, 11, 2, tzinfo=UTC))
    assert later.hourly_deleted == 1 and not ReadingHourly.objects.exists()


def test_retention_uses_the_default_for_resources_without_their_own(ops, settings):
    settings.OPS_RAW_RETENTION_MONTHS = 1
    ops.load(GAS, [gas("GP000001", 0, 0.3)])
    result = partitions.apply_retention(now=dt.datetime(2025, 9, 1, tzinfo=UTC))
    assert result.deleted + result.dropped_rows == 1 and not Reading.objects.exists()


def test_partitions_are_a_no_op_without_partitioned_readings(ops):
    if connection.vendor == "postgresql":
        pytest.skip("SQLite keeps one table")
    assert partitions.ensure_partitions() == partitions.PartitionResult()
    assert not partitions.is_partitioned()


def test_resyncing_the_same_records_updates_readings_in_place(ops):
    ops.load(GAS, [gas("GP000001", 0, 0.3), gas("GP000002", 0, 0.2)])
    before = dict(Reading.objects.values_list("record_key", "id"))
    ops.load(GAS, [gas("GP000001", 0, 0.35)])
    after = dict(Reading.objects.values_list("record_key", "id"))
    assert after == before
    assert Reading.objects.get(point__external_id="GP000001").value == 0.35


def test_a_record_moved_in_time_moves_its_reading(ops):
    resource = ops.resources[GAS]
    resource.key_fields = ["point_id"]  # one record per point: its latest value
    resource.save(update_fields=["key_fields"])
    ops.load(GAS, [gas("GP000001", 0, 0.3)])
    ops.load(GAS, [gas("GP000001", 90, 0.4)])
    assert list(Reading.objects.values_list("observed_at", "value")) == [(at(90), 0.4)]


def test_old_key_spellings_are_merged_into_the_canonical_one(ops):
    ops.load(GAS, [gas("GP000001", 0, 0.3)])
    reading = Reading.objects.get()
    canonical = reading.record_key
    assert canonical.endswith("Z")
    old = Reading.objects.create(
        resource_id=reading.resource_id,
        record_key=canonical.replace("Z", "+00:00"),
        metric="temperature",
        point_id=reading.point_id,
        value=20.0,
        observed_at=reading.observed_at,
    )
    stale = Reading.objects.create(
        resource_id=reading.resource_id,
        record_key=canonical.replace("Z", "+00:00"),
        metric="pressure",
        point_id=reading.point_id,
        value=0.1,
        observed_at=reading.observed_at,
    )
    migration = importlib.import_module("operations.migrations.0005_reading_partitions")
    migration.canonical_source_keys(apps, None)
    rows = dict(Reading.objects.values_list("metric", "record_key"))
    assert rows == {"pressure": canonical, "temperature": canonical}
    # The newest row of a pair wins (the later sync).
    assert Reading.objects.get(metric="pressure").pk == stale.pk
    assert Reading.objects.get(metric="temperature").pk == old.pk
