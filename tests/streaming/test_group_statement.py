"""One statement per group of pushes (streaming/group_statement.py), on PostgreSQL.

After a group commit has found a key usable and its resource open to it, the next
groups of that key and resource are stored by one statement that checks the key and the
door again, inserts the receipts and appends their audit event. These tests push through
the front with the committer inline (one push per group) and check that the second push
takes one query, stores what the ordinary way stores, keeps the audit chain whole, and
that anything the statement refuses goes the ordinary way with the view's answer.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import OperationalError, connection
from django.utils import timezone

from permissions.audit import verify_chain
from permissions.models import AuditEvent, PartnerApiKey
from streaming import intake
from streaming.models import PushReceipt
from tests.streaming.conftest import RESOURCE, reading, readings
from tests.streaming.test_push_front import OTHER_RESOURCE_PUSHES, call

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("the group statement runs on PostgreSQL only")


@pytest.fixture
def partner(catalog, no_flush):
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    return create_api_key(
        department=Department.objects.get(code="housing"), name="scada", scopes=["read", "push"]
    )


def _learned_push(app, key: str) -> dict:
    """A first push: the ordinary group commit, which learns the key and resource."""
    answer = call(app, key=key, body=[reading(999)], HTTP_IDEMPOTENCY_KEY="first")
    assert answer.status_code == 202, answer.body
    return answer.json()


def test_a_learned_key_is_stored_by_one_statement_like_the_ordinary_way(app, partner, no_flush):
    api_key, key = partner
    first = _learned_push(app, key)
    assert intake.learned(api_key.pk, RESOURCE) is not None
    statements: list[str] = []

    def seen(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(seen):
        answer = call(app, key=key, body=readings(0, 10), HTTP_IDEMPOTENCY_KEY="s-2")
    assert answer.status_code == 202, answer.body
    assert len(statements) == 1 and "hub_receipts" in statements[0]
    body = answer.json()
    receipt = PushReceipt.objects.get(pk=body["id"])
    ordinary = PushReceipt.objects.get(pk=first["id"])
    assert (receipt.status, receipt.row_count, receipt.idempotency_key) == ("accepted", 10, "s-2")
    assert receipt.records == readings(0, 10)
    for field in ("resource_id", "department_id", "pushed_by_id", "api_key_prefix"):
        assert getattr(receipt, field) == getattr(ordinary, field), field
    assert (body["resource"], body["rows"], body["replayed"], body["department"]) == (
        RESOURCE,
        10,
        False,
        "housing",
    )
    event = AuditEvent.objects.get(action="upload", detail__receipts=[receipt.pk])
    ordinary_event = AuditEvent.objects.get(action="upload", detail__receipts=[ordinary.pk])
    assert event.detail == {"receipts": [receipt.pk], "source": "push"}
    assert (event.rows, event.outcome, event.api_key_prefix) == (10, "ok", api_key.prefix)
    assert (event.actor_id, event.actor) == (ordinary_event.actor_id, ordinary_event.actor)
    assert event.sequence == ordinary_event.sequence + 1
    report = verify_chain()
    assert report.ok, report
    assert len(no_flush) == 2  # each group schedules the resource's load


def test_many_groups_keep_the_chain_whole(app, partner):
    _api_key, key = partner
    _learned_push(app, key)
    for n in range(6):
        answer = call(app, key=key, body=readings(10 * n, 1 + n), HTTP_IDEMPOTENCY_KEY=f"m{n}")
        assert answer.status_code == 202
    events = AuditEvent.objects.filter(action="upload").order_by("sequence")
    assert [e.rows for e in events] == [1, 1, 2, 3, 4, 5, 6]
    assert verify_chain().ok
    # The six statements were one prepared statement of this connection.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
            ["%hub_receipts%"],
        )
        assert cursor.fetchone()[0] == 1


def _revoke(api_key):
    from permissions.api_key_services import revoke_api_key

    revoke_api_key(user=None, api_key=api_key)


def _expire(api_key):
    PartnerApiKey.objects.filter(pk=api_key.pk).update(
        expiry_date=timezone.now() - dt.timedelta(seconds=1)
    )


def _no_push_scope(api_key):
    from permissions.api_key_services import set_api_key_scopes

    set_api_key_scopes(user=None, api_key=api_key, scopes=["read"])


def _user_inactive(api_key):
    type(api_key.user).objects.filter(pk=api_key.user_id).update(is_active=False)


def _department_inactive(api_key):
    type(api_key.department).objects.filter(pk=api_key.department_id).update(is_active=False)


def _door_closed(api_key):
    from hub.catalog.models import DataResource, Department

    DataResource.objects.filter(code=RESOURCE).update(provider=Department.objects.get(code="water"))


@pytest.mark.parametrize(
    "change",
    [_revoke, _expire, _no_push_scope, _user_inactive, _department_inactive, _door_closed],
)
def test_what_changed_since_it_was_learned_is_refused_by_the_statement(app, partner, change):
    api_key, key = partner
    _learned_push(app, key)
    uploads = AuditEvent.objects.filter(action="upload", outcome="ok").count()
    change(api_key)
    answer = call(app, key=key, body=[reading(1)])
    assert answer.status_code in (401, 403, 404), answer.body
    assert PushReceipt.objects.count() == 1  # only the first push's
    assert intake.learned(api_key.pk, RESOURCE) is None  # the next group asks afresh
    assert AuditEvent.objects.filter(action="upload", outcome="ok").count() == uploads
    assert verify_chain().ok


def test_replays_and_conflicts_go_the_ordinary_way(app, partner):
    _api_key, key = partner
    _learned_push(app, key)
    stored = call(app, key=key, body=readings(0, 3), HTTP_IDEMPOTENCY_KEY="k-7")
    again = call(app, key=key, body=readings(0, 3), HTTP_IDEMPOTENCY_KEY="k-7")
    other = call(app, key=key, body=readings(0, 4), HTTP_IDEMPOTENCY_KEY="k-7")
    assert (stored.status_code, again.status_code, other.status_code) == (202, 200, 409)
    assert again.json()["id"] == stored.json()["id"] and again.json()["replayed"] is True
    assert PushReceipt.objects.count() == 2
    assert verify_chain().ok


def test_a_group_of_two_keys_stores_the_learned_one_and_settles_the_other(partner, catalog):
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key
    from streaming.front import _accept
    from streaming.intake import KeyPush
    from streaming.services import canonical_records

    api_key, _key = partner
    water_key, _ = create_api_key(
        department=Department.objects.get(code="water"), name="w", scopes=["push"]
    )
    first = KeyPush(api_key_id=api_key.pk, code=RESOURCE, records=[reading(1)])
    assert _accept([first])[0].receipt.pk  # learned
    water = OTHER_RESOURCE_PUSHES.split("/")[4]
    group = [
        KeyPush(api_key_id=api_key.pk, code=RESOURCE, records=[reading(2)], idempotency_key="a"),
        KeyPush(api_key_id=water_key.pk, code=water, records=[{"x": 1}], idempotency_key="b"),
        KeyPush(
            api_key_id=api_key.pk,
            code=RESOURCE,
            records=[reading(3)],
            encoded=canonical_records([reading(3)]),
        ),
    ]
    outcomes = _accept(group)
    receipts = [outcome.receipt for outcome in outcomes]
    assert [r.resource.code for r in receipts] == [RESOURCE, water, RESOURCE]
    assert [r.records for r in PushReceipt.objects.filter(pk__in=[r.pk for r in receipts])
            .order_by("pk")] == [[reading(2)], [reading(3)], [{"x": 1}]]  # fmt: skip
    assert verify_chain().ok


def test_once_some_are_stored_a_failure_of_the_others_is_theirs_alone(partner, monkeypatch):
    from streaming import front
    from streaming.committer import UNCOMMITTED
    from streaming.intake import KeyPush

    api_key, _key = partner
    assert front._accept([KeyPush(api_key_id=api_key.pk, code=RESOURCE, records=[reading(1)])])
    group = [
        KeyPush(api_key_id=api_key.pk, code=RESOURCE, records=[reading(2)]),
        KeyPush(api_key_id="unknown.key", code=RESOURCE, records=[reading(3)]),
    ]

    def down(*, pushes):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(intake, "accept_key_pushes", down)
    outcomes = front._accept(group)
    assert outcomes[1] == UNCOMMITTED
    assert outcomes[0].receipt.records == [reading(2)]
    assert PushReceipt.objects.filter(pk=outcomes[0].receipt.pk).exists()


def test_a_value_the_database_refuses_goes_the_ordinary_way(app, partner):
    _api_key, key = partner
    _learned_push(app, key)
    # PostgreSQL's jsonb cannot hold U+0000: the statement fails, the ordinary way answers.
    answer = call(app, key=key, body=[{**reading(5), "district": "a\u0000b"}])
    assert answer.status_code == 400, answer.body
    assert PushReceipt.objects.count() == 1
    assert verify_chain().ok
