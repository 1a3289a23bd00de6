"""A group of pushes stored by one statement (推送单语句提交).

``intake.accept_key_pushes`` stores a group in a transaction of several statements: the
key check, the door, the receipts' insert, the audit event and the commit, each a round
trip. Under load a web process's committer spends most of a group's time waiting for
those round trips (and for the GIL after each), not working.

Once a group commit has found a key usable and its resource open to it
(``intake.learned``), the next groups of that key and resource code are stored by a
single statement, its own transaction: the same key check and the same door (the SQL
``intake`` runs, compiled once), gating an insert of the receipts, and the audit event of
that insert (``permissions.audit_cte``). Everything is checked again by the database, in
the statement's snapshot: a revoked key or a closed door inserts nothing, and the group
goes the ordinary way, which answers and audits the refusal. So does a held
Idempotency-Key (a replay or a conflict: the insert fails as a whole), and any group this
path does not know. Nothing is decided on what was learned, only on what is read.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Any

from django.db import DatabaseError, IntegrityError, connection

from hub.catalog.restricted import write_service
from permissions.audit_cte import append_ctes
from permissions.models import ApiKeyScope
from streaming import intake, services
from streaming.idempotency import key_problem
from streaming.models import PushReceipt
from streaming.receipt_insert import (
    RETURNING_COLUMNS,
    document,
    gated_insert_statement,
    matched,
)

logger = logging.getLogger(__name__)


class _NotSettled:
    def __repr__(self) -> str:
        return "NOT_SETTLED"


# A push this path did not store: ``intake.accept_key_pushes`` settles it.
NOT_SETTLED: Any = _NotSettled()

# The key as ``intake.key_query`` reads it, usable now by the service user and department
# learned for it, with the push scope (``intake._usable_keys`` decides the same in Python).
_KEY_CHECK = """
SELECT 1 FROM ({key}) AS hub_k (id, prefix, expiry_date, user_id, department_id, scopes)
WHERE (hub_k.expiry_date IS NULL OR hub_k.expiry_date >= statement_timestamp())
    AND hub_k.user_id = %s AND hub_k.department_id = %s AND hub_k.scopes @> %s::jsonb
"""
_KEY_CHECK = " ".join(_KEY_CHECK.split())  # short: see permissions.audit_cte
_DOOR = "SELECT 1 FROM ({door}) AS hub_d (id) WHERE hub_d.id = %s"
# The audit detail, as ``intake._accept_all`` logs it: the receipts' ids, in order.
_DETAIL = (
    """SELECT '{"receipts":[' || string_agg(id::text, ',' ORDER BY id)"""
    """ || '],"source":"push"}' AS text FROM hub_receipts HAVING count(*) > 0"""
)
_RESULT = (
    "SELECT (SELECT json_agg(json_build_array({returning}) ORDER BY id) FROM hub_receipts),"
    " (SELECT id FROM audit_event), (SELECT count(*) FROM audit_moved)"
)


@write_service
def accept_learned(*, pushes: list[intake.KeyPush]) -> list[Any]:
    """Store the pushes whose key and resource code a group commit has learned, one
    statement per key and code; NOT_SETTLED for every other push. Outside a transaction
    on PostgreSQL only (the statement is its own transaction)."""
    outcomes: list[Any] = [NOT_SETTLED] * len(pushes)
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return outcomes
    targets: dict[tuple[str, str], list[int]] = {}
    for index, push in enumerate(pushes):
        targets.setdefault((push.api_key_id, push.code), []).append(index)
    for (key_id, code), positions in targets.items():
        learned = intake.learned(key_id, code)
        members = [pushes[i] for i in positions]
        if learned is None or not _plain(members):
            continue
        try:
            receipts, sql, params = _statement(key_id, learned, members)
        except Exception:  # nothing sent: the ordinary way
            logger.exception("push group statement not built: the ordinary way")
            continue
        try:
            with _prepared_cursor() as cursor:
                cursor.execute(sql, params)
                returned, event_id, moved = cursor.fetchone()
        except IntegrityError:
            continue  # an Idempotency-Key held: the ordinary way tells replay from conflict
        except DatabaseError:
            logger.warning("push group statement failed: the ordinary way", exc_info=True)
            if not connection.is_usable():
                connection.close()
            continue
        if not returned:
            intake.forget(key_id, code)  # refused: the ordinary way answers and audits
            continue
        # Committed: from here on these pushes are settled whatever happens.
        for index, receipt in zip(positions, _identified(receipts, returned), strict=True):
            outcomes[index] = services.PushAccepted(receipt=receipt)
        if event_id is None or moved != 1:
            # Cannot happen while the chain head exists (the gate reads it); were it
            # missing, receipts would stand without their event: say so loudly.
            logger.error("push receipts %s stored without their audit event", returned)
        try:
            services.schedule_flush(resource_id=learned.resource.pk)
        except Exception:  # stored and acknowledged: the sweeper loads what this missed
            logger.warning("push group statement: flush not scheduled", exc_info=True)
    return outcomes


def _plain(members: list[intake.KeyPush]) -> bool:
    """Pushes this path stores as they are: Idempotency-Keys well formed and not repeated
    within the group (a repeat is a replay or a conflict, for the ordinary way)."""
    keys = [push.idempotency_key for push in members if push.idempotency_key]
    if len(set(keys)) != len(keys):
        return False
    return all(key_problem(key) is None for key in keys)


def _statement(key_id: str, learned: intake.Learned, members: list[intake.KeyPush]):
    """The receipts of ``members`` and the statement (SQL, parameters) that stores them
    with their audit event when the key and the door still let them in, and else stores
    nothing. It returns the inserted rows, the event's id and the number of chain heads
    moved."""
    user = learned.user
    receipts = [
        _receipt(learned, push, services.records_digest(push.records, encoded=push.encoded))
        for push in members
    ]
    key_sql, key_params = intake.key_query().bound(key_id)
    door_sql, door_params = intake.door_query(user).bound(learned.resource.code)
    # The chain head too: receipts are never stored without their event.
    gate = (
        "EXISTS (SELECT 1 FROM hub_key) AND EXISTS (SELECT 1 FROM hub_door)"
        " AND EXISTS (SELECT 1 FROM permissions_auditchainhead WHERE id = 1)"
    )
    audit_sql, audit_params = append_ctes(
        actor=user,
        action="upload",
        resource_code=learned.resource.code,
        api_key_prefix=learned.prefix,
        rows=sum(receipt.row_count for receipt in receipts),
        detail_sql=_DETAIL,
    )
    returning = ", ".join(connection.ops.quote_name(c) for c in RETURNING_COLUMNS)
    sql = (
        f"WITH hub_key AS ({_KEY_CHECK.format(key=key_sql)}),"
        f" hub_door AS ({_DOOR.format(door=door_sql)}),"
        f" hub_receipts AS ({gated_insert_statement().replace('{gate}', gate)}),"
        f" {audit_sql} {_RESULT.format(returning=returning)}"
    )
    params = [
        *key_params,
        user.pk,
        learned.key_department_id,
        json.dumps([ApiKeyScope.PUSH.value]),
        *door_params,
        learned.resource.pk,
        document(receipts),
        *audit_params,
    ]
    return receipts, sql, params


def _prepared_cursor():
    """A cursor binding parameters on the server, and preparing what it runs: the
    statement of a key and resource is the same text every time (only its parameters
    change), so the server parses and plans it once per connection. Django's
    wrappers are kept (query logging, ``execute_wrapper``)."""
    connection.ensure_connection()
    return connection._prepare_cursor(_prepared_class()(connection.connection))


@functools.cache
def _prepared_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparedCursor(ServerBindingCursor):
        def execute(self, query, params=None, *, prepare=None, binary=None):
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparedCursor


def _identified(receipts: list[PushReceipt], returned: list) -> list[PushReceipt]:
    """The receipts with the ids the statement gave them (in the document's order)."""
    if len(matched(receipts, returned)) != len(receipts):
        logger.error("push group statement: returned rows do not match; ids by position")
        for receipt, (pk, *_) in zip(receipts, returned, strict=False):
            receipt.pk = pk
            receipt._state.adding, receipt._state.db = False, connection.alias
    return receipts


def _receipt(learned: intake.Learned, push: intake.KeyPush, sha256: str) -> PushReceipt:
    receipt = PushReceipt(
        resource=learned.resource,
        department=learned.department,
        pushed_by=learned.user,
        api_key_prefix=learned.prefix[:16],
        idempotency_key=push.idempotency_key,
        sha256=sha256,
        records=push.records,
        row_count=len(push.records),
    )
    receipt.encoded_records = push.encoded
    return receipt
