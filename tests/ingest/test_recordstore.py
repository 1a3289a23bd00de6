"""The record store on its own: keys, JSON, hashes, and insert/update/unchanged counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hub import recordstore
from hub.models import Record
from tests.ingest.helpers import RESOURCE, gas_frame


def _rows(resource, frame):
    return recordstore.prepare_rows(
        resource=resource, frame=frame, source_rows=np.arange(2, len(frame) + 2)
    )


def test_prepare_rows_builds_key_json_and_lineage(catalog):
    resource = catalog["resources"][RESOURCE]
    rows = _rows(resource, gas_frame(123, 2))

    first = rows.row(0, named=True)
    assert first["key"] == "GP000123|2025-07-01T06:30:00Z"
    data = json.loads(first["data"])
    assert data == {
        "point_id": "GP000123",
        "observed_at": "2025-07-01T06:30:00Z",
        "district": "310101",
        "pressure": 0.35,
        "temperature": 21.5,
        "pressure_class": "中压A",
        "latitude": 31.23,
        "longitude": 121.47,
    }
    assert list(data) == [f.name for f in resource.fields.order_by("order")]
    assert first["observed_at"] == "2025-07-01T06:30:00Z"
    assert first["district_code"] == "310101"
    assert (first["latitude"], first["longitude"]) == (31.23, 121.47)
    assert first["source_row"] == 2
    assert len(first["content_hash"]) == 32
    assert json.loads(rows.row(1, named=True)["data"])["temperature"] is None


def test_content_hash_is_stable_and_sensitive():
    import polars as pl

    a = recordstore.content_hashes(pl.Series(['{"a":1}', '{"a":2}', '{"a":1}']))
    again = recordstore.content_hashes(pl.Series(['{"a":1}']))
    assert a[0] == a[2] == again[0]
    assert a[0] != a[1]


def _upsert_counts(resource, frame, batch=None):
    return recordstore.upsert(resource=resource, batch=batch, frame_rows=_rows(resource, frame))


def _check_counts(resource):
    assert _upsert_counts(resource, gas_frame(0, 50)) == recordstore.UpsertCounts(50, 0, 0)
    assert Record.objects.filter(resource=resource).count() == 50
    assert _upsert_counts(resource, gas_frame(0, 50)) == recordstore.UpsertCounts(0, 0, 50)

    frame = gas_frame(0, 60)
    frame.loc[7, "pressure"] = 0.9  # one changed row, ten new ones
    assert _upsert_counts(resource, frame) == recordstore.UpsertCounts(10, 1, 49)
    record = Record.objects.get(resource=resource, key="GP000007|2025-07-01T06:30:00Z")
    assert record.data["pressure"] == 0.9
    assert record.observed_at.isoformat() == "2025-07-01T06:30:00+00:00"
    assert record.district_code == "310101"
    assert record.source_row == 9
    assert Record.objects.filter(resource=resource).count() == 60


def test_upsert_counts_on_default_database(catalog):
    _check_counts(catalog["resources"][RESOURCE])


@pytest.mark.postgres
def test_upsert_counts_on_postgres_with_copy(catalog, django_assert_max_num_queries):
    from django.db import connection

    assert connection.vendor == "postgresql"
    resource = catalog["resources"][RESOURCE]
    _check_counts(resource)
    with django_assert_max_num_queries(6):
        # SAVEPOINT, CREATE TEMP TABLE, TRUNCATE, COPY, INSERT … ON CONFLICT, RELEASE.
        counts = _upsert_counts(resource, gas_frame(1000, 5000))
    assert counts == recordstore.UpsertCounts(5000, 0, 0)
    stored = Record.objects.get(resource=resource, key="GP000001|2025-07-01T06:30:00Z")
    assert stored.data["temperature"] == 21.5 and stored.latitude == 31.23


def test_empty_chunk_writes_nothing(catalog):
    resource = catalog["resources"][RESOURCE]
    assert _upsert_counts(resource, gas_frame(0, 0)) == recordstore.UpsertCounts()
    assert not Record.objects.exists()
