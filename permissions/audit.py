"""Append-only, hash-chained audit log (审计日志).

Each event's hash is SHA-256 over the canonical JSON of its content plus the previous
event's hash. Appends lock the single chain-head row (``select_for_update``; SQLite
serialises writers with its IMMEDIATE transactions), so concurrent writers cannot fork
the chain. One append costs one INSERT plus one UPDATE of the head.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from permissions.models import AuditChainHead, AuditEvent
from permissions.prepared import prepared_statements

GENESIS = "0" * 64
# Events whose commit skips the WAL flush wait unless HUB_AUDIT_SYNC_READS is True: a
# server crash can then lose the last fraction of a second of them, never break the chain.
RELAXED_ACTIONS = ("read", "export")
OUTCOMES = ("ok", "denied")


def canonical(payload: dict[str, Any]) -> str:
    """Deterministic JSON: sorted keys, no whitespace, UTF-8 kept."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def event_payload(event: AuditEvent) -> dict[str, Any]:
    """The hashed content of an event (everything but its own hash)."""
    return {
        "sequence": event.sequence,
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor": event.actor,
        "api_key_prefix": event.api_key_prefix,
        "action": event.action,
        "resource_code": event.resource_code,
        "rows": event.rows,
        "fields": list(event.fields),
        "outcome": event.outcome,
        "detail": event.detail,
    }


def compute_hash(event: AuditEvent, prev_hash: str) -> str:
    """SHA-256 of the canonical event content followed by the previous hash."""
    digest = hashlib.sha256(canonical(event_payload(event)).encode("utf-8"))
    digest.update(prev_hash.encode("ascii"))
    return digest.hexdigest()


_SQLITE_APPENDS = threading.RLock()


def log_event(
    *,
    actor: Any,
    action: str,
    resource: Any = None,
    api_key_prefix: str = "",
    rows: int = 0,
    fields: Iterable[str] = (),
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the chain. ``actor`` is a user, AnonymousUser or None."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    authenticated = getattr(actor, "is_authenticated", False)
    resource_code = getattr(resource, "code", resource) or ""
    if connection.vendor == "postgresql":
        return _append_postgres(
            actor_id=actor.pk if authenticated else None,
            actor=actor.get_username() if authenticated else "",
            api_key_prefix=api_key_prefix,
            action=action,
            resource_code=str(resource_code),
            rows=rows,
            fields=list(fields),
            outcome=outcome,
            detail=json.loads(json.dumps(detail or {}, default=str)),
        )
    # SQLite takes no row lock (SELECT … FOR UPDATE is ignored and transactions begin
    # deferred): two request threads of one process read the same head and took the same
    # sequence. Appends of a process go one at a time.
    with _SQLITE_APPENDS, transaction.atomic():
        head, _ = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        event = AuditEvent(
            sequence=head.sequence + 1,
            # Microseconds dropped so the ISO form survives every database round trip.
            created_at=timezone.now().replace(microsecond=0),
            actor_id=actor.pk if authenticated else None,
            actor=actor.get_username() if authenticated else "",
            api_key_prefix=api_key_prefix,
            action=action,
            resource_code=str(resource_code),
            rows=rows,
            fields=list(fields),
            outcome=outcome,
            # A JSON round trip keeps the stored detail identical to the hashed one.
            detail=json.loads(json.dumps(detail or {}, default=str)),
            prev_hash=head.hash,
        )
        event.hash = compute_hash(event, head.hash)
        event.save(force_insert=True)
        AuditChainHead.objects.filter(pk=1).update(sequence=event.sequence, hash=event.hash)
    return event


# One round trip: lock the head, insert the event hashed by the database (sha256 over the
# same canonical JSON; "sequence" sorts last, so Python renders everything before it), and
# move the head. Concurrent appends wait on the head row lock and then see the new head.
APPEND_SQL = """
WITH head AS (
    SELECT sequence, hash FROM permissions_auditchainhead WHERE id = 1 {relaxed}FOR UPDATE
), event AS (
    INSERT INTO permissions_auditevent (sequence, created_at, actor_id, actor,
        api_key_prefix, action, resource_code, rows, fields, outcome, detail, prev_hash, hash)
    SELECT head.sequence + 1, %(created_at)s, %(actor_id)s, %(actor)s, %(api_key_prefix)s,
        %(action)s, %(resource_code)s, %(rows)s, %(fields)s::jsonb, %(outcome)s,
        %(detail)s::jsonb, head.hash,
        encode(sha256(convert_to(
            %(prefix)s || (head.sequence + 1)::text || '}' || head.hash, 'UTF8')), 'hex')
    FROM head
    RETURNING id, sequence, prev_hash, hash
)
UPDATE permissions_auditchainhead SET sequence = event.sequence, hash = event.hash
FROM event WHERE permissions_auditchainhead.id = 1
RETURNING event.id, event.sequence, event.prev_hash, event.hash
"""
# Durable: the statement's own transaction waits for the WAL flush on commit.
DURABLE_APPEND_SQL = APPEND_SQL.replace("{relaxed}", "")
# Relaxed (read events only, see ``_relaxed``): the same statement also sets
# ``synchronous_commit = off`` for its own transaction (``set_config(…, true)`` is
# transaction-local and still in force when the implicit commit is recorded), so the commit
# does not wait for the WAL flush, with no extra round trip for SET/BEGIN/COMMIT.
RELAXED_APPEND_SQL = APPEND_SQL.replace(
    "{relaxed}", "AND set_config('synchronous_commit', 'off', true) IS NOT NULL "
)


def _relaxed(action: str, outcome: str) -> bool:
    """Whether this append may commit without waiting for the WAL flush.

    Only successful ``read``/``export`` events, only when ``HUB_AUDIT_SYNC_READS`` is off
    (the default), and only when the append is a transaction of its own (autocommit):
    inside a caller's transaction the setting would also relax the caller's writes, so
    the event then commits durably with them.
    """
    return (
        action in RELAXED_ACTIONS
        and outcome == "ok"
        and not getattr(settings, "HUB_AUDIT_SYNC_READS", False)
        and not connection.in_atomic_block
    )


def _append_postgres(**values: Any) -> AuditEvent:
    """PostgreSQL fast path of ``log_event`` (the head row exists since migration 0003)."""
    event = AuditEvent(sequence=0, created_at=timezone.now().replace(microsecond=0), **values)
    payload = event_payload(event)
    del payload["sequence"]
    prefix = canonical(payload)[:-1] + ',"sequence":'
    params = {
        **values,
        "created_at": event.created_at,
        "fields": json.dumps(values["fields"], ensure_ascii=False),
        "detail": json.dumps(values["detail"], ensure_ascii=False),
        "prefix": prefix,
    }
    relaxed = _relaxed(values["action"], values["outcome"])
    sql = RELAXED_APPEND_SQL if relaxed else DURABLE_APPEND_SQL
    # One statement: atomic on its own in autocommit, or part of the caller's transaction.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:  # Head row missing (e.g. a flushed test database): create it, retry.
        AuditChainHead.objects.get_or_create(pk=1)
        return _append_postgres(**values)
    event.pk, event.sequence, event.prev_hash, event.hash = row
    event._state.adding = False
    return event


# A read and its audit event in one statement (PostgreSQL): the page query runs as a
# materialised CTE, the event's ``rows`` is counted from it by the database and hashed with
# the rest, and the head moves as in APPEND_SQL. Data-modifying CTEs run exactly once and
# to completion whatever the outer query reads; the outer query returns one row per page
# row (or one row of NULLs for an empty page) after the event's columns, and no row at all
# when the chain head is missing, so an unlogged read cannot pass unnoticed.
READ_SQL = """
WITH page AS MATERIALIZED (
    SELECT q.*, row_number() OVER () AS hub_row FROM ({select}) AS q
), counted AS (
    SELECT LEAST(count(*), %s) AS n FROM page
), head AS (
    SELECT sequence, hash FROM permissions_auditchainhead WHERE id = 1 {relaxed}FOR UPDATE
), event AS (
    INSERT INTO permissions_auditevent (sequence, created_at, actor_id, actor,
        api_key_prefix, action, resource_code, rows, fields, outcome, detail, prev_hash, hash)
    SELECT head.sequence + 1, %s, %s, %s, %s, %s, %s, counted.n, %s::jsonb, %s, %s::jsonb,
        head.hash,
        encode(sha256(convert_to(%s || counted.n::text || ',"sequence":'
            || (head.sequence + 1)::text || '}' || head.hash, 'UTF8')), 'hex')
    FROM head, counted
    RETURNING id, sequence, prev_hash, hash, rows
), moved AS (
    UPDATE permissions_auditchainhead SET sequence = event.sequence, hash = event.hash
    FROM event WHERE permissions_auditchainhead.id = 1
)
SELECT event.id, event.sequence, event.prev_hash, event.hash, event.rows, page.*
FROM event LEFT JOIN page ON true
ORDER BY page.hub_row
"""


def read_and_log(
    select_sql: str,
    select_params: Iterable[Any],
    *,
    page_size: int,
    actor: Any,
    resource: Any,
    api_key_prefix: str = "",
    fields: Iterable[str] = (),
) -> tuple[list[tuple], AuditEvent] | None:
    """Run a read-only SELECT (at most ``page_size`` + 1 rows) and append its ``read``
    event, ``rows`` = min(rows selected, ``page_size``), in one statement.

    PostgreSQL only; returns None on other databases (the caller logs with ``log_event``).
    Same chain, hash and durability rules as ``log_event``: relaxed commit only in a
    transaction of its own. Saves the separate audit round trip and transaction of a page.
    """
    if connection.vendor != "postgresql":
        return None
    authenticated = getattr(actor, "is_authenticated", False)
    event = AuditEvent(
        sequence=0,
        created_at=timezone.now().replace(microsecond=0),
        actor_id=actor.pk if authenticated else None,
        actor=actor.get_username() if authenticated else "",
        api_key_prefix=api_key_prefix,
        action="read",
        resource_code=str(getattr(resource, "code", resource) or ""),
        rows=0,
        fields=list(fields),
        outcome="ok",
        detail={},
    )
    payload = event_payload(event)
    del payload["rows"], payload["sequence"]  # "rows" and "sequence" sort last.
    prefix = canonical(payload)[:-1] + ',"rows":'
    params = [
        *select_params,
        page_size,
        event.created_at,
        event.actor_id,
        event.actor,
        event.api_key_prefix,
        event.action,
        event.resource_code,
        json.dumps(event.fields, ensure_ascii=False),
        event.outcome,
        "{}",
        prefix,
    ]
    relaxed = "AND set_config('synchronous_commit', 'off', true) IS NOT NULL "
    sql = READ_SQL.replace("{relaxed}", relaxed if _relaxed("read", "ok") else "").replace(
        "{select}", select_sql
    )
    # Prepared where available: planning this statement costs more than running it.
    with prepared_statements(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        result = cursor.fetchall()
    if not result:  # Head row missing (e.g. a flushed test database): create it, retry.
        AuditChainHead.objects.get_or_create(pk=1)
        return read_and_log(
            select_sql,
            select_params,
            page_size=page_size,
            actor=actor,
            resource=resource,
            api_key_prefix=api_key_prefix,
            fields=fields,
        )
    event.pk, event.sequence, event.prev_hash, event.hash, event.rows = result[0][:5]
    event._state.adding = False
    rows = [row[5:-1] for row in result if row[-1] is not None]
    return rows, event


@dataclass(frozen=True)
class ChainReport:
    """Result of a chain verification: ``broken_at`` is the first bad sequence or None."""

    checked: int
    broken_at: int | None
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def verify_chain(chunk_size: int = 5000) -> ChainReport:
    """Walk the chain in order and report the first event whose link does not hold."""
    prev_hash = GENESIS
    expected_sequence = 1
    checked = 0
    events = AuditEvent.objects.order_by("sequence").iterator(chunk_size=chunk_size)
    for event in events:
        if event.sequence != expected_sequence:
            return ChainReport(checked, expected_sequence, "missing event (gap in sequence)")
        if event.prev_hash != prev_hash:
            return ChainReport(checked, event.sequence, "prev_hash does not match")
        if compute_hash(event, prev_hash) != event.hash:
            return ChainReport(checked, event.sequence, "content does not match its hash")
        prev_hash = event.hash
        expected_sequence += 1
        checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.sequence != checked:
        return ChainReport(checked, checked + 1, "chain head ahead of the log (events removed)")
    return ChainReport(checked, None)


def audit_catalog_change(sender, *, actor, action, resource, fields, detail, **kwargs):
    """Receiver of ``hub.catalog.signals.catalog_changed``: the catalog's writes join the
    chain in their own transaction."""
    return log_event(actor=actor, action=action, resource=resource, fields=fields, detail=detail)
