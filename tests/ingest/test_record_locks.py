"""Records have no database foreign keys: deleting a resource or batch while a load is
writing its records must wait for the load, and leave no orphan (PostgreSQL only)."""

from __future__ import annotations

import numpy as np
import pytest
from django.db import connection

from hub.records import recordstore
from hub.records.models import UploadBatch
from tests.ingest.helpers import RESOURCE, gas_frame
from tests.locking import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _rows(resource, start, count):
    frame = gas_frame(start, count)
    return recordstore.prepare_rows(
        resource=resource, frame=frame, source_rows=np.arange(2, count + 2)
    )


def _record_count(**where) -> int:
    column, value = next(iter(where.items()))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM hub_record WHERE {column} = %s", [value])
        return cursor.fetchone()[0]


def test_resource_deleted_during_a_load_leaves_no_orphans(catalog):
    resource = catalog["resources"][RESOURCE]
    recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, 0, 10))
    rows = _rows(resource, 10, 30)

    errors = race(
        lambda: recordstore.upsert(resource=resource, batch=None, frame_rows=rows),
        lambda: type(resource).objects.get(pk=resource.pk).delete(),
    )
    assert errors == []
    assert _record_count(resource_id=resource.pk) == 0


def test_batch_deleted_during_a_load_leaves_no_dangling_lineage(catalog):
    resource = catalog["resources"][RESOURCE]
    batch = UploadBatch.objects.create(
        resource=resource, department=resource.provider, source="csv", sha256="0" * 64
    )
    rows = _rows(resource, 0, 30)

    def load():
        # As the pipeline does: the batch row is locked for the whole load.
        UploadBatch.objects.select_for_update().get(pk=batch.pk)
        recordstore.upsert(resource=resource, batch=batch, frame_rows=rows)

    errors = race(load, lambda: UploadBatch.objects.get(pk=batch.pk).delete())
    assert errors == []
    assert not UploadBatch.objects.filter(pk=batch.pk).exists()
    assert _record_count(resource_id=resource.pk) == 30
    assert _record_count(batch_id=batch.pk) == 0
