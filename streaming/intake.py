"""Many pushes accepted at once (the MQTT bridge's batches of messages).

``accept_pushes`` is ``services.accept_push`` for a list: the same receipts, the same
idempotency (an earlier receipt of the key with the same records is a replay, with
other records a conflict), the same flush on commit, but a constant number of queries
per batch instead of per push: one read of the earlier keys, one insert, one audit event
per (resource, key) listing its receipts. When another process races it on a key, the
batch falls back to ``accept_push`` one push at a time, which settles each race.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from streaming import services
from streaming.models import PushReceipt

__all__ = ["PushRequest", "accept_pushes"]


@dataclass(frozen=True)
class PushRequest:
    """One push, as ``accept_push`` takes it."""

    resource: DataResource
    department: Department
    records: list[dict[str, Any]]
    user: AbstractBaseUser | None = None
    api_key_prefix: str = ""
    idempotency_key: str = ""

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.resource.pk, self.department.pk, self.idempotency_key[:128])


Outcome = services.PushAccepted | services.PushConflict


@write_service
def accept_pushes(*, pushes: list[PushRequest], source: str = "push") -> list[Outcome]:
    """Store the pushes as receipts in one transaction; one outcome per push, in order:
    PushAccepted (``replayed`` for a key seen before, in the batch or earlier) or
    PushConflict (the key was used for other records)."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                return _accept_all(pushes, source)
        except IntegrityError:
            # Another process stored one of these keys meanwhile: settle one by one.
            return [_accept_one(push, source) for push in pushes]


def _accept_one(push: PushRequest, source: str) -> Outcome:
    try:
        return services.accept_push(
            resource=push.resource,
            department=push.department,
            records=push.records,
            user=push.user,
            api_key_prefix=push.api_key_prefix,
            idempotency_key=push.idempotency_key,
        )
    except services.PushConflict as conflict:
        return conflict


def _accept_all(pushes: list[PushRequest], source: str) -> list[Outcome]:
    earlier = _earlier({push.key for push in pushes if push.key[2]})
    outcomes: list[Outcome | None] = [None] * len(pushes)
    new: dict[tuple[int, int, str], PushReceipt] = {}
    fresh: list[tuple[int, PushRequest, PushReceipt]] = []
    for index, push in enumerate(pushes):
        sha256 = services._digest(push.records)
        first = earlier.get(push.key) or new.get(push.key)
        if first is not None:
            outcomes[index] = (
                services.PushAccepted(receipt=first, replayed=True)
                if first.sha256 == sha256
                else services.PushConflict(first)
            )
            continue
        receipt = PushReceipt(
            resource=push.resource,
            department=push.department,
            pushed_by=push.user if getattr(push.user, "pk", None) else None,
            api_key_prefix=push.api_key_prefix[:16],
            idempotency_key=push.key[2],
            sha256=sha256,
            records=push.records,
            row_count=len(push.records),
        )
        if push.key[2]:
            new[push.key] = receipt
        fresh.append((index, push, receipt))
    PushReceipt.objects.bulk_create([receipt for _, _, receipt in fresh])
    groups: dict[tuple[int, int | None, str], list[tuple[PushRequest, PushReceipt]]] = {}
    for index, push, receipt in fresh:
        outcomes[index] = services.PushAccepted(receipt=receipt)
        user_id = getattr(push.user, "pk", None)
        groups.setdefault((push.resource.pk, user_id, push.api_key_prefix), []).append(
            (push, receipt)
        )
    for members in groups.values():
        push = members[0][0]
        log_event(
            actor=push.user,
            action="upload",
            resource=push.resource,
            api_key_prefix=push.api_key_prefix,
            rows=sum(receipt.row_count for _, receipt in members),
            detail={"receipts": [receipt.pk for _, receipt in members], "source": source},
        )
    for resource_id in sorted({push.resource.pk for _, push, _ in fresh}):
        transaction.on_commit(
            lambda resource_id=resource_id: services.schedule_flush(resource_id=resource_id)
        )
    return outcomes  # type: ignore[return-value]


def _earlier(keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], PushReceipt]:
    if not keys:
        return {}
    found = PushReceipt.objects.filter(
        department_id__in={k[1] for k in keys},
        resource_id__in={k[0] for k in keys},
        idempotency_key__in={k[2] for k in keys},
    ).defer("records")
    receipts = {(r.resource_id, r.department_id, r.idempotency_key): r for r in found}
    return {key: receipt for key, receipt in receipts.items() if key in keys}
