"""Verdicts of the pushes of one final window batch (``finish_batch``).

A ``loaded`` batch loads every push. A ``partial`` batch (a resource that accepts valid
rows, ``connectors.pipeline.corrections``) stored its good rows and kept the bad ones in a
correction batch: each push gets its own verdict from the rows the batch blamed on it:
none → loaded, some → partial, all → rejected, with its own row errors. A ``rejected``
or ``failed`` shared batch stored nothing: its pushes go back to the queue, those with
errors to be loaded alone, the others together again.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.records.models import BatchStatus, UploadBatch
from streaming.models import PushReceipt, ReceiptStatus

__all__ = ["errors_by_receipt", "finish_batch"]


def errors_by_receipt(batch: UploadBatch, receipts: list[PushReceipt]) -> dict[int, list]:
    """The batch's row errors, each given to the push holding its row (rebased to it)."""
    found: dict[int, list] = {r.pk: [] for r in receipts}
    for error in batch.errors or []:
        row = int(error.get("row") or 0)
        for receipt in receipts:
            if receipt.batch_row <= row < receipt.batch_row + receipt.row_count:
                found[receipt.pk].append({**error, "row": row - receipt.batch_row + 1})
                break
    return found


def finish_batch(*, batch_id: int) -> dict[str, int]:
    """Give the receipts of a final batch their verdicts (idempotent; a batch not final
    yet is left alone). Returns how many receipts took each verdict."""
    with transaction.atomic():
        batch = UploadBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None or not batch.is_final:
            return {}
        loading = PushReceipt.objects.filter(batch_id=batch_id, status=ReceiptStatus.LOADING)
        if batch.status == BatchStatus.LOADED:
            # One UPDATE (it locks what it writes): reading the window's receipts into
            # Python first cost as much again.
            loaded = loading.update(
                status=ReceiptStatus.LOADED, finished_at=timezone.now(), records=[]
            )
            return {ReceiptStatus.LOADED: loaded} if loaded else {}
        # Not their records: the batch's file holds them, and decoding them again cost
        # a good part of a window's load.
        receipts = list(loading.select_for_update().defer("records").order_by("batch_row"))
        if not receipts:
            return {}
        if batch.status == BatchStatus.PARTIAL:
            return _settle_partial(batch, receipts)
        if len(receipts) == 1 or all(r.solo for r in receipts):
            return _settle_alone(batch, receipts)
        _requeue(batch, receipts)
        return {}


def _settle_partial(batch: UploadBatch, receipts: list[PushReceipt]) -> dict[str, int]:
    """Each push of a partially loaded batch: loaded, partial or rejected by its own rows.

    The batch keeps at most MAX_STORED_ERRORS errors: when the rows they name are fewer
    than the rows it rejected, a push after the last named row may hold unnamed ones;
    its verdict says so and points to the correction batch (which holds every bad row).
    """
    now = timezone.now()
    errors = errors_by_receipt(batch, receipts)
    correction = batch.corrections.order_by("pk").values_list("pk", flat=True).first()
    named = {int(e.get("row") or 0) for e in batch.errors or []}
    last_named = max(named, default=0)
    truncated = len(named) < batch.rejected
    counts: dict[str, int] = {}
    for receipt in receipts:
        mine = errors[receipt.pk]
        bad = len({e["row"] for e in mine})
        if bad >= receipt.row_count:
            verdict = ReceiptStatus.REJECTED
            message = _("本次推送的 %(bad)d 行均有错误，未入库，已留作更正批次 #%(c)s。") % {
                "bad": bad,
                "c": correction,
            }
        elif bad:
            verdict = ReceiptStatus.PARTIAL
            message = _(
                "部分入库：%(ok)d 行已入库；%(bad)d 行有错误，未入库，已留作更正批次 #%(c)s。"
            ) % {"ok": receipt.row_count - bad, "bad": bad, "c": correction}
        else:
            verdict = ReceiptStatus.LOADED
            message = ""
            if truncated and receipt.batch_row > last_named:
                message = _(
                    "所在批次错误过多，未逐条列出；本次推送可能有未列出的错误行，"
                    "见更正批次 #%(c)s 的错误报告。"
                ) % {"c": correction}
        fields = {"status": verdict, "finished_at": now, "errors": mine, "message": message}
        if verdict != ReceiptStatus.REJECTED:
            fields["records"] = []  # stored, or kept by the correction batch
        PushReceipt.objects.filter(pk=receipt.pk).update(**fields)
        counts[verdict] = counts.get(verdict, 0) + 1
    return counts


def _settle_alone(batch: UploadBatch, receipts: list[PushReceipt]) -> dict[str, int]:
    """A batch of one push (or of pushes set apart) that stored nothing: its verdict."""
    now = timezone.now()
    verdict = (
        ReceiptStatus.REJECTED if batch.status == BatchStatus.REJECTED else ReceiptStatus.FAILED
    )
    errors = errors_by_receipt(batch, receipts)
    for receipt in receipts:
        mine = errors[receipt.pk] or [e for e in batch.errors or [] if not int(e.get("row") or 0)]
        PushReceipt.objects.filter(pk=receipt.pk).update(
            status=verdict, finished_at=now, errors=mine, message=batch.message
        )
    return {verdict: len(receipts)}


def _requeue(batch: UploadBatch, receipts: list[PushReceipt]) -> None:
    """A shared batch that stored nothing: the pushes its errors blame wait to be loaded
    alone, the others together again (in push order, so later pushes of a key win)."""
    ids = {r.pk for r in receipts}
    blamed = {pk for pk, found in errors_by_receipt(batch, receipts).items() if found}
    # Errors no push can be blamed for (a whole-file error): everyone alone.
    solo = blamed or ids
    PushReceipt.objects.filter(pk__in=solo).update(
        status=ReceiptStatus.ACCEPTED, solo=True, batch=None, batch_row=0
    )
    PushReceipt.objects.filter(pk__in=ids - solo).update(
        status=ReceiptStatus.ACCEPTED, batch=None, batch_row=0
    )
