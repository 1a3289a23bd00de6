"""Readings have no database foreign keys: deleting a point while a sync writes its
readings must wait for the sync and take those readings too (PostgreSQL only)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models.signals import pre_delete

from operations.models import MonitoringPoint, Reading
from operations.receivers import lock_point_for_delete
from operations.services.sync import sync_batch
from tests.locking import race
from tests.operations.conftest import gas

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _orphan_readings() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM operations_reading r "
            "LEFT JOIN operations_monitoringpoint p ON p.id = r.point_id WHERE p.id IS NULL"
        )
        return cursor.fetchone()[0]


def _delete_point_during_sync(ops) -> list[BaseException]:
    ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)])
    point = MonitoringPoint.objects.get(external_id="GP000001")
    rows = [gas("GP000001", minute, 0.3) for minute in range(1, 31)]
    second, _ = ops.load("gas-pipeline-pressure", rows, sync=False)
    return race(
        lambda: sync_batch(batch_id=second.pk),
        lambda: MonitoringPoint.objects.get(pk=point.pk).delete(),
    )


def test_point_deleted_during_a_sync_takes_the_syncs_readings_with_it(ops):
    assert _delete_point_during_sync(ops) == []
    assert not MonitoringPoint.objects.filter(external_id="GP000001").exists()
    assert Reading.objects.count() == 0
    assert _orphan_readings() == 0


def test_without_the_lock_the_same_race_leaves_orphans(ops):
    """The race above is real: without the receiver, the cascade misses 30 readings."""
    key = {"sender": MonitoringPoint, "dispatch_uid": "operations.lock_point"}
    assert pre_delete.disconnect(**key)
    try:
        assert _delete_point_during_sync(ops) == []
    finally:
        pre_delete.connect(lock_point_for_delete, **key)
    assert not MonitoringPoint.objects.filter(external_id="GP000001").exists()
    assert _orphan_readings() == 30
