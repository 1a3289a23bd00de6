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


def test_exports_logged_after_streaming(records, make_user, api_client):
    api_client.force_authenticate(make_user("fire"))
    response = api_client.get("/api/v1/resources/fire-incidents/records/", {"format": "csv"})
    b"".join(response.streaming_content)
    event = AuditEvent.objects.get(action="export")
    assert (event.rows, event.detail) == (3, {"format": "csv"})


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
