"""A window's claim (领取): the resource's oldest waiting receipts become one batch.

The receipts are read as plain values and their records joined into the batch's JSON by
the database where it can (decoding them into Python and encoding them again, and
Django's ``bulk_update`` with a CASE of every receipt for every field, cost more than
the window's load on the worker).
"""

from __future__ import annotations

import json
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from connectors import services as ingest
from hub.catalog.models import DataResource, Department
from hub.records.models import BatchSource, UploadBatch
from streaming.models import PushReceipt, ReceiptStatus


def max_rows() -> int:
    """Rows one coalesced load takes at most (HUB_PUSH_MAX_ROWS)."""
    return int(getattr(settings, "HUB_PUSH_MAX_ROWS", 20_000))


# At most this many waiting receipts are read per claim.
READ_AT_MOST = 5000


class Claimed(NamedTuple):
    """A claim's batch, its receipts, and whether receipts it read were left waiting
    (another department's, a solo one, or beyond the batch's rows)."""

    batch: UploadBatch
    receipt_ids: list[int]
    more_waiting: bool


def claim(resource_id: int) -> Claimed | None:
    """Take the resource's oldest waiting receipts (one department, up to max_rows rows,
    stopping before a solo receipt) and write them as one batch, in one transaction."""
    limit = max_rows()
    with transaction.atomic():
        waiting = (
            PushReceipt.objects.select_for_update(skip_locked=True)
            .filter(resource_id=resource_id, status=ReceiptStatus.ACCEPTED)
            .order_by("id")
            .values_list(
                "pk", "solo", "department_id", "row_count", "pushed_by_id", "api_key_prefix"
            )
        )
        read_at_most = min(limit, READ_AT_MOST)
        listed = list(map(_Waiting._make, waiting[:read_at_most]))
        taken: list[_Waiting] = []
        rows = 0
        for receipt in listed:
            if taken and (
                receipt.solo
                or taken[0].solo
                or receipt.department_id != taken[0].department_id
                or rows + receipt.row_count > limit
            ):
                break
            taken.append(receipt)
            rows += receipt.row_count
        if not taken:
            return None
        starts: dict[int, int] = {}
        position = 1
        for receipt in taken:
            starts[receipt.pk] = position
            position += receipt.row_count
        first = taken[0]
        users = {r.pushed_by_id for r in taken}
        prefixes = {r.api_key_prefix for r in taken}
        uploaded_by = None
        if len(users) == 1 and first.pushed_by_id is not None:
            uploaded_by = get_user_model()._base_manager.filter(pk=first.pushed_by_id).first()
        upload = ingest.create_batch(
            resource=DataResource._base_manager.get(pk=resource_id),
            department=Department._base_manager.get(pk=first.department_id),
            uploaded_by=uploaded_by,
            api_key_prefix=prefixes.pop() if len(prefixes) == 1 else "",
            source=BatchSource.API,
            file=ContentFile(_joined_records([r.pk for r in taken])),
            original_filename=f"push-{first.pk}-{taken[-1].pk}.json",
        )
        batch = upload.batch
        _mark_claimed(taken, batch=batch, starts=starts)
    more = len(taken) < len(listed) or len(listed) == read_at_most
    return Claimed(batch, [r.pk for r in taken], more)


class _Waiting(NamedTuple):
    pk: int
    solo: bool
    department_id: int
    row_count: int
    pushed_by_id: int | None
    api_key_prefix: str


def _joined_records(ids: list[int]) -> bytes:
    """The records of the receipts ``ids``, in receipt order, as one JSON array."""
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(PushReceipt._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT coalesce(jsonb_agg(e.value ORDER BY r.id, e.ordinality), '[]')::text"  # noqa: S608
                f" FROM {table} r CROSS JOIN LATERAL jsonb_array_elements(r.records)"
                " WITH ORDINALITY e WHERE r.id = ANY(%s)",
                [ids],
            )
            return cursor.fetchone()[0].encode("utf-8")
    records: list[dict[str, Any]] = []
    for part in (
        PushReceipt.objects.filter(pk__in=ids).order_by("id").values_list("records", flat=True)
    ):
        records.extend(part)
    return json.dumps(records, ensure_ascii=False).encode("utf-8")


def _mark_claimed(taken: list, *, batch: UploadBatch, starts: dict[int, int]):
    """The window's receipts loading in ``batch``, each with its first row in it. On
    PostgreSQL one UPDATE from the arrays of ids and first rows: every receipt row is
    written once (each write of a receipt also writes its indexes), and Django's
    bulk_update would build a CASE of every receipt for every field."""
    ids = [receipt.pk for receipt in taken]
    now = timezone.now()
    if connection.vendor != "postgresql":
        PushReceipt.objects.filter(pk__in=ids).update(
            status=ReceiptStatus.LOADING, batch=batch, claimed_at=now, attempts=F("attempts") + 1
        )
        for pk, start in starts.items():
            PushReceipt.objects.filter(pk=pk).update(batch_row=start)
        return
    table = connection.ops.quote_name(PushReceipt._meta.db_table)
    with connection.cursor() as cursor:
        for offset in range(0, len(ids), 5000):
            chunk = ids[offset : offset + 5000]
            cursor.execute(
                f"UPDATE {table} SET status = %s, batch_id = %s, claimed_at = %s,"  # noqa: S608
                " attempts = attempts + 1, batch_row = v.start"
                " FROM unnest(%s::bigint[], %s::int[]) AS v(id, start)"
                f" WHERE {table}.id = v.id",
                [ReceiptStatus.LOADING.value, batch.pk, now, chunk, [starts[pk] for pk in chunk]],
            )
