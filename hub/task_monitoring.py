"""Record failed Celery tasks in the database so operators see them in the admin.

Connected to Celery's ``task_failure`` and ``task_retry`` signals in ``HubConfig.ready``.
Recording must never break the worker: a database error here is logged and swallowed.
"""

from __future__ import annotations

import logging
import traceback as tb

from django.db import transaction

logger = logging.getLogger(__name__)
MAX_TEXT = 20_000


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + "…"


def record_failure(
    *,
    task_name: str,
    task_id: str,
    args,
    kwargs,
    exc: BaseException,
    hostname: str,
    will_retry: bool,
    einfo=None,
) -> None:
    """Store one failure; called from the signal handlers below."""
    from hub.catalog.models import TaskFailure

    trace = str(einfo) if einfo is not None else "".join(tb.format_exception(exc))
    try:
        with transaction.atomic():
            TaskFailure.objects.create(
                task_name=task_name[:200],
                task_id=(task_id or "")[:64],
                arguments=_clip(f"args={args!r} kwargs={kwargs!r}"),
                exception_type=f"{type(exc).__module__}.{type(exc).__qualname__}"[:200],
                message=_clip(str(exc)),
                traceback=_clip(trace),
                hostname=(hostname or "")[:200],
                will_retry=will_retry,
            )
    except Exception:
        logger.exception("could not record the failure of task %s", task_name)


def on_task_failure(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra
) -> None:
    """``task_failure``: the task raised and will not be retried."""
    request = getattr(sender, "request", None)
    record_failure(
        task_name=getattr(sender, "name", str(sender)),
        task_id=task_id,
        args=args,
        kwargs=kwargs,
        exc=exception,
        hostname=getattr(request, "hostname", "") or "",
        will_retry=False,
        einfo=einfo,
    )


def on_task_retry(sender=None, request=None, reason=None, einfo=None, **extra) -> None:
    """``task_retry``: the task raised and Celery will run it again."""
    # ``reason`` is Celery's Retry wrapper; the error worth recording is its ``exc``.
    reason = getattr(reason, "exc", None) or reason
    exc = reason if isinstance(reason, BaseException) else RuntimeError(str(reason))
    record_failure(
        task_name=getattr(sender, "name", str(sender)),
        task_id=getattr(request, "id", ""),
        args=getattr(request, "args", None),
        kwargs=getattr(request, "kwargs", None),
        exc=exc,
        hostname=getattr(request, "hostname", "") or "",
        will_retry=True,
        einfo=einfo,
    )
