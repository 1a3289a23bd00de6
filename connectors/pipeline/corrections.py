"""Partial acceptance (接受有效行) and correction batches.

All-or-nothing stays the default. A batch that accepts valid rows (its resource's
``accept_valid_rows`` setting, or the uploader's choice for one upload) loads its good
rows and ends ``partial``; its rejected rows are kept in a *correction batch* (status
``correction``, ``correction_of`` = the original) with the errors and the error report.
Uploading the corrected file against the correction batch (``corrects``) loads it
all-or-nothing; once loaded, the correction batch becomes ``corrected`` and the original
``loaded``. Both steps run inside the load's transaction and are audited.
"""

from __future__ import annotations

import hashlib

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog.models import DataResource
from hub.records.load_state import UpsertCounts
from hub.records.models import BatchStatus, UploadBatch
from hub.records.signals import batch_loaded


class CorrectionError(Exception):
    """The batch named as the one to correct cannot be corrected (400, names ``corrects``)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def correction_target(*, resource: DataResource, batch_id: int | str | None) -> UploadBatch | None:
    """The correction batch an upload corrects, checked: of this resource and still
    waiting for its correction. None when no batch is named."""
    if batch_id in (None, ""):
        return None
    try:
        number = int(batch_id)
    except (TypeError, ValueError) as exc:
        raise CorrectionError(_("更正批次必须是批次编号。")) from exc
    target = UploadBatch.objects.filter(pk=number, resource=resource).first()
    if target is None or target.status != BatchStatus.CORRECTION:
        raise CorrectionError(_("批次 #%(id)d 不是本资源待更正的批次。") % {"id": number})
    return target


def accepts_valid_rows(resource: DataResource, choice: bool | None) -> bool:
    """The upload's choice, else the resource's setting."""
    return resource.accept_valid_rows if choice is None else bool(choice)


def open_correction(*, batch: UploadBatch) -> UploadBatch:
    """Keep the rejected rows of a partial batch as its correction batch (in the load's
    transaction); the error report is attached once written."""
    digest = hashlib.sha256(f"correction:{batch.pk}:{batch.sha256}".encode()).hexdigest()
    correction = UploadBatch.objects.create(
        resource=batch.resource,
        department=batch.department,
        uploaded_by=batch.uploaded_by,
        api_key_prefix=batch.api_key_prefix,
        source=batch.source,
        original_filename=batch.original_filename,
        sheet=batch.sheet,
        sha256=digest,
        status=BatchStatus.CORRECTION,
        rows_read=batch.rejected,
        rejected=batch.rejected,
        errors=batch.errors,
        correction_of=batch,
        connector=batch.connector,
        connector_version=batch.connector_version,
        message=_("批次 #%(id)d 中被拒绝的 %(rows)d 行，待上传更正后的文件。")
        % {"id": batch.pk, "rows": batch.rejected},
        finished_at=timezone.now(),
    )
    _audit(batch, "correction_opened", correction=correction.pk)
    return correction


def complete_original(*, batch: UploadBatch) -> UploadBatch | None:
    """``batch`` (the corrected file) loaded: its correction batch becomes corrected and
    the original loaded. Returns the original, or None when there was nothing to do."""
    if batch.correction_of_id is None:
        return None
    correction = UploadBatch.objects.select_for_update().filter(pk=batch.correction_of_id).first()
    if correction is None or correction.status != BatchStatus.CORRECTION:
        return None
    correction.status = BatchStatus.CORRECTED
    correction.message = _("已由批次 #%(id)d 更正。") % {"id": batch.pk}
    correction.save(update_fields=["status", "message"])
    original = (
        UploadBatch.objects.select_for_update().filter(pk=correction.correction_of_id).first()
    )
    if original is None or original.status != BatchStatus.PARTIAL:
        return None
    original.status = BatchStatus.LOADED
    original.message = _(
        "已补齐：被拒绝的 %(rows)d 行经更正批次 #%(correction)d 以批次 #%(batch)d 入库。"
    ) % {"rows": original.rejected, "correction": correction.pk, "batch": batch.pk}
    original.save(update_fields=["status", "message"])
    _audit(original, "correction_completed", correction=correction.pk, corrected_by=batch.pk)
    return original


def finish_partial(
    *, batch: UploadBatch, counts: UpsertCounts, rejected: int, error_count: int
) -> UploadBatch:
    """The outcome of a load that accepted valid rows and rejected some (in the load's
    transaction; the pipeline saves ``batch``): status partial, a correction batch
    opened, the load announced on commit. No source-row fingerprints are kept: they
    would take the rejected rows for stored ones."""
    batch.status = BatchStatus.PARTIAL
    batch.inserted, batch.updated, batch.unchanged = (
        counts.inserted,
        counts.updated,
        counts.unchanged,
    )
    correction = open_correction(batch=batch)
    batch.message = _(
        "部分入库：新增 %(i)d，更新 %(u)d，未变 %(n)d；%(rows)d 行有错误（共 %(errors)d 处），"
        "已留作更正批次 #%(c)d。"
    ) % {
        "i": batch.inserted,
        "u": batch.updated,
        "n": batch.unchanged,
        "rows": rejected,
        "errors": error_count,
        "c": correction.pk,
    }
    if batch.inserted or batch.updated:
        DataResource.objects.filter(pk=batch.resource_id).update(last_loaded_at=batch.finished_at)
    transaction.on_commit(lambda: batch_loaded.send(sender=UploadBatch, batch=batch))
    return correction


def _audit(batch: UploadBatch, what: str, **detail) -> None:
    from permissions.audit import log_event

    log_event(
        actor=batch.uploaded_by,
        action="load",
        resource=batch.resource,
        api_key_prefix=batch.api_key_prefix,
        rows=batch.rejected,
        detail={"batch": batch.pk, "what": what, **detail},
    )
