"""Deleting records stays one fast DELETE, objections keep the key and lose the link."""

from __future__ import annotations

from django.db.models.deletion import Collector

from governance import services
from governance.models import Objection
from hub.records.models import Record
from hub.records.recordstore import RecordStore


def test_records_are_deleted_without_loading_them(world):
    """No relation to Record forces Django's collector to fetch the rows (a SET_NULL one
    did: a resource with a million records was read into memory before its delete)."""
    records = Record.objects.filter(resource=world["resource"])
    assert Collector(using="default").can_fast_delete(records)


def test_deleting_an_objected_record_keeps_the_objection_and_its_key(world):
    resource = world["resource"]
    result = services.file_objection(
        user=world["users"]["cityops"],
        department=world["departments"]["cityops"],
        resource=resource,
        scope="record",
        record_key="F2",
        reason="地址有误",
    )
    record = Record.objects.get(resource=resource, key="F2")
    assert result.objection.record_id == record.pk
    other = Objection.objects.get(pk=result.objection.pk)

    assert RecordStore(resource).delete(keys=["F2"]) == 1

    other.refresh_from_db()
    assert (other.record_id, other.record_key, other.status) == (None, "F2", "open")
    assert other.record is None
    assert Record.objects.filter(resource=resource).exclude(key="F2").exists()
