"""Many pushes accepted at once (the MQTT bridge's batches of messages).

``accept_pushes`` is ``services.accept_push`` for a list: the same receipts, the same
idempotency (an earlier receipt of the key with the same records is a replay, with
other records a conflict), the same flush on commit, but a constant number of queries
per batch instead of per push: one read of the earlier keys, one insert, one audit event
per (resource, key) listing its receipts. When another process races it on a key, the
batch falls back to ``accept_push`` one push at a time, which settles each race.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from connectors.api.views import uploader_department
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from permissions.models import ApiKeyScope, PartnerApiKey
from permissions.selectors import (
    UPLOAD_RECORDS,
    may_upload_own,
    set_memberships,
    user_department_ids,
    user_group_ids,
)
from streaming import services
from streaming.compiled import PLACEHOLDER, CompiledQueries, CompiledQuery
from streaming.idempotency import key_problem
from streaming.models import PushReceipt
from streaming.receipt_insert import insert_receipts

__all__ = ["KeyPush", "PushRequest", "accept_key_pushes", "accept_pushes"]


@dataclass(frozen=True)
class PushRequest:
    """One push, as ``accept_push`` takes it."""

    resource: DataResource
    department: Department
    records: list[dict[str, Any]]
    user: AbstractBaseUser | None = None
    api_key_prefix: str = ""
    idempotency_key: str = ""
    # The records as canonical JSON (``services.canonical_records``) when the caller has
    # them already: hashed and inserted as they are instead of encoded again.
    encoded: str = ""

    @property
    def key(self) -> tuple[int, int, str]:
        return (self.resource.pk, self.department.pk, self.idempotency_key)


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
    # On PostgreSQL the insert itself skips keys already held (ON CONFLICT), so the
    # earlier receipts are read only for the pushes it skipped, usually none.
    postgres = connection.vendor == "postgresql"
    earlier = {} if postgres else _earlier({push.key for push in pushes if push.key[2]})
    outcomes: list[Outcome | None] = [None] * len(pushes)
    new: dict[tuple[int, int, str], PushReceipt] = {}
    fresh: list[tuple[int, PushRequest, PushReceipt]] = []
    repeated: list[tuple[int, PushRequest, str]] = []
    for index, push in enumerate(pushes):
        sha256 = services.records_digest(push.records, encoded=push.encoded)
        first = earlier.get(push.key) or new.get(push.key)
        if first is not None:
            repeated.append((index, push, sha256))
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
        receipt.encoded_records = push.encoded
        if push.key[2]:
            new[push.key] = receipt
        fresh.append((index, push, receipt))
    inserted = {id(receipt) for receipt in insert_receipts(receipt for _, _, receipt in fresh)}
    taken = [(i, push, r.sha256) for i, push, r in fresh if id(r) not in inserted]
    if taken:
        earlier = _earlier({push.key for _, push, _ in taken})
        if any(push.key not in earlier for _, push, _ in taken):
            # Held by a receipt this transaction cannot see: settle push by push.
            raise IntegrityError("push_receipt_idempotency_unique")
    for index, push, sha256 in [*taken, *repeated]:
        first = earlier.get(push.key) or new[push.key]
        outcomes[index] = (
            services.PushAccepted(receipt=first, replayed=True)
            if first.sha256 == sha256
            else services.PushConflict(first)
        )
    fresh = [(i, push, r) for i, push, r in fresh if id(r) in inserted]
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
        # Robust: an error after the commit must not turn acknowledged pushes into errors.
        transaction.on_commit(
            lambda resource_id=resource_id: services.schedule_flush(resource_id=resource_id),
            robust=True,
        )
    return outcomes  # type: ignore[return-value]


def _earlier(keys: set[tuple[int, int, str]]) -> dict[tuple[int, int, str], PushReceipt]:
    if not keys:
        return {}
    found = PushReceipt.objects.filter(
        department_id__in={k[1] for k in keys},
        resource_id__in={k[0] for k in keys},
        idempotency_key__in={k[2] for k in keys},
    ).values_list("resource_id", "department_id", "idempotency_key", "pk")
    # Usually none: read whole receipts only for the keys seen before.
    ids = {pk for *key, pk in found if tuple(key) in keys}
    if not ids:
        return {}
    receipts = PushReceipt.objects.filter(pk__in=ids).defer("records")
    return {(r.resource_id, r.department_id, r.idempotency_key): r for r in receipts}


@dataclass(frozen=True)
class KeyPush:
    """One push as the push front hands it over: which key sent what to which resource
    code. The key was recognised by the front; it is checked again here, in the
    transaction that stores the push, so a revocation applies to the very next push."""

    api_key_id: str
    code: str
    records: list[dict[str, Any]]
    idempotency_key: str = ""
    encoded: str = ""  # the records as canonical JSON (``PushRequest.encoded``)


@write_service
def accept_key_pushes(*, pushes: list[KeyPush]) -> list[Outcome | None]:
    """Accept pushes of many API keys in one transaction (the push front's group
    commit): each key is checked (not revoked or expired, user and department active),
    the door is asked once per key and resource code, and the allowed pushes are stored
    by ``accept_pushes``. None for a push this cannot settle (key no longer usable,
    resource not pushable for it): the ordinary view answers it, and audits the denial.

    The checks read only the columns they decide on, every time; the objects they
    stand for (service users, resources) are kept by the process for a few seconds.
    """
    try:
        with transaction.atomic():
            return _accept_key_pushes(pushes, together=True)
    except IntegrityError:
        # Another process stored one of these Idempotency-Keys meanwhile (the group's
        # transaction is void): again, settling each push on its own.
        with transaction.atomic():
            return _accept_key_pushes(pushes, together=False)


def _accept_key_pushes(pushes: list[KeyPush], *, together: bool) -> list[Outcome | None]:
    usable = _usable_keys({push.api_key_id for push in pushes})
    targets: dict[tuple[str, str], tuple[DataResource, Department]] = {}
    wanted = {(push.api_key_id, push.code) for push in pushes if push.api_key_id in usable}
    for key_id, code in sorted(wanted):
        user = usable[key_id][0]
        resource_id = _pushable_resource_id(user, code)
        if resource_id is not None:
            resource = _kept(DataResource, resource_id, select_related=("provider",))
            targets[(key_id, code)] = (resource, uploader_department(user, resource))
            _learn(key_id, code, usable[key_id], targets[(key_id, code)])
    positions: list[int] = []
    requests: list[PushRequest] = []
    for index, push in enumerate(pushes):
        target = targets.get((push.api_key_id, push.code))
        if target is None or key_problem(push.idempotency_key) is not None:
            continue  # the view answers it (the front hands such keys over anyway)
        user, prefix = usable[push.api_key_id]
        positions.append(index)
        requests.append(
            PushRequest(
                resource=target[0],
                department=target[1],
                records=push.records,
                user=user,
                api_key_prefix=prefix,
                idempotency_key=push.idempotency_key,
                encoded=push.encoded,
            )
        )
    outcomes: list[Outcome | None] = [None] * len(pushes)
    if requests:
        accepted = (
            _accept_all(requests, "push")
            if together
            else [_accept_one(request, "push") for request in requests]
        )
        for index, outcome in zip(positions, accepted, strict=True):
            outcomes[index] = outcome
    return outcomes


# Objects a group commit stands on, kept per process (their rights are read every time).
KEEP_SECONDS = 30.0
_kept_objects: dict[tuple[type, object], tuple[Any, float]] = {}


def _kept(model, pk, *, select_related: tuple[str, ...] = ()):
    now = time.monotonic()
    known = _kept_objects.get((model, pk))
    if known is not None and known[1] > now:
        return known[0]
    instance = model._base_manager.select_related(*select_related).get(pk=pk)
    if len(_kept_objects) > 10_000:
        _kept_objects.clear()
    _kept_objects[(model, pk)] = (instance, now + KEEP_SECONDS)
    return instance


# The group commit's two questions, compiled once (streaming.compiled): the key check,
# and the door per service user as it acts (memberships pinned by its key).
_compiled = CompiledQueries()


def key_query() -> CompiledQuery:
    """The key's row (id, prefix, expiry_date, user_id, department_id, scopes) when it is
    not revoked and its user and department are active."""
    return _compiled.query(
        "usable-key",
        lambda: PartnerApiKey.objects.filter(
            pk=PLACEHOLDER, revoked=False, user__is_active=True, department__is_active=True
        ).values_list("pk", "prefix", "expiry_date", "user_id", "department_id", "scopes"),
    )


def _key_rows(key_id: str) -> list[list[Any]]:
    return key_query().rows(key_id)


def _pushable_resource_id(user: AbstractBaseUser, code: str) -> int | None:
    """The id of the resource ``code`` when the door lets ``user`` upload to it
    (``restrict(user, UPLOAD_RECORDS)``), else None."""
    rows = door_query(user).rows(code)
    return rows[0][0] if rows else None


def door_query(user: AbstractBaseUser) -> CompiledQuery:
    """The door for ``user`` as it acts now: the id of the resource whose code takes the
    placeholder's place, when ``restrict(user, UPLOAD_RECORDS)`` lets it upload there."""
    acting_as = (
        user.pk,
        user.is_active,
        user.is_superuser,
        tuple(user_group_ids(user)),
        tuple(user_department_ids(user)),
        may_upload_own(user),
    )
    return _compiled.query(
        ("door", UPLOAD_RECORDS, acting_as),
        lambda: (
            DataResource.objects.restrict(user, UPLOAD_RECORDS)
            .filter(code=PLACEHOLDER)
            .order_by("pk")
            .values_list("pk")[:1]
        ),
    )


@dataclass(frozen=True)
class Learned:
    """What a group commit found for one key and resource code, for the next groups'
    single statement (``streaming.group_statement``), which checks all of it again."""

    user: AbstractBaseUser  # the key's service user, acting for the key's department
    prefix: str
    key_department_id: int
    resource: DataResource
    department: Department  # the receipts' department (``uploader_department``)
    until: float


_learned: dict[tuple[str, str], Learned] = {}


def _learn(key_id: str, code: str, usable: tuple, target: tuple) -> None:
    if len(_learned) > 10_000:
        _learned.clear()
    user, prefix = usable
    _learned[(key_id, code)] = Learned(
        user=user,
        prefix=prefix,
        key_department_id=user_department_ids(user)[0],
        resource=target[0],
        department=target[1],
        until=time.monotonic() + KEEP_SECONDS,
    )


def learned(key_id: str, code: str) -> Learned | None:
    """What the last group commit of this key and code found, while it is kept."""
    found = _learned.get((key_id, code))
    return found if found is not None and found.until > time.monotonic() else None


def forget(key_id: str, code: str) -> None:
    _learned.pop((key_id, code), None)


def _usable_keys(key_ids: set[str]) -> dict[str, tuple[AbstractBaseUser, str]]:
    """The keys among ``key_ids`` usable now (not revoked or expired, service user and
    department active), each as its service user (acting for the key's department, with
    the key's push scope) and prefix."""
    now = timezone.now()
    usable: dict[str, tuple[AbstractBaseUser, str]] = {}
    rows = [row for key_id in sorted(key_ids) for row in _key_rows(key_id)]
    for key_id, prefix, expiry, user_id, department_id, scopes in rows:
        if (expiry is not None and expiry < now) or ApiKeyScope.PUSH not in (scopes or []):
            continue  # the view refuses it (401, or 403 naming the missing scope)
        user = copy.copy(_kept(get_user_model(), user_id))
        department = _kept(Department, department_id)
        set_memberships(
            user,
            group_ids=[department.group_id],
            department_ids=[department.pk],
            may_push=True,
        )
        usable[key_id] = (user, prefix)
    return usable
