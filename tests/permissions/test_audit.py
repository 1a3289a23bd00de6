"""The audit log: append-only, hash-chained, verified by ``verify_audit``."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from permissions.audit import log_event, verify_chain
from permissions.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_reads_are_logged_with_rows_and_fields(records, make_user, api_client):
    api_client.force_authenticate(make_user("water"))
    api_client.get("/api/v1/resources/road-ponding/records/", {"fields": "point_id,depth"})
    event = AuditEvent.objects.get(action="read")
    assert (event.resource_code, event.rows, event.fields) == (
        "road-ponding",
        1,
        ["point_id", "depth"],
    )
    assert event.actor == "water-staff"


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json"])
def test_exports_logged_after_streaming(records, make_user, api_client, fmt):
    api_client.force_authenticate(make_user("fire"))
    response = api_client.get("/api/v1/resources/fire-incidents/records/", {"format": fmt})
    chunks = iter(response.streaming_content)
    next(chunks)
    assert not AuditEvent.objects.filter(action="export").exists()  # Still streaming.
    b"".join(chunks)
    event = AuditEvent.objects.get(action="export")
    assert (event.rows, event.detail) == (3, {"format": fmt})


def test_denied_attempts_logged(records, make_user, api_client):
    api_client.force_authenticate(make_user("water"))
    assert api_client.get("/api/v1/resources/fire-incidents/records/").status_code == 404
    event = AuditEvent.objects.get()
    assert (event.action, event.outcome, event.resource_code) == (
        "read",
        "denied",
        "fire-incidents",
    )


def test_model_refuses_update_and_delete(db):
    event = log_event(actor=None, action="test")
    event.rows = 5
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_database_refuses_update(db):
    log_event(actor=None, action="test")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.update(rows=99)


def _drop_guard():
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "ALTER TABLE permissions_auditevent "
                "DISABLE TRIGGER permissions_auditevent_append_only"
            )
        else:
            cursor.execute("DROP TRIGGER permissions_auditevent_no_update")


def test_verify_audit_names_first_broken_link(db):
    for index in range(5):
        log_event(actor=None, action="test", rows=index)
    assert verify_chain().ok
    out = StringIO()
    call_command("verify_audit", stdout=out)
    assert "5 events" in out.getvalue()
    _drop_guard()
    AuditEvent.objects.filter(sequence=3).update(rows=1000)
    AuditEvent.objects.filter(sequence=4).update(rows=2000)
    report = verify_chain()
    assert (report.broken_at, report.checked) == (3, 2)
    with pytest.raises(CommandError, match="broken at event #3"):
        call_command("verify_audit")


def test_verify_detects_removed_tail(db):
    for _ in range(3):
        log_event(actor=None, action="test")
    _drop_guard()
    AuditEvent.objects.filter(sequence=3)._raw_delete(connection.alias)
    report = verify_chain()
    assert report.broken_at == 3
    assert "removed" in report.reason


def test_chain_links_each_event_to_the_previous(db):
    first = log_event(actor=None, action="a")
    second = log_event(actor=None, action="b", detail={"x": [1, 2]})
    assert second.prev_hash == first.hash
    assert first.prev_hash == "0" * 64


def test_page_reads_logged_once_with_rows_returned(records, make_user, api_client):
    # On PostgreSQL the page query appends the event itself (read_and_log); elsewhere the
    # view logs. Either way: one event, the rows actually returned, and the chain holds.
    api_client.force_authenticate(make_user("fire"))
    first = api_client.get("/api/v1/resources/fire-incidents/records/", {"page_size": 2})
    assert len(first.json()["results"]) == 2
    rest = api_client.get(first.json()["next"])
    assert len(rest.json()["results"]) == 1
    empty = api_client.get("/api/v1/resources/fire-incidents/records/", {"since": "2999-01-01"})
    assert empty.json()["results"] == []
    events = list(AuditEvent.objects.filter(action="read").order_by("sequence"))
    assert [event.rows for event in events] == [2, 1, 0]
    assert all(event.detail == {} and event.resource_code == "fire-incidents" for event in events)
    assert verify_chain().ok


@pytest.mark.postgres
def test_read_and_log_counts_rows_and_recreates_a_missing_head(db):
    from django.test.utils import CaptureQueriesContext

    from permissions.audit import read_and_log
    from permissions.models import AuditChainHead

    AuditChainHead.objects.all().delete()  # As after a test database flush.
    rows, event = read_and_log(
        "SELECT %s AS a UNION ALL SELECT %s UNION ALL SELECT %s",
        ["x", "y", "z"],
        page_size=2,
        actor=None,
        resource="r",
    )
    assert rows == [("x",), ("y",), ("z",)]
    assert (event.rows, event.sequence, event.action) == (2, 1, "read")
    with CaptureQueriesContext(connection) as context:
        rows, event = read_and_log(
            "SELECT 1 AS a WHERE false", [], page_size=2, actor=None, resource="r"
        )
    assert (rows, event.rows, event.sequence, len(context.captured_queries)) == ([], 0, 2, 1)
    assert AuditEvent.objects.get(pk=event.pk).hash == event.hash
    assert verify_chain().ok
