"""Pushes to a resource that accepts valid rows: a coalesced window batch ends
``partial``, and each push gets its own verdict (loaded, partial or rejected) with its
own row errors; the bad rows wait in the batch's correction batch."""

from __future__ import annotations

import pytest

from hub.catalog.models import DataResource
from hub.records.models import BatchStatus, Record, UploadBatch
from streaming import services
from streaming.models import FINAL_RECEIPT_STATUSES, PushReceipt, ReceiptStatus
from streaming.settle import errors_by_receipt
from tests.streaming.conftest import PUSHES, RESOURCE, readings

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def gas(catalog):
    resource = DataResource.objects.get(code=RESOURCE)
    resource.accept_valid_rows = True
    resource.save(update_fields=["accept_valid_rows"])
    return resource


def push(client, records) -> int:
    response = client.post(PUSHES, records, format="json")
    assert response.status_code == 202, response.content
    return response.json()["id"]


def test_partial_window_gives_each_push_its_own_verdict(gas, key_client, no_flush):
    client, _key = key_client("housing", scopes=["read", "push"])
    clean = push(client, readings(0, 4))
    some_bad = readings(4, 4)
    some_bad[2]["pressure"] = -5  # the push's 3rd record
    mixed = push(client, some_bad)
    all_bad = readings(8, 2, pressure=-1)
    rejected = push(client, all_bad)
    clean2 = push(client, readings(10, 3))

    result = services.flush_resource(resource_id=gas.pk)

    assert len(result.batches) == 1  # one coalesced load, no re-queue round
    assert (result.loaded, result.partial, result.rejected) == (2, 1, 1)
    batch = UploadBatch.objects.get(pk=result.batches[0])
    assert (batch.status, batch.rows_read, batch.inserted, batch.rejected) == (
        BatchStatus.PARTIAL,
        13,
        10,
        3,
    )
    correction = UploadBatch.objects.get(correction_of=batch)
    assert correction.status == BatchStatus.CORRECTION and correction.rejected == 3
    got = {r.pk: r for r in PushReceipt.objects.all()}
    assert [got[pk].status for pk in (clean, mixed, rejected, clean2)] == [
        "loaded",
        "partial",
        "rejected",
        "loaded",
    ]
    assert all(got[pk].batch_id == batch.pk for pk in got)
    assert got[clean].errors == [] and got[clean2].errors == []
    assert [e["row"] for e in got[mixed].errors] == [3]  # numbered within the push
    assert got[mixed].errors[0]["column"]
    assert "3 行已入库" in got[mixed].message and f"#{correction.pk}" in got[mixed].message
    assert sorted(e["row"] for e in got[rejected].errors) == [1, 2]
    assert f"#{correction.pk}" in got[rejected].message
    # The stored rows' records are dropped from the receipt; a rejected push keeps its own.
    assert got[mixed].records == [] and len(got[rejected].records) == 2
    assert all(got[pk].finished_at for pk in got)
    assert ReceiptStatus.PARTIAL in FINAL_RECEIPT_STATUSES

    points = set(Record.objects.filter(resource=gas).values_list("data__point_id", flat=True))
    assert points == {f"GP{i:06d}" for i in [0, 1, 2, 3, 4, 5, 7, 10, 11, 12]}
    shown = client.get(f"/api/v1/push-receipts/{mixed}/").json()
    assert (shown["status"], shown["is_final"], shown["batch"]) == ("partial", True, batch.pk)
    assert [e["row"] for e in shown["errors"]] == [3]
    # Settling again (a redelivered task, the sweeper) changes nothing.
    assert services.finish_batch(batch_id=batch.pk) == {}
    assert services.flush_resource(resource_id=gas.pk).batches == []


def test_partial_batch_with_more_errors_than_it_keeps_says_so(gas, key_client, no_flush):
    """A batch keeps its first 1,000 errors: a later push with rows past the last named
    one is loaded as far as anyone can tell, and its message says errors may be unnamed."""
    from connectors.pipeline import load as pipeline

    client, _key = key_client("housing", scopes=["push"])
    bad = readings(0, 3, pressure=-1)
    first = push(client, bad)
    later_bad = readings(3, 3)
    later_bad[0]["pressure"] = -2
    later = push(client, later_bad)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "MAX_STORED_ERRORS", 3)
        result = services.flush_resource(resource_id=gas.pk)
    batch = UploadBatch.objects.get(pk=result.batches[0])
    assert (batch.status, batch.rejected, len(batch.errors)) == ("partial", 4, 3)
    one, two = PushReceipt.objects.get(pk=first), PushReceipt.objects.get(pk=later)
    assert one.status == "rejected"
    assert two.status == "loaded" and two.errors == [] and "未列出" in two.message


def test_errors_are_rebased_to_the_push_holding_their_row():
    batch = UploadBatch(errors=[{"row": 12, "column": "压力", "message": "m"}, {"row": 0}])
    first = PushReceipt(pk=1, batch_row=1, row_count=10)
    second = PushReceipt(pk=2, batch_row=11, row_count=10)
    found = errors_by_receipt(batch, [first, second])
    assert found == {1: [], 2: [{"row": 2, "column": "压力", "message": "m"}]}
