"""Micro-batched pushes: 202 receipts, idempotency, coalesced loads, per-push errors,
the receipts' door, throttles per key and the sweeper's exactly-once recovery."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from hub.catalog.models import DataResource, Department
from hub.records.models import BatchSource, BatchStatus, Record, UploadBatch
from permissions.models import AuditEvent
from streaming import services
from streaming.models import PushReceipt, ReceiptStatus
from tests.streaming.conftest import PUSHES, RESOURCE, reading, readings

# Real commits: a receipt is stored, then (eager) loaded on commit, in-process.
pytestmark = pytest.mark.django_db(transaction=True)


def push(client, records, **headers):
    return client.post(PUSHES, records, format="json", headers=headers)


def flush():
    from hub.catalog.models import DataResource

    return services.flush_resource(resource_id=DataResource.objects.get(code=RESOURCE).pk)


def test_push_is_acknowledged_with_a_receipt_and_loaded(catalog, key_client):
    client, api_key = key_client("housing", scopes=["read", "push"])
    response = push(client, readings(0, 10))
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["rows"] == 10 and body["resource"] == RESOURCE
    assert body["url"].endswith(f"/api/v1/push-receipts/{body['id']}/")
    assert response["Location"] == body["url"]
    # Eager mode: loaded on commit, before the answer.
    assert body["status"] == "loaded" and body["errors"] == []
    batch = UploadBatch.objects.get(pk=body["batch"])
    assert (batch.source, batch.status, batch.inserted) == (BatchSource.API, "loaded", 10)
    assert batch.api_key_prefix == api_key.prefix
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10
    polled = client.get(f"/api/v1/push-receipts/{body['id']}/")
    assert polled.status_code == 200 and polled.json()["status"] == "loaded"
    receipt = PushReceipt.objects.get(pk=body["id"])
    assert receipt.records == []  # the batch holds them once loaded
    event = AuditEvent.objects.filter(action="upload", detail__receipt=receipt.pk).get()
    assert (event.api_key_prefix, event.rows, event.outcome) == (api_key.prefix, 10, "ok")


def test_idempotency_key_same_body_same_receipt_other_body_409(catalog, key_client, no_flush):
    client, _key = key_client("housing", scopes=["push"])
    first = push(client, readings(0, 3), **{"Idempotency-Key": "scada-7"})
    again = push(client, readings(0, 3), **{"Idempotency-Key": "scada-7"})
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    other = push(client, readings(0, 4), **{"Idempotency-Key": "scada-7"})
    assert other.status_code == 409
    assert other.json()["receipt"] == first.json()["id"]
    assert PushReceipt.objects.count() == 1
    # Without a key, the same body is another push.
    assert push(client, readings(0, 3)).json()["id"] != first.json()["id"]
    assert flush().loaded == 2
    assert Record.objects.filter(resource__code=RESOURCE).count() == 3


def test_three_pushes_coalesce_into_one_batch(catalog, key_client, no_flush):
    client, _key = key_client("housing", scopes=["push"])
    ids = [push(client, readings(10 * n, 10)).json()["id"] for n in range(3)]
    assert len(no_flush) == 3  # each push asked for a flush; none ran yet
    assert set(PushReceipt.objects.values_list("status", flat=True)) == {"accepted"}
    result = flush()
    assert len(result.batches) == 1 and result.loaded == 3
    batch = UploadBatch.objects.get(pk=result.batches[0])
    assert (batch.status, batch.rows_read, batch.inserted) == ("loaded", 30, 30)
    receipts = PushReceipt.objects.filter(pk__in=ids).order_by("id")
    assert [(r.status, r.batch_id, r.batch_row) for r in receipts] == [
        ("loaded", batch.pk, 1),
        ("loaded", batch.pk, 11),
        ("loaded", batch.pk, 21),
    ]
    assert Record.objects.filter(resource__code=RESOURCE).count() == 30
    assert flush().batches == []  # nothing left


def test_a_flush_loads_what_waited_when_it_started_not_later_pushes(
    catalog, key_client, no_flush, monkeypatch
):
    """A push committed while the flush loads is left to its own window's flush (it set
    that window's mark, or found it set by a push whose flush runs after it): the flush
    does not chase it with a second, smaller load."""
    client, _key = key_client("housing", scopes=["push"])
    early = [push(client, readings(10 * n, 10)).json()["id"] for n in range(2)]
    run_batch = services.ingest.run_batch
    late: list[int] = []

    def load_while_a_push_arrives(*, batch_id):
        if not late:
            late.append(push(client, readings(100, 10)).json()["id"])
        return run_batch(batch_id=batch_id)

    monkeypatch.setattr(services.ingest, "run_batch", load_while_a_push_arrives)
    result = flush()
    assert len(result.batches) == 1 and result.loaded == 2
    statuses = dict(PushReceipt.objects.values_list("id", "status"))
    assert [statuses[pk] for pk in early] == ["loaded", "loaded"]
    assert statuses[late[0]] == "accepted"
    assert len(no_flush) == 3  # the late push asked for its own flush
    later = flush()
    assert len(later.batches) == 1 and later.loaded == 1
    assert Record.objects.filter(resource__code=RESOURCE).count() == 30


def test_a_windows_mark_lapses_before_its_flush_runs(monkeypatch, settings):
    """A push that finds the window's mark set schedules nothing: the window's flush
    must start after every such push committed, so the mark lapses before it runs."""
    from streaming.tasks import flush_pushes

    settings.HUB_PUSH_WINDOW_SECONDS = 0.5
    monkeypatch.setitem(flush_pushes.app.conf, "task_always_eager", False)
    sent: list[float] = []
    marks: list[float] = []
    monkeypatch.setattr(flush_pushes, "apply_async", lambda args, countdown: sent.append(countdown))
    monkeypatch.setattr(services, "_mark_window", lambda mark, seconds: not marks.append(seconds))
    assert services.schedule_flush(resource_id=7) is True
    assert sent == [0.5] and len(marks) == 1 and 0.4 <= marks[0] < 0.5


def test_a_flush_goes_on_while_its_claims_leave_waiting_receipts(
    catalog, key_client, no_flush, settings
):
    """Receipts a claim read but could not take (over the batch's rows) are loaded by
    the same flush, batch after batch."""
    settings.HUB_PUSH_MAX_ROWS = 15
    client, _key = key_client("housing", scopes=["push"])
    ids = [push(client, readings(10 * n, 10)).json()["id"] for n in range(3)]
    result = flush()
    assert len(result.batches) == 3 and result.loaded == 3
    receipts = PushReceipt.objects.filter(pk__in=ids).order_by("id")
    assert [r.batch_id for r in receipts] == result.batches
    assert Record.objects.filter(resource__code=RESOURCE).count() == 30
    assert flush().batches == []


def test_errors_are_reported_on_their_own_push(catalog, key_client, no_flush):
    client, _key = key_client("housing", scopes=["read", "push"])
    good1 = push(client, readings(0, 5)).json()["id"]
    bad_rows = readings(5, 5)
    bad_rows[1]["pressure"] = -5  # the push's 2nd record
    bad = push(client, bad_rows).json()["id"]
    good2 = push(client, readings(10, 5)).json()["id"]
    result = flush()
    assert (result.loaded, result.rejected) == (2, 1)
    one, two, three = (PushReceipt.objects.get(pk=pk) for pk in (good1, bad, good2))
    assert (one.status, three.status, two.status) == ("loaded", "loaded", "rejected")
    # Loaded in push order: the pushes before and after the bad one load on either side.
    assert len({one.batch_id, two.batch_id, three.batch_id}) == 3
    assert UploadBatch.objects.get(pk=one.batch_id).inserted == 5
    assert [e["row"] for e in two.errors] == [2]
    assert two.errors[0]["column"]
    shown = client.get(f"/api/v1/push-receipts/{bad}/").json()
    assert shown["status"] == "rejected" and shown["errors"][0]["row"] == 2
    points = set(
        Record.objects.filter(resource__code=RESOURCE).values_list("data__point_id", flat=True)
    )
    assert points == {f"GP{i:06d}" for i in [*range(5), *range(10, 15)]}
    # The shared load that failed is kept as a rejected batch (lineage of the verdicts).
    assert UploadBatch.objects.filter(status=BatchStatus.REJECTED).count() == 2


def test_same_key_in_two_pushes_of_one_window_last_push_wins(catalog, key_client, no_flush):
    client, _key = key_client("housing", scopes=["push"])
    first = push(client, [reading(1, pressure=0.30)]).json()["id"]
    second = push(client, [reading(1, pressure=0.40)]).json()["id"]
    flush()
    assert set(
        PushReceipt.objects.filter(pk__in=[first, second]).values_list("status", flat=True)
    ) == {"loaded"}
    assert Record.objects.get(resource__code=RESOURCE).data["pressure"] == 0.40


def test_receipts_are_seen_by_the_pushing_department_only(catalog, key_client, make_user):
    client, _key = key_client("housing", scopes=["read", "push"])
    receipt = push(client, readings(0, 2)).json()["id"]
    other, _ = key_client("water", scopes=["read", "push"])
    assert other.get(f"/api/v1/push-receipts/{receipt}/").status_code == 404
    staff = make_user("housing")
    from rest_framework.test import APIClient

    session = APIClient()
    session.force_authenticate(staff)
    assert session.get(f"/api/v1/push-receipts/{receipt}/").status_code == 200
    outsider = APIClient()
    outsider.force_authenticate(make_user("fire"))
    assert outsider.get(f"/api/v1/push-receipts/{receipt}/").status_code == 404
    assert outsider.get("/api/v1/push-receipts/999999/").status_code == 404


def test_read_only_key_cannot_push_and_others_resources_are_404(catalog, key_client):
    reader, _ = key_client("housing")
    refused = push(reader, readings(0, 1))
    assert refused.status_code == 403 and "push" in refused.json()["detail"]
    pusher, _ = key_client("water", scopes=["read", "push"])
    assert push(pusher, readings(0, 1)).status_code == 404
    assert not PushReceipt.objects.exists()


@pytest.mark.parametrize(
    ("body", "word"),
    [([], "空"), ({"a": 1}, "列表"), ([1, 2], "列表"), ([{"point_id": "x"}] * 1001, "1000")],
)
def test_bad_bodies_are_400(catalog, key_client, body, word):
    client, _ = key_client("housing", scopes=["push"])
    response = push(client, body)
    assert response.status_code == 400 and word in response.json()["detail"]
    assert not PushReceipt.objects.exists()


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("k" * 129, "Idempotency-Key 最长 128 个字符。"),
        ("gw-1\x00", "Idempotency-Key 只能包含可见的 ASCII 字符和空格。"),
        ("gw\t1", "Idempotency-Key 只能包含可见的 ASCII 字符和空格。"),
        ("gw-1\x7f", "Idempotency-Key 只能包含可见的 ASCII 字符和空格。"),
        ("网关-1", "Idempotency-Key 只能包含可见的 ASCII 字符和空格。"),
    ],
)
def test_a_bad_idempotency_key_is_a_400_naming_the_header(catalog, key_client, key, message):
    client, _ = key_client("housing", scopes=["push"])
    response = push(client, readings(0, 1), **{"Idempotency-Key": key})
    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": [message]}
    assert not PushReceipt.objects.exists()
    with pytest.raises(ValueError, match="Idempotency-Key"):
        services.accept_push(
            resource=DataResource.objects.get(code=RESOURCE),
            department=Department.objects.get(code="housing"),
            records=readings(0, 1),
            idempotency_key=key,
        )


def test_keys_sharing_their_first_128_characters_are_not_one_receipt(catalog, key_client, no_flush):
    client, _ = key_client("housing", scopes=["push"])
    longest = "gw-12/" + "0" * 122
    first = push(client, readings(0, 3), **{"Idempotency-Key": longest})
    assert first.status_code == 202, first.content
    assert PushReceipt.objects.get().idempotency_key == longest
    # Once cut to 128 characters this was the first push's key: a 409 naming its receipt.
    longer = push(client, readings(0, 4), **{"Idempotency-Key": longest + "1"})
    assert longer.status_code == 400 and list(longer.json()) == ["Idempotency-Key"]
    again = push(client, readings(0, 3), **{"Idempotency-Key": " " + longest + " "})
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert PushReceipt.objects.count() == 1


def test_push_rate_per_key_is_set_in_the_admin_service(catalog, key_client, make_user, no_flush):
    client, api_key = key_client("housing", scopes=["push"])
    root = make_user(superuser=True, username="root")
    services.set_push_rate(user=root, api_key=api_key, rate="2/min")
    assert AuditEvent.objects.filter(action="key_push_rate").get().detail == {"push_rate": "2/min"}
    assert [push(client, [reading(n)]).status_code for n in range(3)] == [202, 202, 429]
    other, _ = key_client("housing", scopes=["push"])
    assert push(other, [reading(9)]).status_code == 202  # per key, not per department
    with pytest.raises(ValueError):
        services.set_push_rate(user=root, api_key=api_key, rate="fast")
    with pytest.raises(PermissionError):
        services.set_push_rate(user=make_user("fire"), api_key=api_key, rate="9/s")


def test_sweeper_loads_a_push_whose_task_was_lost_exactly_once(catalog, key_client, no_flush):
    client, _key = key_client("housing", scopes=["push"])
    receipt = push(client, readings(0, 10)).json()["id"]
    assert services.sweep_receipts() == {"resources": [], "batches": []}  # too young
    assert PushReceipt.objects.get(pk=receipt).status == "accepted"
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        swept = services.sweep_receipts()
    assert len(swept["resources"]) == 1
    assert PushReceipt.objects.get(pk=receipt).status == "loaded"
    assert services.sweep_receipts(older_than=timedelta(0)) == {"resources": [], "batches": []}
    assert UploadBatch.objects.count() == 1
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10


def test_sweeper_finishes_a_batch_whose_worker_died(catalog, key_client, no_flush):
    from hub.catalog.models import DataResource

    client, _key = key_client("housing", scopes=["push"])
    ids = [push(client, readings(10 * n, 10)).json()["id"] for n in range(2)]
    # The worker claimed the pushes and wrote their batch, then died before loading it.
    batch, claimed, _more = services._claim(DataResource.objects.get(code=RESOURCE).pk)
    assert sorted(claimed) == sorted(ids)
    claimed_rows = PushReceipt.objects.filter(pk__in=ids).order_by("id")
    assert [(r.status, r.batch_id, r.batch_row, r.attempts) for r in claimed_rows] == [
        ("loading", batch.pk, 1, 1),
        ("loading", batch.pk, 11, 1),
    ]
    assert all(abs(r.claimed_at - timezone.now()) < timedelta(minutes=1) for r in claimed_rows)
    assert UploadBatch.objects.get(pk=batch.pk).status == BatchStatus.RECEIVED
    assert services.sweep_receipts()["batches"] == []  # maybe still loading
    with time_machine.travel(timezone.now() + timedelta(seconds=31)):
        swept = services.sweep_receipts()
    assert swept["batches"] == [batch.pk]
    assert set(PushReceipt.objects.values_list("status", "batch_id")) == {("loaded", batch.pk)}
    assert UploadBatch.objects.count() == 1
    assert UploadBatch.objects.get().inserted == 20
    # A late redelivery of the dead worker's task changes nothing.
    assert services.finish_batch(batch_id=batch.pk) == {}
    assert services.flush_resource(resource_id=batch.resource_id).batches == []
    assert Record.objects.filter(resource__code=RESOURCE).count() == 20
    assert ReceiptStatus.LOADED == "loaded"


def test_large_pushes_load_every_row(catalog, key_client, no_flush):
    """Coalesced batches go past the pipeline's first-chunk split (4,096 rows): every
    row is loaded (a pushed batch used to keep only its first 4,096 rows)."""
    client, _key = key_client("housing", scopes=["push"])
    for n in range(10):
        assert push(client, readings(1000 * n, 1000)).status_code == 202
    result = flush()
    assert len(result.batches) == 1 and result.loaded == 10
    batch = UploadBatch.objects.get(pk=result.batches[0])
    assert (batch.rows_read, batch.inserted) == (10_000, 10_000)
    assert Record.objects.filter(resource__code=RESOURCE).count() == 10_000


def test_batch_push_of_many_records_loads_them_all(catalog, key_client):
    """The batch-per-push endpoint (POST /records/) over the same split."""
    client, _key = key_client("housing", scopes=["push"])
    url = f"/api/v1/resources/{RESOURCE}/records/"
    response = client.post(url, readings(0, 9000), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["rows_read"], response.json()["inserted"]) == (9000, 9000)


def test_push_answer_body_is_the_receipt_serializers(catalog, key_client, no_flush):
    """The push view builds its answer without the ModelSerializer (hot path): the same
    body, field for field, for a waiting, a loaded and a rejected receipt."""
    from rest_framework.test import APIRequestFactory

    from streaming.api.serializers import PushReceiptSerializer, receipt_body

    request = APIRequestFactory().get("/")

    def same(pk: int, replayed: bool) -> str:
        receipt = PushReceipt.objects.get(pk=pk)
        context = {"request": request, "replayed": replayed}
        expected = dict(PushReceiptSerializer(receipt, context=context).data)
        assert receipt_body(receipt, request=request, replayed=replayed) == expected
        return receipt.status

    client, _key = key_client("housing", scopes=["push"])
    bad = readings(0, 2)
    bad[0]["pressure"] = -5
    rejected = push(client, bad).json()["id"]
    assert same(rejected, False) == "accepted"
    flush()
    assert same(rejected, True) == "rejected"
    loaded = push(client, readings(4, 2)).json()["id"]
    flush()
    assert same(loaded, False) == "loaded"


def test_the_receipt_path_follows_the_script_prefix():
    from django.urls import clear_script_prefix, reverse, set_script_prefix

    from streaming.api.serializers import receipt_body

    class Receipt:  # only what the path and body read
        resource = department = type("Named", (), {"code": "x"})()
        status, is_final, row_count, batch_id, errors, message = "waiting", False, 1, None, [], ""
        created_at = finished_at = None

    try:
        for prefix in ("/", "/hub/", "/城市/"):
            set_script_prefix(prefix)
            for pk in (1, 42, 10**12):
                receipt = Receipt()
                receipt.pk = pk
                expected = reverse("push-receipt-detail", args=[pk])
                assert receipt_body(receipt)["url"] == expected
                assert expected.endswith(f"/api/v1/push-receipts/{pk}/")
    finally:
        clear_script_prefix()
