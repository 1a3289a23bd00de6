"""The record store on its own: keys, JSON, hashes, and insert/update/unchanged counts."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hub.records import recordstore
from hub.records.models import Record
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


def _sql_of(callable_):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as context:
        result = callable_()
    # psycopg's COPY bypasses Django's cursor wrapper, so COPY statements are not listed.
    return result, [query["sql"] for query in context.captured_queries]


@pytest.mark.postgres
def test_upsert_counts_on_postgres_with_copy(catalog):
    from django.db import connection

    assert connection.vendor == "postgresql"
    resource = catalog["resources"][RESOURCE]
    _check_counts(resource)
    rows = _rows(resource, gas_frame(1000, 5000))
    counts, sql = _sql_of(
        lambda: recordstore.upsert(resource=resource, batch=None, frame_rows=rows)
    )
    assert counts == recordstore.UpsertCounts(5000, 0, 0)
    # New keys go straight into hub_record: no staging table, no ON CONFLICT.
    assert not [s for s in sql if "hub_record_stage" in s or "ON CONFLICT" in s]
    assert [s.split()[0] for s in sql] == [
        "SAVEPOINT",
        "SELECT",  # pg_advisory_xact_lock
        "SELECT",  # the resource row FOR KEY SHARE, now(), the table's size
        "SELECT",  # any record yet?
        "SELECT",  # the probe: stored hashes of the chunk's keys
        "DELETE",  # the resource's source-row fingerprints, once per load that writes
        "RELEASE",
    ]  # (no EXPLAIN: the table is small; test_probe_plan_check covers big ones)
    stored = Record.objects.get(resource=resource, key="GP001001|2025-07-01T06:30:00Z")
    assert stored.data["temperature"] == 21.5 and stored.latitude == 31.23
    assert stored.district_code == "310101" and stored.source_row == 2 + 1
    assert stored.created_at is not None and stored.updated_at == stored.created_at


@pytest.mark.postgres
def test_load_of_empty_resource_copies_without_probing(catalog):
    resource = catalog["resources"][RESOURCE]
    state = recordstore.LoadState()
    first, second = _rows(resource, gas_frame(0, 30)), _rows(resource, gas_frame(30, 30))

    def load():
        return [
            recordstore.upsert(resource=resource, batch=None, frame_rows=part, state=state)
            for part in (first, second)
        ]

    counts, sql = _sql_of(load)
    assert counts == [recordstore.UpsertCounts(30, 0, 0)] * 2
    assert state.empty is True
    assert not [s for s in sql if "content_hash FROM hub_record" in s]
    assert Record.objects.filter(resource=resource).count() == 60
    assert set(state.timings) >= {"probe", "copy"}


def _row_versions() -> dict[str, str]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT key, ctid::text FROM hub_record")
        return dict(cursor.fetchall())


@pytest.mark.postgres
def test_changed_rows_take_the_upsert_and_unchanged_are_not_written(catalog):
    resource = catalog["resources"][RESOURCE]
    recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, gas_frame(0, 20)))
    before = _row_versions()
    frame = gas_frame(0, 25)
    frame.loc[3, "pressure"] = 0.77
    counts, sql = _sql_of(
        lambda: recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, frame))
    )
    assert counts == recordstore.UpsertCounts(5, 1, 19)
    assert len([s for s in sql if "ON CONFLICT" in s]) == 1
    after = _row_versions()
    changed = "GP000003|2025-07-01T06:30:00Z"
    assert Record.objects.get(key=changed).data["pressure"] == 0.77
    # A written row gets a new tuple (ctid); the 19 unchanged ones were not touched.
    assert sorted(key for key in before if after[key] != before[key]) == [changed]
    assert len(after) == 25


@pytest.mark.postgres
def test_unsafe_probe_plan_falls_back_to_upsert(catalog, monkeypatch):
    from hub.records import recordstore_postgres

    resource = catalog["resources"][RESOURCE]
    recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, gas_frame(0, 20)))
    monkeypatch.setattr(recordstore_postgres, "_probe_is_safe", lambda *args, **kwargs: False)
    frame = gas_frame(0, 30)
    frame.loc[0, "pressure"] = 0.66
    counts, sql = _sql_of(
        lambda: recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, frame))
    )
    assert counts == recordstore.UpsertCounts(10, 1, 19)
    assert not [s for s in sql if s.startswith("SELECT key")]
    assert Record.objects.filter(resource=resource).count() == 30


@pytest.mark.postgres
def test_probe_plan_check_reads_the_plan(catalog):
    from django.db import connection

    from hub.records import recordstore_postgres as pg

    resource = catalog["resources"][RESOURCE]
    big = recordstore.LoadState(small_table=False)
    with connection.cursor() as cursor:
        # The planner would rather seq-scan a table this small: allowed only when small.
        cursor.execute("SET LOCAL enable_seqscan = off")
        assert pg._probe_is_safe(cursor, pg.PROBE_SQL, [resource.pk, ["a", "b"]], big)
        cursor.execute("SET LOCAL enable_seqscan = on")
        unusable = "SELECT key FROM hub_record WHERE content_hash = %s"
        assert not pg._probe_is_safe(cursor, unusable, ["x"], big)
        assert pg._probe_is_safe(cursor, unusable, ["x"], recordstore.LoadState(small_table=True))


def test_empty_chunk_writes_nothing(catalog):
    resource = catalog["resources"][RESOURCE]
    assert _upsert_counts(resource, gas_frame(0, 0)) == recordstore.UpsertCounts()
    assert not Record.objects.exists()


@pytest.mark.postgres
def test_wide_key_range_switches_the_probe_to_key_lookups(catalog):
    resource = catalog["resources"][RESOURCE]
    recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, gas_frame(0, 100)))
    # Two rows whose keys span all 100 stored ones: the bounded range scan (limit 5)
    # overflows, so this chunk and the rest of the load look keys up one by one.
    frame = gas_frame(0, 100).iloc[[0, 99]].reset_index(drop=True)
    frame.loc[1, "pressure"] = 0.55
    state = recordstore.LoadState()
    counts, sql = _sql_of(
        lambda: recordstore.upsert(
            resource=resource, batch=None, frame_rows=_rows(resource, frame), state=state
        )
    )
    assert counts == recordstore.UpsertCounts(0, 1, 1)
    assert state.range_probe is False
    assert [s for s in sql if s.startswith("SELECT key, content_hash")][-1].count("ANY(") == 1
    assert Record.objects.get(key="GP000099|2025-07-01T06:30:00Z").data["pressure"] == 0.55


def test_plan_check_wants_key_in_the_index_condition():
    from hub.records import recordstore_postgres as pg

    def bitmap(cond):
        return {
            "Node Type": "Bitmap Heap Scan",
            "Relation Name": "hub_record",
            "Plans": [
                {"Node Type": "Bitmap Index Scan", "Index Name": pg.KEY_INDEX, "Index Cond": cond}
            ],
        }

    by_key = bitmap("((resource_id = 3) AND ((key)::text = ANY ('{a,b}'::text[])))")
    resource_only = bitmap("(resource_id = 3)")  # key left to a filter: reads the resource
    assert pg._uses_key_index(by_key, True)
    assert not pg._uses_key_index(resource_only, True)
    assert pg._uses_key_index(resource_only, False)  # "any record yet?" needs no key
    other = {**by_key, "Plans": [{**by_key["Plans"][0], "Index Name": "hub_record_batch"}]}
    assert not pg._uses_key_index(other, True)


@pytest.mark.postgres
def test_range_probe_bounds_follow_the_database_collation(catalog):
    """Bounds come from SQL min/max, not from polars' byte order (which differs from
    en_US/ICU collations): a re-upload with mixed-case keys finds every stored key."""
    from django.db import connection

    from hub.records import recordstore_postgres as pg

    resource = catalog["resources"][RESOURCE]
    frame = gas_frame(0, 2)
    frame["point_id"] = ["aa", "Bb"]
    rows = _rows(resource, frame)
    assert recordstore.upsert(resource=resource, batch=None, frame_rows=rows).inserted == 2
    with connection.cursor() as cursor:
        cursor.execute(pg.RANGE_PROBE_SQL, [rows["key"].to_list(), resource.pk, 5])
        assert sorted(key for key, _ in cursor.fetchall()) == sorted(rows["key"].to_list())
    assert recordstore.upsert(resource=resource, batch=None, frame_rows=rows).unchanged == 2


@pytest.mark.postgres
def test_probe_columns_have_a_small_statistics_sample(db):
    """The ANALYZE after a large load samples 300 rows per unit of target (hub 0007)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT attname, attstattarget FROM pg_attribute"
            " WHERE attrelid = 'hub_record'::regclass AND attname IN ('resource_id', 'key')"
            " ORDER BY attname"
        )
        assert cursor.fetchall() == [("key", 25), ("resource_id", 25)]


@pytest.mark.postgres
def test_a_date_typed_time_field_is_stored_as_midnight_utc(catalog):
    """Date fields come from the connectors as "2025-07-01"; the binary COPY reads them
    as PostgreSQL read them in text: midnight in the connection's time zone, UTC."""
    import datetime as dt

    import pandas as pd

    resource = catalog["resources"]["hospital-emergency-capacity"]
    frame = pd.DataFrame(
        {
            "hospital_id": ["H001", "H002"],
            "hospital_name": ["瑞金医院", "华山医院"],
            "report_date": ["2025-07-01", "2025-07-02"],
            "district": ["310101", "310106"],
            "beds_total": [100, 80],
            "beds_free": [10, 8],
            "er_visits": [300, 250],
        }
    )
    counts = recordstore.upsert(resource=resource, batch=None, frame_rows=_rows(resource, frame))
    assert counts.inserted == 2
    stored = dict(Record.objects.filter(resource=resource).values_list("key", "observed_at"))
    assert stored == {
        "H001|2025-07-01": dt.datetime(2025, 7, 1, tzinfo=dt.UTC),
        "H002|2025-07-02": dt.datetime(2025, 7, 2, tzinfo=dt.UTC),
    }


def test_store_deletes_only_its_resources_records_and_forgets_fingerprints(catalog):
    from hub.records.models import RowFingerprints, UploadBatch

    gas = catalog["resources"][RESOURCE]
    other = catalog["resources"]["fire-incidents"]
    _upsert_counts(gas, gas_frame(0, 5))
    Record.objects.create(resource=other, key="F1", data={}, content_hash="0" * 32)
    batch = UploadBatch.objects.create(
        resource=gas, department=gas.provider, source="csv", sha256="0" * 64
    )
    RowFingerprints.objects.create(resource=gas, batch=batch, context="c", rows=0, data=b"")
    store = recordstore.RecordStore(gas)

    assert store.delete(keys=["GP000001|2025-07-01T06:30:00Z", "nope"]) == 1
    assert not RowFingerprints.objects.filter(resource=gas).exists()
    # A queryset spanning resources deletes only the store's resource's records.
    assert store.delete(Record.objects.filter(key__in=["F1", "GP000002|2025-07-01T06:30:00Z"])) == 1
    assert store.delete() == 3
    assert list(Record.objects.values_list("key", flat=True)) == ["F1"]


def test_store_saves_ready_made_records_of_its_resource_only(catalog):
    gas = catalog["resources"][RESOURCE]
    other = catalog["resources"]["fire-incidents"]
    store = recordstore.RecordStore(gas)
    record = Record(resource=gas, key="A", data={"v": 1}, content_hash="1" * 32)
    assert store.save([record]) == 1
    assert store.save([Record(resource=gas, key="A", data={"v": 2}, content_hash="2" * 32)]) == 1
    assert Record.objects.get(resource=gas, key="A").data == {"v": 2}
    with pytest.raises(ValueError, match="another resource"):
        store.save([Record(resource=other, key="B", data={}, content_hash="3" * 32)])
    with pytest.raises(TypeError):
        recordstore.RecordStore(gas.pk).upsert(batch=None, rows=_rows(gas, gas_frame(0, 1)))
