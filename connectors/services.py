"""Writes of the ingest side: every upload (admin, REST, CLI, pull) goes through here.

Keyword-only, typed and atomic. ``create_batch`` stores a file (streamed, hashed, size
capped) as a batch in status received; ``submit_batch`` enqueues its load on commit;
``ingest_records`` does both for JSON pushes; ``run_batch`` (from the pipeline) loads.
One place for all of them, so the audit log can hook in once.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connectors.pipeline import corrections
from connectors.pipeline.load import mark_failed, run_batch
from connectors.tasks import enqueue_load, sweep_stuck_batches
from hub.catalog.models import DataResource, Department
from hub.records.idempotency import key_problem
from hub.records.models import BatchSource, BatchStatus, UploadBatch

__all__ = [
    "IdempotencyConflict",
    "UploadResult",
    "UploadTooLarge",
    "create_batch",
    "enqueue_load",
    "ingest_records",
    "mark_failed",
    "run_batch",
    "submit_batch",
    "sweep_stuck_batches",
]


BLOCK = 1 << 20
RETRYABLE = (BatchStatus.FAILED, BatchStatus.REJECTED)


class UploadTooLarge(Exception):
    """The upload exceeds settings.HUB_MAX_UPLOAD_BYTES; nothing was stored."""

    def __init__(self, limit: int):
        self.limit = limit
        self.message = _("文件超过上传上限 %(mb)d MB。") % {"mb": limit // (1024 * 1024)}
        super().__init__(self.message)


class IdempotencyConflict(Exception):
    """The Idempotency-Key was already used for a different payload (HTTP 409)."""

    def __init__(self, batch: UploadBatch):
        self.batch = batch
        self.message = _("幂等键已用于批次 #%(id)d 的不同内容。") % {"id": batch.pk}
        super().__init__(self.message)


@dataclass(frozen=True)
class UploadResult:
    """What an upload did: the batch holding its content and, when that content was
    already held by an earlier batch that did not fail (a no-op), that batch's id and
    a message saying so."""

    batch: UploadBatch
    duplicate_of: int | None = None
    message: str = ""

    @property
    def is_duplicate(self) -> bool:
        return self.duplicate_of is not None


class _Spooled(File):
    """A spooled temporary file the storage can move into place instead of copying."""

    def temporary_file_path(self) -> str:
        return self.name


def source_for(filename: str) -> str:
    """The batch source implied by a file name (CSV unless it says otherwise)."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return BatchSource.XLSX
    if suffix == ".json":
        return BatchSource.JSON
    return BatchSource.CSV


def _blocks(file: Any) -> Iterator[bytes]:
    """Read an UploadedFile, a path or a binary file object in 1 MiB blocks."""
    if isinstance(file, str | os.PathLike):
        with open(file, "rb") as handle:
            yield from iter(lambda: handle.read(BLOCK), b"")
    elif hasattr(file, "chunks"):
        yield from file.chunks(BLOCK)
    else:
        yield from iter(lambda: file.read(BLOCK), b"")


def _spool(file: Any) -> tuple[str, str]:
    """Stream the upload to a temporary file under MEDIA_ROOT; return (path, sha256)."""
    limit = settings.HUB_MAX_UPLOAD_BYTES
    spool_dir = Path(settings.MEDIA_ROOT) / "tmp"
    spool_dir.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle: IO[bytes]
    fd, path = tempfile.mkstemp(dir=spool_dir, suffix=".upload")
    try:
        with os.fdopen(fd, "wb") as handle:
            for block in _blocks(file):
                size += len(block)
                if size > limit:
                    raise UploadTooLarge(limit)
                digest.update(block)
                handle.write(block)
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise
    return path, digest.hexdigest()


def _live_batch(resource: DataResource, sha256: str, sheet: str = "") -> UploadBatch | None:
    """The batch holding this content (and sheet choice) for the resource (failed and
    rejected ones don't count)."""
    return (
        UploadBatch.objects.filter(resource=resource, sha256=sha256, sheet=sheet)
        .exclude(status__in=RETRYABLE)
        .order_by("id")
        .first()
    )


def _as_duplicate(batch: UploadBatch) -> UploadResult:
    """An existing batch, returned for identical content, as a no-op that says so."""
    message = _("相同文件已在批次 #%(id)d 中上传，未重复入库。") % {"id": batch.pk}
    return UploadResult(batch=batch, duplicate_of=batch.pk, message=message)


def _store(*, content: File, name: str, **fields: Any) -> UploadResult:
    """Create the batch row and move the file into storage, or return the live twin."""
    resource, sha256, sheet = fields["resource"], fields["sha256"], fields.get("sheet", "")
    batch = UploadBatch(**fields)
    try:
        with transaction.atomic():
            batch.file.save(name, content, save=False)
            batch.save()
    except IntegrityError:
        # Two identical uploads raced; the unique constraint let exactly one through.
        if batch.file.name:
            batch.file.storage.delete(batch.file.name)
        twin = _live_batch(resource, sha256, sheet)
        if twin is None:
            raise
        return _as_duplicate(twin)
    return UploadResult(batch=batch)


def audit_upload(
    *, result: UploadResult, actor: Any, action: str = "upload", rechosen: bool = False
) -> None:
    """One audit event per upload accepted (or recognised as a duplicate). ``rechosen``: the
    upload reused a batch not yet loaded and changed its load choices."""
    from permissions.audit import log_event

    batch = result.batch
    detail = {
        "batch": batch.pk,
        "source": batch.source,
        "filename": batch.original_filename,
        "sha256": batch.sha256,
        "duplicate_of": result.duplicate_of,
    }
    if rechosen:
        detail |= {
            "accept_valid_rows": batch.accept_valid_rows,
            "correction_of": batch.correction_of_id,
        }
    log_event(
        actor=actor,
        action=action,
        resource=batch.resource,
        api_key_prefix=batch.api_key_prefix,
        detail=detail,
    )


def _rechoose(batch: UploadBatch, *, accept_valid_rows: bool, corrects: UploadBatch | None) -> bool:
    """The load choices of a batch still in status received, as the latest upload asked.
    True when they changed; a worker that took the batch meanwhile keeps its choices."""
    wanted = {
        "accept_valid_rows": accept_valid_rows,
        "correction_of_id": getattr(corrects, "pk", None),
    }
    if all(getattr(batch, name) == value for name, value in wanted.items()):
        return False
    updated = UploadBatch.objects.filter(pk=batch.pk, status=BatchStatus.RECEIVED).update(**wanted)
    batch.refresh_from_db()
    return bool(updated)


def create_batch(
    *,
    resource: DataResource,
    department: Department,
    uploaded_by: AbstractBaseUser | None = None,
    api_key_prefix: str = "",
    source: str = "",
    file: Any,
    original_filename: str,
    sheet: str = "",
    accept_valid_rows: bool | None = None,
    corrects: UploadBatch | None = None,
) -> UploadResult:
    """Store an upload as a batch in status received (not yet enqueued).

    ``accept_valid_rows``: load the good rows and keep the rejected ones as a correction
    batch (None: the resource's setting). ``corrects``: the correction batch this file
    corrects (``connectors.pipeline.corrections.correction_target``); it loads all-or-nothing.

    ``sheet`` picks an XLSX sheet by name or 1-based number (empty: the first sheet with
    a header); the same file with another sheet is another batch.

    The file is streamed to storage while its SHA-256 is computed; above
    HUB_MAX_UPLOAD_BYTES it raises UploadTooLarge. When the same content is already held
    by a batch of this resource that did not fail, the result names that batch in
    ``duplicate_of`` (a batch still in status received is simply reused).
    """
    sheet = sheet.strip()[:100]
    path, sha256 = _spool(file)
    existing = _live_batch(resource, sha256, sheet)
    if existing is not None:
        Path(path).unlink(missing_ok=True)
        if existing.status == BatchStatus.RECEIVED:
            # Not loaded yet: the upload's choices are the ones to load it with. The preview
            # of an all-or-nothing batch with bad rows asks for the same file again with
            # 只导入有效行; keeping the old choice led back to the same refusal.
            with transaction.atomic():
                rechosen = _rechoose(
                    existing,
                    accept_valid_rows=corrects is None
                    and corrections.accepts_valid_rows(resource, accept_valid_rows),
                    corrects=corrects,
                )
                result = UploadResult(batch=existing)
                audit_upload(result=result, actor=uploaded_by, rechosen=rechosen)
            return result
        duplicate = _as_duplicate(existing)
        audit_upload(result=duplicate, actor=uploaded_by)
        return duplicate
    with open(path, "rb") as handle:
        result = _store(
            content=_Spooled(handle, name=path),
            name=Path(original_filename).name or "upload",
            resource=resource,
            department=department,
            uploaded_by=uploaded_by if getattr(uploaded_by, "pk", None) else None,
            api_key_prefix=api_key_prefix[:16],
            source=source or source_for(original_filename),
            original_filename=Path(original_filename).name[:255],
            sha256=sha256,
            sheet=sheet,
            accept_valid_rows=corrects is None
            and corrections.accepts_valid_rows(resource, accept_valid_rows),
            correction_of=corrects,
        )
    Path(path).unlink(missing_ok=True)
    audit_upload(result=result, actor=uploaded_by)
    return result


def submit_batch(*, batch: UploadBatch) -> UploadBatch:
    """Enqueue the batch's load once the current transaction commits (eager: in-process)."""
    if batch.status == BatchStatus.RECEIVED:
        batch_id = batch.pk
        # The mark tells the sweeper this batch was meant to run (a preview is not).
        batch.timings = {**batch.timings, "submitted_at": timezone.now().isoformat()}
        UploadBatch.objects.filter(pk=batch_id).update(timings=batch.timings)
        transaction.on_commit(lambda: enqueue_load(batch_id))
    return batch


def upload_file(**kwargs: Any) -> UploadResult:
    """create_batch then submit_batch, unless the content was already loaded."""
    result = create_batch(**kwargs)
    if not result.is_duplicate:
        submit_batch(batch=result.batch)
    return result


def ingest_records(
    *,
    resource: DataResource,
    department: Department,
    records: list[dict[str, Any]],
    user: AbstractBaseUser | None = None,
    api_key_prefix: str = "",
    idempotency_key: str = "",
    accept_valid_rows: bool | None = None,
) -> UploadResult:
    """Store pushed JSON records as a batch (source api) and enqueue its load.

    ``accept_valid_rows`` as for ``create_batch`` (None: the resource's setting).

    The same ``idempotency_key`` for the same resource returns the earlier batch without
    loading again; reused with a different payload it raises IdempotencyConflict.
    """
    if (problem := key_problem(idempotency_key)) is not None:
        raise ValueError(problem)  # the view answers 400 first; never cut to fit
    payload = json.dumps(records, ensure_ascii=False, sort_keys=True).encode("utf-8")
    sha256 = hashlib.sha256(payload).hexdigest()
    if idempotency_key:
        earlier = (
            UploadBatch.objects.filter(resource=resource, idempotency_key=idempotency_key)
            .order_by("id")
            .first()
        )
        if earlier is not None:
            if earlier.sha256 != sha256:
                raise IdempotencyConflict(earlier)
            duplicate = _as_duplicate(earlier)
            audit_upload(result=duplicate, actor=user)
            return duplicate
    existing = _live_batch(resource, sha256)
    if existing is not None:
        duplicate = _as_duplicate(existing)
        audit_upload(result=duplicate, actor=user)
        return duplicate
    result = _store(
        content=ContentFile(payload),
        name="records.json",
        resource=resource,
        department=department,
        uploaded_by=user if getattr(user, "pk", None) else None,
        api_key_prefix=api_key_prefix[:16],
        source=BatchSource.API,
        original_filename="records.json",
        sha256=sha256,
        idempotency_key=idempotency_key,
        accept_valid_rows=corrections.accepts_valid_rows(resource, accept_valid_rows),
    )
    audit_upload(result=result, actor=user)
    if not result.is_duplicate:
        submit_batch(batch=result.batch)
    return result
