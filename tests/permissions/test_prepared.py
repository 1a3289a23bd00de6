"""Prepared permission statements (PostgreSQL): a cached plan never caches a decision.

The records view's resource lookup (``restrict`` + active grants) and its page-and-audit
statement run as server-side prepared statements once repeated on a connection
(``permissions.prepared``). Their parameters (caller, departments, now) are bound on every
execution, so a grant that expires, is revoked or changes scope takes effect on the next
request exactly as with unprepared SQL.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from permissions.audit import verify_chain
from permissions.models import AccessGrant, AuditEvent
from permissions.prepared import prepared_statements

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

URL = "/api/v1/resources/fire-incidents/records/"


def prepared_texts() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def incident_ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["incident_id"] for row in response.json()["results"]]


def test_prepared_lookup_and_page_rebind_every_request(records, key_client, grant):
    connection.ensure_connection()
    if connection.connection.prepare_threshold is None:
        pytest.skip("prepared statements disabled (HUB_DB_PREPARE_THRESHOLD empty)")
    access = grant(records["fire-incidents"], "bigdata", districts=["310101"])
    client, _ = key_client("bigdata")
    # Beyond PostgreSQL's five custom plans: later executions use the generic plan.
    for _ in range(8):
        response = client.get(URL)
        assert incident_ids(response) == ["F1"]
        assert response.json()["results"][0]["caller_phone"] == "138****5678"
    texts = prepared_texts()
    assert any('FROM "hub_dataresource"' in text and "accessgrant" in text for text in texts)
    assert any("WITH page AS MATERIALIZED" in text for text in texts)

    # Row scope widened: the same prepared statements, other parameters.
    AccessGrant.objects.filter(pk=access.pk).update(districts=["310101", "310104"])
    assert incident_ids(client.get(URL)) == ["F1", "F2"]
    # Expired without the periodic task (guardian's row stays): 404 on the next request.
    AccessGrant.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert client.get(URL).status_code == 404
    # Back, then revoked in place: the same.
    AccessGrant.objects.filter(pk=access.pk).update(
        expires_at=timezone.now() + dt.timedelta(days=1)
    )
    assert incident_ids(client.get(URL)) == ["F1", "F2"]
    AccessGrant.objects.filter(pk=access.pk).update(revoked_at=timezone.now())
    assert client.get(URL).status_code == 404

    reads = AuditEvent.objects.filter(action="read")
    assert reads.filter(outcome="ok").count() == 10
    assert reads.filter(outcome="denied").count() == 2
    assert verify_chain().ok


def test_prepared_statements_restore_the_cursor_factory(db):
    connection.ensure_connection()
    before = connection.connection.cursor_factory
    with pytest.raises(RuntimeError), prepared_statements():
        raise RuntimeError("the block fails")
    assert connection.connection.cursor_factory is before
