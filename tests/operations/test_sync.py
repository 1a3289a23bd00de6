"""Sync: idempotent by source identity, set-based, evaluates touched points only."""

from __future__ import annotations

import pytest

from hub.records.models import Record
from operations.models import (
    Alert,
    AlertTransition,
    Event,
    MonitoringPoint,
    Reading,
    Rule,
    SyncRun,
    WorkOrder,
)
from tests.operations.conftest import at, gas, warning

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "points": list(
            MonitoringPoint.objects.order_by("id").values_list(
                "id", "external_id", "district_code", "latitude", "longitude", "last_observed_at"
            )
        ),
        "readings": list(
            Reading.objects.order_by("id").values_list(
                "id", "record_key", "metric", "point_id", "value", "observed_at"
            )
        ),
        "events": list(Event.objects.order_by("id").values_list("id", "record_key", "level")),
        "alerts": list(Alert.objects.order_by("id").values_list("id", "level", "state")),
        "transitions": AlertTransition.objects.count(),
        "work_orders": list(WorkOrder.objects.order_by("id").values_list("id", "code", "state")),
    }


def test_sync_creates_points_and_one_reading_per_metric(ops):
    rows = [gas("GP000001", 0, 0.3), gas("GP000001", 5, 0.31), gas("GP000002", 0, 0.29)]
    rows[0]["temperature"] = 20.5
    batch, counts = ops.load("gas-pipeline-pressure", rows)
    assert counts["points"] == 2 and counts["readings"] == 4  # 3 pressures + 1 temperature
    point = MonitoringPoint.objects.get(external_id="GP000001")
    assert point.domain == "gas" and point.department.code == "housing"
    assert point.last_observed_at == at(5) and point.district_code == "310104"
    reading = Reading.objects.get(metric="temperature")
    assert (reading.value, reading.unit, reading.point) == (20.5, "°C", point)
    assert Reading.objects.get(metric="pressure", observed_at=at(5)).unit == "MPa"
    assert SyncRun.objects.get(batch=batch).state == "done"


def test_sync_twice_leaves_the_same_state(ops):
    Rule.objects.create(
        name="p",
        kind="threshold",
        hazard="超压",
        metric="pressure",
        blue=0.4,
        resource=ops.resources["gas-pipeline-pressure"],
    )
    batch, _ = ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.5), gas("GP000002", 0, 0.1)])
    first = snapshot()
    from operations.services.sync import sync_batch

    counts = sync_batch(batch_id=batch.pk)
    assert snapshot() == first
    assert counts["opened"] == 0 and counts["readings"] == 2
    assert SyncRun.objects.get(batch=batch).attempts == 2
    assert len(first["alerts"]) == 1 and len(first["work_orders"]) == 1


def test_resync_of_an_updated_record_updates_its_reading(ops):
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)])
    # The same record (same key) corrected in a later batch: one reading, new value.
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.35), gas("GP000001", 5, 0.2)])
    assert Reading.objects.filter(metric="pressure").count() == 2
    assert Reading.objects.get(observed_at=at(0)).value == 0.35


def test_non_numeric_values_are_skipped_not_fatal(ops):
    rows = [gas("GP000001", 0, 0.3), {**gas("GP000001", 5, 0.3), "pressure": "暂无"}]
    _, counts = ops.load("gas-pipeline-pressure", rows)
    assert counts["readings"] == 1
    assert Record.objects.count() == 2


def test_events_are_upserted_by_record_key(ops):
    ops.load("weather-warnings", [warning("W1", 0, level="黄色")])
    ops.load("weather-warnings", [warning("W1", 0, level="红色", lifted_at=at(60))])
    event = Event.objects.get()
    assert (event.event_type, event.level, event.ended_at) == ("暴雨", 4, at(60))


def test_resource_without_mapping_is_a_no_op(ops):
    from operations.models import ResourceMapping

    ResourceMapping.objects.filter(resource__code="gas-pipeline-pressure").delete()
    _, counts = ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)])
    assert counts == {"points": 0, "readings": 0, "events": 0}
    assert MonitoringPoint.objects.count() == 0


def test_batch_loaded_signal_enqueues_the_sync(ops, django_capture_on_commit_callbacks):
    from django.db import transaction

    from hub.records.models import UploadBatch
    from hub.records.signals import batch_loaded

    batch, _ = ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)], sync=False)
    assert not SyncRun.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        transaction.on_commit(lambda: batch_loaded.send(sender=UploadBatch, batch=batch))
    assert SyncRun.objects.get(batch=batch).state == "done"
    assert Reading.objects.count() == 1


def test_mapping_validation(ops):
    from django.core.exceptions import ValidationError

    from operations.services.mappings import upsert_mapping

    with pytest.raises(ValidationError):
        upsert_mapping(resource=ops.resources["road-ponding"], entity="reading", metrics=["depth"])
    with pytest.raises(ValidationError):
        upsert_mapping(
            resource=ops.resources["road-ponding"],
            entity="reading",
            point_field="point_id",
            metrics=["no_such_field"],
        )
