"""The readings table is written by every sync: only the indexes it needs, no deferred
foreign-key checks, ids handed out in blocks (PostgreSQL only)."""

from __future__ import annotations

import pytest
from django.db import connection

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def test_readings_keep_only_the_indexes_their_queries_use():
    with connection.cursor() as cursor:
        # The partitioned table's own (parent) indexes; each partition has the same.
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'operations_reading'")
        columns = sorted(row[0].split("(", 1)[1].rstrip(")") for row in cursor.fetchall())
    assert columns == [
        "batch_id",
        "id, observed_at",
        "point_id, metric, observed_at",
        "resource_id, record_key, metric, observed_at",
    ]


def test_readings_have_no_foreign_key_constraints():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_constraint "
            "WHERE conrelid = 'operations_reading'::regclass AND contype = 'f'"
        )
        assert cursor.fetchone()[0] == 0


def test_reading_ids_come_from_a_per_session_cache():
    with connection.cursor() as cursor:
        # By oid: a name compare would depend on the schema and search_path.
        cursor.execute(
            "SELECT seqcache FROM pg_sequence "
            "WHERE seqrelid = pg_get_serial_sequence('operations_reading', 'id')::regclass"
        )
        assert cursor.fetchone()[0] == 1000
