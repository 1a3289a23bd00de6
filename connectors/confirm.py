"""The steward's go on a previewed upload, and loads that run outside the request.

``confirm_batch`` is the write behind the preview's buttons: an all-or-nothing batch
whose preview already shows rejected rows would only be rejected, so it is refused with
the reason; the steward fixes the file, or chooses for this upload to accept the valid
rows (``connectors.pipeline.corrections``: the good rows load, the bad ones wait in a correction
batch). A corrected file (``correction_of``) always loads all-or-nothing.

Progress on every setup: with a broker, the load runs on a worker and the result page
polls it. On the embedded default (``CELERY_TASK_ALWAYS_EAGER``: tasks in-process) an
enqueued load would run inside the confirming request, and the page would hang with no
progress until it ends; ``HUB_BACKGROUND_LOADS`` (default on) runs it in a thread of the
web process instead, after the request's commit, so the confirm answers at once and the
result page polls the batch (status, rows read so far: ``connectors.pipeline.progress``). A
process stopped mid-load leaves the batch in parsing, rolled back; it can be uploaded
again.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from celery import current_app
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import InterfaceError, OperationalError, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hub.records.models import BatchStatus, UploadBatch

logger = logging.getLogger(__name__)

_threads: dict[int, threading.Thread] = {}


class ConfirmRefused(Exception):
    """The batch cannot be confirmed as asked; ``message`` says why (shown on the page)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ConfirmResult:
    """A confirmed batch, whether it accepts valid rows, and whether it loads in a thread."""

    batch: UploadBatch
    accept_valid_rows: bool
    background: bool


def refusal(*, batch: UploadBatch, known_errors: int) -> str:
    """Why confirming ``batch`` as it stands is refused ("" when it is not): the preview
    shows ``known_errors`` rejected rows and the batch is all-or-nothing."""
    if not known_errors or batch.accept_valid_rows:
        return ""
    if batch.correction_of_id is not None:
        return _(
            "预览中已有 %(rows)d 行有错误。更正文件须整批入库，确认必然被拒绝："
            "请改正红色单元格后重新上传。"
        ) % {"rows": known_errors}
    return _(
        "预览中已有 %(rows)d 行有错误，整批入库必然被拒绝，因此不提供确认入库：请改正红色单元格后"
        "重新上传，或选择“只加载有效行”（有错误的行留作更正批次）。"
    ) % {"rows": known_errors}


def confirm_batch(
    *,
    batch: UploadBatch,
    user: AbstractBaseUser,
    known_errors: int,
    accept_valid_rows: bool = False,
) -> ConfirmResult:
    """Confirm a previewed (received) batch: record the choice, audit, submit its load.

    ``known_errors``: rejected rows the preview found. ``accept_valid_rows``: the
    steward's choice for this upload (refused for a corrected file). Raises
    :class:`ConfirmRefused` when the load could only be rejected.
    """
    accept = batch.accept_valid_rows or accept_valid_rows
    if accept_valid_rows and batch.correction_of_id is not None:
        raise ConfirmRefused(_("更正文件须整批入库，不能只加载有效行。"))
    reason = refusal(batch=batch, known_errors=0 if accept else known_errors)
    if reason:
        raise ConfirmRefused(reason)
    background = runs_in_background()
    with transaction.atomic():
        locked = UploadBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status != BatchStatus.RECEIVED:
            return ConfirmResult(batch=locked, accept_valid_rows=accept, background=False)
        locked.accept_valid_rows = accept
        locked.timings = {**locked.timings, "submitted_at": timezone.now().isoformat()}
        locked.save(update_fields=["accept_valid_rows", "timings"])
        _audit(locked, user, known_errors=known_errors, background=background)
        if background:
            transaction.on_commit(lambda: start_background_load(locked.pk))
        else:
            from connectors.services import enqueue_load

            transaction.on_commit(lambda: enqueue_load(locked.pk))
    return ConfirmResult(batch=locked, accept_valid_rows=accept, background=background)


def runs_in_background() -> bool:
    """Loads run in a thread of this process: tasks are in-process and the setting is on."""
    eager = bool(current_app.conf.task_always_eager)
    return eager and bool(getattr(settings, "HUB_BACKGROUND_LOADS", True))


def start_background_load(batch_id: int) -> threading.Thread:
    """Run the load of a batch in a daemon thread (its own database connection)."""
    thread = threading.Thread(
        target=_load, args=(batch_id,), name=f"hub-load-{batch_id}", daemon=True
    )
    _threads[batch_id] = thread
    thread.start()
    return thread


def wait_for_load(batch_id: int, timeout: float | None = None) -> bool:
    """Wait for a background load to end; True when none is running (tests, shutdown)."""
    thread = _threads.get(batch_id)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _load(batch_id: int) -> None:
    from connectors.pipeline.load import mark_failed, run_batch

    try:
        run_batch(batch_id=batch_id)
    except (OperationalError, InterfaceError) as exc:
        # No worker to retry it here: the batch says failed and may be uploaded again.
        logger.warning("background load of batch %s failed", batch_id, exc_info=True)
        mark_failed(batch_id=batch_id, message=f"{type(exc).__name__}: {exc}")
    except Exception:
        logger.exception("background load of batch %s failed", batch_id)
    finally:
        connections.close_all()
        _threads.pop(batch_id, None)


def _audit(batch: UploadBatch, user: AbstractBaseUser, **detail) -> None:
    from permissions.audit import log_event

    log_event(
        actor=user,
        action="confirm",
        resource=batch.resource,
        detail={"batch": batch.pk, "accept_valid_rows": batch.accept_valid_rows, **detail},
    )
