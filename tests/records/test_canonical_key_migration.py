"""records 0003: keys re-spelt canonically, duplicates merged into the newest record with
the merged ones' lineage kept (RecordMerge)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("records", "0002_record_merge")]
AFTER = [("records", "0003_canonical_keys")]


def migrate_to(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state(targets).apps


@pytest.fixture
def back_to_latest():
    """Leave the database at the latest migrations for the tests that follow."""
    yield
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_duplicates_spelt_differently_merge_into_one_record(catalog, back_to_latest):
    gas = catalog["resources"]["gas-pipeline-pressure"]
    old = migrate_to(BEFORE)
    record = old.get_model("records", "Record")
    batch = old.get_model("records", "UploadBatch")
    fingerprints = old.get_model("records", "RowFingerprints")
    demo = batch.objects.create(
        resource_id=gas.pk, department_id=gas.provider_id, source="api", sha256="a" * 64
    )
    upload = batch.objects.create(
        resource_id=gas.pk, department_id=gas.provider_id, source="csv", sha256="b" * 64
    )
    early = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)

    def add(key, batch_id, pressure, updated, row=1):
        obj = record.objects.create(
            resource_id=gas.pk,
            key=key,
            data={"pressure": pressure},
            content_hash="h",
            batch_id=batch_id,
            source_row=row,
        )
        record.objects.filter(pk=obj.pk).update(
            created_at=early + dt.timedelta(hours=updated),
            updated_at=early + dt.timedelta(hours=updated),
        )

    add("GP1|2025-07-01T06:30:00+00:00", demo.pk, 0.3, 1, row=4)  # demo spelling
    add("GP1|2025-07-01T06:30:00Z", upload.pk, 0.4, 2, row=9)  # file spelling, newer
    add("GP1 |2025-07-01T14:30:00+08:00", demo.pk, 0.2, 0, row=5)  # blank, local time
    add("GP2|2025-07-01T14:30:00+08:00", demo.pk, 0.5, 3)  # alone, only re-spelt
    add("GP3|2025-07-01T06:30:00Z", upload.pk, 0.6, 3)  # already canonical
    # The newest of a group is the one spelt the old way: it survives with the new key.
    add("GP4|2025-07-01T06:30:00Z", upload.pk, 0.7, 1)
    add("GP4|2025-07-01T06:30:00.000+00:00", demo.pk, 0.8, 5)
    fingerprints.objects.create(resource_id=gas.pk, batch=upload, context="c", rows=1, data=b"")

    migrate_to(AFTER)

    from hub.records.models import Record, RecordMerge, RowFingerprints

    stored = {r.key: r for r in Record.objects.filter(resource=gas)}
    assert sorted(stored) == [
        "GP1|2025-07-01T06:30:00Z",
        "GP2|2025-07-01T06:30:00Z",
        "GP3|2025-07-01T06:30:00Z",
        "GP4|2025-07-01T06:30:00Z",
    ]
    one = stored["GP1|2025-07-01T06:30:00Z"]
    assert (one.data, one.batch_id, one.source_row) == ({"pressure": 0.4}, upload.pk, 9)
    assert one.created_at == early  # the group's first creation
    assert stored["GP4|2025-07-01T06:30:00Z"].data == {"pressure": 0.8}
    assert stored["GP4|2025-07-01T06:30:00Z"].batch_id == demo.pk
    merges = {
        m.merged_key: (m.key, m.batch_id, m.source_row, m.data)
        for m in RecordMerge.objects.filter(resource=gas)
    }
    assert merges == {
        "GP1|2025-07-01T06:30:00+00:00": (
            "GP1|2025-07-01T06:30:00Z",
            demo.pk,
            4,
            {"pressure": 0.3},
        ),
        "GP1 |2025-07-01T14:30:00+08:00": (
            "GP1|2025-07-01T06:30:00Z",
            demo.pk,
            5,
            {"pressure": 0.2},
        ),
        "GP4|2025-07-01T06:30:00Z": ("GP4|2025-07-01T06:30:00Z", upload.pk, 1, {"pressure": 0.7}),
    }
    assert not RowFingerprints.objects.exists()
