"""Writes of the push path: accept a push durably, load pushes in coalesced batches.

``accept_push`` stores the push as a receipt in the request's transaction (so whatever
was acknowledged survives a worker kill or a broker outage) and, on commit, schedules
one load of the resource per window (``HUB_PUSH_WINDOW_SECONDS``). ``flush_resource``
claims the resource's waiting receipts (at most ``HUB_PUSH_MAX_ROWS`` rows), writes them
as one JSON batch through ``connectors.services.create_batch`` and loads it with
``connectors.services.run_batch``: validation, the record store, audit and the sync of
the operations view are the files' own. ``streaming.settle.finish_batch`` gives every
push its own verdict and row errors: a batch is loaded all-or-nothing unless its
resource accepts valid rows (then a push is loaded, partial or rejected by its own
rows); when a shared all-or-nothing load is rejected, the pushes whose rows failed are
set apart (``solo``) and loaded alone, the others coalesced again around them (in push
order, so the later of two pushes of one natural key still wins).
``sweep_receipts`` (beat) re-enqueues what a lost task or a dead worker left behind.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from connectors import services as ingest
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from streaming.claim import claim as _claim
from streaming.idempotency import key_problem
from streaming.models import PushReceipt, ReceiptStatus
from streaming.settle import finish_batch
from streaming.shared_cache import shared_redis

logger = logging.getLogger(__name__)

__all__ = [
    "FlushResult",
    "PushAccepted",
    "PushConflict",
    "accept_push",
    "finish_batch",
    "flush_resource",
    "sweep_receipts",
]


class PushConflict(Exception):
    """The Idempotency-Key was already used for a different payload (HTTP 409)."""

    def __init__(self, receipt: PushReceipt):
        self.receipt = receipt
        self.message = _("幂等键已用于推送回执 #%(id)d 的不同内容。") % {"id": receipt.pk}
        super().__init__(self.message)


@dataclass(frozen=True)
class PushAccepted:
    """The receipt of a push and whether it was a replay of an earlier one (same key)."""

    receipt: PushReceipt
    replayed: bool = False


@dataclass
class FlushResult:
    """What one flush did: the batches it loaded and the receipts each verdict took."""

    batches: list[int] = field(default_factory=list)
    loaded: int = 0
    partial: int = 0
    rejected: int = 0
    failed: int = 0


# The share of a window its mark lives (see schedule_flush).
MARK_SHARE = 0.9


def window_seconds() -> float:
    return float(getattr(settings, "HUB_PUSH_WINDOW_SECONDS", 0.5))


def canonical_records(records: list[dict[str, Any]]) -> str:
    """The records as the canonical JSON text their digest hashes (keys sorted)."""
    return json.dumps(records, ensure_ascii=False, sort_keys=True, default=str)


def records_digest(records: list[dict[str, Any]], *, encoded: str = "") -> str:
    """The SHA-256 an Idempotency-Key's records are compared by; ``encoded`` is their
    ``canonical_records`` text when the caller has it."""
    return hashlib.sha256((encoded or canonical_records(records)).encode("utf-8")).hexdigest()


@write_service
def accept_push(
    *,
    resource: DataResource,
    department: Department,
    records: list[dict[str, Any]],
    user: AbstractBaseUser | None = None,
    api_key_prefix: str = "",
    idempotency_key: str = "",
) -> PushAccepted:
    """Store one push as a receipt (committed before the caller answers) and schedule the
    resource's load on commit. The same ``idempotency_key`` with the same records returns
    the earlier receipt; with other records it raises PushConflict."""
    if (problem := key_problem(idempotency_key)) is not None:
        # Callers check first (the view answers 400); a key is never cut to fit.
        raise ValueError(problem)
    sha256 = records_digest(records)
    try:
        # Insert first (the common case is a new key): a replayed or racing key trips the
        # unique constraint, which rolls this transaction (or savepoint) back whole.
        with transaction.atomic():
            receipt = PushReceipt.objects.create(
                resource=resource,
                department=department,
                pushed_by=user if getattr(user, "pk", None) else None,
                api_key_prefix=api_key_prefix[:16],
                idempotency_key=idempotency_key,
                sha256=sha256,
                records=records,
                row_count=len(records),
            )
            log_event(
                actor=user,
                action="upload",
                resource=resource,
                api_key_prefix=api_key_prefix,
                rows=len(records),
                detail={"receipt": receipt.pk, "source": "push"},
            )
            resource_id = resource.pk
            transaction.on_commit(lambda: schedule_flush(resource_id=resource_id))
    except IntegrityError:
        earlier = _earlier(resource, department, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return _replay(earlier, sha256)
    return PushAccepted(receipt=receipt)


def _earlier(resource, department, key: str) -> PushReceipt | None:
    return PushReceipt.objects.filter(
        resource=resource, department=department, idempotency_key=key
    ).first()


def _replay(earlier: PushReceipt, sha256: str) -> PushAccepted:
    if earlier.sha256 != sha256:
        raise PushConflict(earlier)
    return PushAccepted(receipt=earlier, replayed=True)


def _task(name: str):
    """One of ``streaming.tasks`` by its name (the app's ``ready`` imports that module):
    the tasks call these services, so the services do not import the tasks."""
    from celery import current_app

    return current_app.tasks[name]


def schedule_flush(*, resource_id: int, now: bool = False) -> bool:
    """Enqueue one load of the resource per window (eager mode: load right away).

    The first push of a window sets a cache mark that lives for the window and sends
    the flush with that countdown; pushes committed while the mark lives are already
    committed when the flush reads. A broker that cannot be reached loses nothing: the
    receipts wait for ``sweep_receipts``.
    """
    flush_pushes = _task("streaming.tasks.flush_pushes")
    if flush_pushes.app.conf.task_always_eager:
        flush_pushes.delay(resource_id)
        return True
    window = window_seconds()
    mark = f"streaming:flush:{resource_id}"
    # The mark lapses a little before its flush runs: a push that found it set was
    # committed before the flush claims, even with the worker's clock somewhat ahead.
    if not now and not _mark_window(mark, window * MARK_SHARE):
        return False
    try:
        flush_pushes.apply_async((resource_id,), countdown=0 if now else window)
    except Exception:
        _clear_mark(mark)
        logger.warning(
            "broker unreachable: pushes to resource %s wait for the sweeper",
            resource_id,
            exc_info=True,
        )
        return False
    return True


def warm_up() -> None:
    """Load what the first ``schedule_flush`` of a process would load while its caller
    waits: the task broker's client library, the result backend's module and the
    registered tasks. Opens no connection, so a process may call it before forking
    workers. A broker setting that cannot be loaded is logged, not raised: pushes wait
    for the sweeper then, as when the broker is down."""
    app = _task("streaming.tasks.flush_pushes").app
    if app.conf.task_always_eager:
        return
    try:
        app.connection_for_write().release()  # imports the transport's client; connects not
        app.backend  # noqa: B018  (its module is found through entry points on first use)
        if getattr(settings, "HUB_CACHE_URL", ""):
            import redis  # noqa: F401  (the window marks' client: streaming.shared_cache)
    except Exception:
        logger.warning("push path warm-up: the task broker could not be loaded", exc_info=True)


# Window marks this process knows to be set, with the monotonic time until which they
# live at least: a commit in that time skips the round trip (the answer would be "set").
_marks_alive: dict[str, float] = {}


def _mark_window(mark: str, window: float) -> bool:
    """Set the window's mark unless set: True for the window's first push."""
    client = shared_redis()
    if client is None:
        return cache.add(mark, 1, timeout=window)
    asked = time.monotonic()
    if _marks_alive.get(mark, 0.0) > asked:
        return False
    try:
        opened, left = (
            client.pipeline(transaction=False)
            .set(mark, 1, nx=True, px=max(1, int(window * 1000)))
            .pttl(mark)
            .execute()
        )
    except Exception:
        return True  # the cache is away: send the flush (a spare one is a no-op)
    if len(_marks_alive) > 10_000:
        _marks_alive.clear()
    # Measured from before the question: the mark lives at least this long.
    _marks_alive[mark] = asked + (window if opened else max(0, left) / 1000)
    return bool(opened)


def _clear_mark(mark: str) -> None:
    _marks_alive.pop(mark, None)
    client = shared_redis()
    try:
        client.delete(mark) if client is not None else cache.delete(mark)
    except Exception:
        logger.warning("could not clear %s", mark)


def flush_resource(*, resource_id: int, rounds: int = 50) -> FlushResult:
    """Load the resource's pushes waiting when the flush starts, one coalesced batch
    after another (at most ``rounds`` batches, the rest for the next flush).

    Pushes committed after a claim are not chased: each one either found its window's
    mark set (the flush of that window runs after the mark lapses, so after the push's
    commit) or set a mark and scheduled a flush of its own. Chasing them made a loaded
    stack load a small batch right after every load, paying a batch's fixed cost many
    times per window.
    """
    result = FlushResult()
    for _round in range(rounds):
        claimed = _claim(resource_id)
        if claimed is None:
            break
        ingest.run_batch(batch_id=claimed.batch.pk)
        verdicts = finish_batch(batch_id=claimed.batch.pk)
        result.batches.append(claimed.batch.pk)
        result.loaded += verdicts.get(ReceiptStatus.LOADED, 0)
        result.partial += verdicts.get(ReceiptStatus.PARTIAL, 0)
        result.rejected += verdicts.get(ReceiptStatus.REJECTED, 0)
        result.failed += verdicts.get(ReceiptStatus.FAILED, 0)
        settled = sum(verdicts.values())
        # Go on for receipts the claim left waiting, or those a rejected shared load
        # handed back to be loaded again (apart, or coalesced around the blamed ones).
        if not claimed.more_waiting and settled >= len(claimed.receipt_ids):
            break
    return result


@write_service
def sweep_receipts(*, older_than: timedelta | None = None) -> dict[str, list[int]]:
    """Re-enqueue what a lost task left: resources with receipts waiting longer than
    ``older_than`` (default HUB_PUSH_SWEEP_AFTER_SECONDS) get a flush; batches whose
    receipts stay in loading that long are loaded (idempotent) and finished."""
    finish_push_batch = _task("streaming.tasks.finish_push_batch")
    flush_pushes = _task("streaming.tasks.flush_pushes")
    after = older_than
    if after is None:
        after = timedelta(seconds=float(getattr(settings, "HUB_PUSH_SWEEP_AFTER_SECONDS", 30)))
    cutoff = timezone.now() - after
    resources = sorted(
        set(
            PushReceipt.objects.filter(
                status=ReceiptStatus.ACCEPTED, created_at__lt=cutoff
            ).values_list("resource_id", flat=True)
        )
    )
    batches = sorted(
        set(
            PushReceipt.objects.filter(
                status=ReceiptStatus.LOADING, claimed_at__lt=cutoff, batch__isnull=False
            ).values_list("batch_id", flat=True)
        )
    )
    for batch_id in batches:
        transaction.on_commit(lambda batch_id=batch_id: _send(finish_push_batch, batch_id))
    for resource_id in resources:
        transaction.on_commit(lambda resource_id=resource_id: _send(flush_pushes, resource_id))
    return {"resources": resources, "batches": batches}


def _send(task, argument: int) -> None:
    try:
        task.delay(argument)
    except Exception:
        logger.warning("broker unreachable: %s(%s) left to the next sweep", task.name, argument)


@write_service
def set_push_rate(*, user: AbstractBaseUser, api_key: Any, rate: str) -> Any:
    """Set (or, empty, clear back to the default) one key's push rate; audited."""
    from permissions.models import PartnerApiKey
    from streaming.models import PushQuota, valid_rate
    from streaming.throttling import forget_push_rate

    rate = rate.strip()
    if rate and not valid_rate(rate):
        raise ValueError(rate)
    with transaction.atomic():
        allowed = PartnerApiKey.objects.restrict(user, "change").filter(pk=api_key.pk).exists()
        if not allowed:
            raise PermissionError(api_key.pk)
        quota, _created = PushQuota.objects.update_or_create(
            api_key=api_key, defaults={"rate": rate}
        )
        transaction.on_commit(lambda: forget_push_rate(api_key.pk))
        log_event(
            actor=user,
            action="key_push_rate",
            api_key_prefix=api_key.prefix,
            detail={"push_rate": rate or "default"},
        )
    return quota
