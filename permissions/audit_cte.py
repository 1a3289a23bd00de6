"""An audit append inside a caller's statement (审计追加子句).

``log_event`` appends in its own statement. A caller that writes with one statement (the
push front's group commit, ``streaming.group_statement``) appends the event of that write
in the same statement instead: the write and its event commit together or not at all,
with no round trip of their own. The event's ``detail`` is computed by the statement
(e.g. the ids it inserted) and hashed with the rest, exactly as ``log_event`` hashes it,
so ``verify_chain`` cannot tell the two apart.
"""

from __future__ import annotations

import json
from typing import Any

from django.utils import timezone

from permissions.audit import canonical, event_payload
from permissions.models import AuditEvent

# Stands for the detail while the rest of the payload is rendered.
_DETAIL_MARK = "\x00detail\x00"

# Common table expressions to follow the caller's own: ``{detail}`` is a query giving one
# row with the canonical JSON of the detail as ``text``, and no row when there is nothing
# to log; ``{gate}`` a condition that must hold for the event to be appended. The head is
# locked and moved as in ``audit.APPEND_SQL``; ``audit_event`` returns the event's id,
# sequence and hash.
APPEND_CTES = """
audit_detail AS ({detail}),
audit_head AS (
    SELECT sequence, hash FROM permissions_auditchainhead
    WHERE id = 1 AND ({gate}) AND EXISTS (SELECT 1 FROM audit_detail) FOR UPDATE
), audit_event AS (
    INSERT INTO permissions_auditevent (sequence, created_at, actor_id, actor,
        api_key_prefix, action, resource_code, rows, fields, outcome, detail, prev_hash, hash)
    SELECT audit_head.sequence + 1, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s,
        audit_detail.text::jsonb, audit_head.hash,
        encode(sha256(convert_to(%s || audit_detail.text || %s
            || (audit_head.sequence + 1)::text || '}' || audit_head.hash, 'UTF8')), 'hex')
    FROM audit_head, audit_detail
    RETURNING id, sequence, hash
), audit_moved AS (
    UPDATE permissions_auditchainhead SET sequence = audit_event.sequence,
        hash = audit_event.hash
    FROM audit_event WHERE permissions_auditchainhead.id = 1
    RETURNING permissions_auditchainhead.id
)"""
# On one line: a caller's statement stays short enough for the driver to cache its
# conversion (psycopg keeps statements up to 4 kB); no literal above holds a space.
APPEND_CTES = " ".join(APPEND_CTES.split())


def append_ctes(
    *,
    actor: Any,
    action: str,
    resource_code: str,
    api_key_prefix: str = "",
    rows: int = 0,
    fields: tuple[str, ...] = (),
    outcome: str = "ok",
    detail_sql: str,
    gate_sql: str = "TRUE",
) -> tuple[str, list[Any]]:
    """The CTEs (``APPEND_CTES``) and their parameters, in order, for an event of
    ``actor`` whose detail the statement computes with ``detail_sql`` (parameterless;
    one row whose ``text`` is the detail as canonical JSON: sorted keys, no spaces)."""
    authenticated = getattr(actor, "is_authenticated", False)
    values = {
        "actor_id": actor.pk if authenticated else None,
        "actor": actor.get_username() if authenticated else "",
        "api_key_prefix": api_key_prefix,
        "action": action,
        "resource_code": str(resource_code),
        "rows": rows,
        "fields": list(fields),
        "outcome": outcome,
    }
    # Microseconds dropped so the ISO form survives every database round trip.
    created_at = timezone.now().replace(microsecond=0)
    event = AuditEvent(sequence=0, created_at=created_at, detail=_DETAIL_MARK, **values)
    payload = event_payload(event)
    del payload["sequence"]  # sorts last: the statement appends it, then the previous hash
    before, after = canonical(payload)[:-1].split(json.dumps(_DETAIL_MARK), 1)
    sql = APPEND_CTES.replace("{detail}", detail_sql).replace("{gate}", gate_sql)
    params = [
        created_at,
        values["actor_id"],
        values["actor"],
        values["api_key_prefix"],
        values["action"],
        values["resource_code"],
        values["rows"],
        json.dumps(values["fields"], ensure_ascii=False),
        values["outcome"],
        before,
        after + ',"sequence":',
    ]
    return sql, params
