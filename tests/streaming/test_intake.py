"""Many pushes at once: the receipts, replays and conflicts of accept_push, per batch."""

from __future__ import annotations

import dataclasses

import pytest

from streaming import intake, services
from streaming.models import PushReceipt
from tests.streaming.conftest import RESOURCE, readings

pytestmark = pytest.mark.django_db


@pytest.fixture
def requests_for(catalog):
    gas = catalog["resources"][RESOURCE]
    housing = catalog["departments"]["housing"]

    def make(*specs):
        return [
            intake.PushRequest(resource=gas, department=housing, records=rows, idempotency_key=k)
            for k, rows in specs
        ]

    return make


def test_keys_seen_before_or_twice_in_the_batch_replay_or_conflict(
    requests_for, no_flush, django_capture_on_commit_callbacks
):
    earlier = services.accept_push(
        resource=requests_for(("a", []))[0].resource,
        department=requests_for(("a", []))[0].department,
        records=readings(0, 2),
        idempotency_key="a",
    ).receipt
    with django_capture_on_commit_callbacks(execute=True):
        outcomes = intake.accept_pushes(
            pushes=requests_for(
                ("a", readings(0, 2)),  # replay of the earlier receipt
                ("b", readings(2, 2)),  # new
                ("b", readings(2, 2)),  # replay of the one just before
                ("a", readings(9, 1)),  # the key of other records: conflict
                ("", readings(4, 2)),  # no key: always new
                ("", readings(4, 2)),
            )
        )
    kinds = [
        "conflict" if isinstance(o, services.PushConflict) else ("replay" if o.replayed else "new")
        for o in outcomes
    ]
    assert kinds == ["replay", "new", "replay", "conflict", "new", "new"]
    assert outcomes[0].receipt.pk == earlier.pk and outcomes[3].receipt.pk == earlier.pk
    assert outcomes[2].receipt.pk == outcomes[1].receipt.pk
    assert PushReceipt.objects.count() == 4
    assert len(no_flush) == 1  # one flush for the resource, not one per push


def test_a_race_on_a_key_falls_back_to_one_by_one(requests_for, no_flush, monkeypatch):
    first = intake.accept_pushes(pushes=requests_for(("k", readings(0, 3))))[0]
    # As if another process stored "k" after this batch looked: the insert hits the
    # unique constraint and the batch is settled push by push.
    monkeypatch.setattr(intake, "_earlier", lambda keys: {})
    outcomes = intake.accept_pushes(
        pushes=requests_for(("k", readings(0, 3)), ("m", readings(3, 3)))
    )
    assert outcomes[0].replayed and outcomes[0].receipt.pk == first.receipt.pk
    assert not outcomes[1].replayed
    assert PushReceipt.objects.count() == 2


def test_inserted_receipts_hold_exactly_what_the_orm_would_store(
    requests_for, no_flush, django_user_model
):
    # Text of any script, nested JSON, floats, a user, and the acceptance instant to the
    # microsecond: the insert (a JSON document on PostgreSQL) keeps every field as the
    # ORM's bulk_create does.
    rows = [
        {"point_id": "GP000001", "名称": "桥\t\"引号\"\\ é 🚰", "pressure": 0.1 + 0.2,
         "nested": {"a": [1, 2.5, None, True]}, "big": 12345678901234567890},
    ]  # fmt: skip
    (push,) = requests_for(("k-1", rows))
    push = dataclasses.replace(
        push, user=django_user_model.objects.create_user("scada"), api_key_prefix="abcd1234"
    )
    outcome = intake.accept_pushes(pushes=[push])[0]
    stored = PushReceipt.objects.get(pk=outcome.receipt.pk)
    assert stored.records == rows
    assert stored.records[0]["pressure"] == 0.30000000000000004
    assert (stored.resource_id, stored.department_id) == (push.resource.pk, push.department.pk)
    assert (stored.pushed_by_id, stored.api_key_prefix) == (push.user.pk, "abcd1234")
    assert (stored.idempotency_key, stored.row_count, stored.status) == ("k-1", 1, "accepted")
    assert stored.sha256 == outcome.receipt.sha256 and len(stored.sha256) == 64
    assert stored.created_at == outcome.receipt.created_at  # microseconds included
    assert (stored.errors, stored.message, stored.batch_id, stored.solo) == ([], "", None, False)
