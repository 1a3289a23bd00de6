"""The push receipts' INSERT (推送回执写入): one statement, the rows as one JSON document.

Used by ``streaming.intake`` for every group of pushes it accepts; built once per process
(``warm_up`` builds it before the first push needs it).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

from django.db import connection

from streaming.models import PushReceipt


def insert_receipts(receipts) -> list[PushReceipt]:
    """Insert the receipts; on PostgreSQL skip those whose Idempotency-Key a receipt
    already holds (committed, or by a concurrent transaction: ON CONFLICT waits for it).
    The inserted ones, with their ids.

    On PostgreSQL the rows travel as one JSON document expanded by the server
    (``jsonb_to_recordset``) into a statement that never changes: a VALUES list of every
    receipt's fields made the driver split and quote a long new statement each time, which
    cost more than the insert (bench: ``bench_mqtt``'s bridge CPU).
    """
    receipts = list(receipts)
    if not receipts or connection.vendor != "postgresql":
        return PushReceipt.objects.bulk_create(receipts)
    sql = insert_statement()[1]
    with connection.cursor() as cursor:
        cursor.execute(sql, [document(receipts)])
        returned = cursor.fetchall()
    return matched(receipts, returned)


def matched(receipts: list[PushReceipt], returned) -> list[PushReceipt]:
    """The receipts the rows ``returned`` (RETURNING_COLUMNS) stand for, given their ids.

    RETURNING gives the inserted rows in the order of the document (as bulk_create
    assumes of VALUES); a skipped row is one whose key is held, so the next returned row
    is matched on."""
    inserted: list[PushReceipt] = []
    pending = iter(receipts)
    for pk, *identity in returned:
        for receipt in pending:
            if identity == [
                receipt.resource_id,
                receipt.department_id,
                receipt.idempotency_key,
                receipt.sha256,
                receipt.row_count,
            ]:
                receipt.pk = pk
                receipt._state.adding, receipt._state.db = False, connection.alias
                inserted.append(receipt)
                break
    return inserted


def document(receipts: list[PushReceipt]) -> str:
    """The receipts' rows as one JSON array; records already encoded are spliced in as
    their text (a JSON value, so the document stays valid JSON)."""
    fields = insert_statement()[0]
    parts = []
    for receipt in receipts:
        encoded = getattr(receipt, "encoded_records", "")
        row = {
            field.column: _json_value(field.pre_save(receipt, True))
            for field in fields
            if not (encoded and field.name == "records")
        }
        text = json.dumps(row, ensure_ascii=False)
        if encoded:
            text = f'{text[:-1]}, "{PushReceipt._meta.get_field("records").column}": {encoded}}}'
        parts.append(text)
    return f"[{','.join(parts)}]"


def warm_up() -> None:
    """Build the receipt INSERT (no query) before the first push needs it."""
    if connection.vendor == "postgresql":
        insert_statement()


def _json_value(value: Any) -> Any:
    # Instants in full precision (the server reads ISO 8601); JSON fields stay structures.
    return value.isoformat() if isinstance(value, datetime) else value


RETURNING_COLUMNS = ("id", "resource_id", "department_id", "idempotency_key", "sha256", "row_count")


@functools.cache
def gated_insert_statement() -> str:
    """INSERT … SELECT FROM jsonb_to_recordset(%s) WHERE {gate} RETURNING: no ON CONFLICT,
    so a held Idempotency-Key fails the whole statement (the caller settles such pushes
    another way); ``{gate}`` is the caller's condition."""
    meta = PushReceipt._meta
    fields = insert_statement()[0]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    shape = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    returning = ", ".join(quote(column) for column in RETURNING_COLUMNS)
    # SELECT *: the record set's columns are the insert's, in its order.
    return (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT *"  # noqa: S608
        f" FROM jsonb_to_recordset(%s::jsonb) AS x({shape}) WHERE {{gate}}"
        f" RETURNING {returning}"
    )


@functools.cache
def insert_statement() -> tuple[list, str]:
    """The receipt fields and the INSERT … SELECT FROM jsonb_to_recordset(%s) … ON
    CONFLICT DO NOTHING RETURNING statement (identifiers and types from the model)."""
    meta = PushReceipt._meta
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    quote = connection.ops.quote_name
    unique = next(c for c in meta.constraints if c.name == "push_receipt_idempotency_unique")
    conflict = ", ".join(quote(meta.get_field(name).column) for name in unique.fields)
    columns = ", ".join(quote(f.column) for f in fields)
    shape = ", ".join(f"{quote(f.column)} {f.db_type(connection)}" for f in fields)
    returning = ", ".join(quote(column) for column in RETURNING_COLUMNS)
    # The WHERE is the unique constraint's condition (idempotency_key <> '').
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({columns}) SELECT {columns}"  # noqa: S608
        f" FROM jsonb_to_recordset(%s::jsonb) AS x({shape})"
        f" ON CONFLICT ({conflict}) WHERE {quote('idempotency_key')} <> '' DO NOTHING"
        f" RETURNING {returning}"
    )
    return fields, sql
