"""Writes of objections (数据异议 / 校核纠错): file, correct, reject, escalate, notify.

Every function is keyword-only and atomic, checks through the models' doors and writes its
audit event in the same transaction. Record values change only through the RecordStore.
Values never travel in notifications or objection rows: the old and new value of a
correction are in the audit log only (operators), so an objector reading a masked field
learns nothing in clear through the objection.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance import corrections
from governance.models import Notification, Objection, ObjectionScope, ObjectionStatus
from governance.selectors import readers_since
from hub.api.record_filters import hidden_parts
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import CHANGE, write_service
from hub.records.models import Record, UploadBatch
from hub.records.recordstore import RecordStore, content_hashes
from hub.records.signals import records_corrected
from permissions.audit import log_event
from permissions.record_access import record_access
from permissions.selectors import VIEW_RECORDS, UserLike
from permissions.workdays import add_working_days

DEFAULT_ANSWER_DAYS = 5
DEFAULT_EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_AUTHORITY = "bigdata"


def answer_days() -> int:
    """Working days the provider has to answer (``HUB_OBJECTION_ANSWER_DAYS``)."""
    return int(getattr(settings, "HUB_OBJECTION_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def evidence_max_bytes() -> int:
    return int(getattr(settings, "HUB_OBJECTION_EVIDENCE_MAX_BYTES", DEFAULT_EVIDENCE_MAX_BYTES))


def authority_department() -> Department | None:
    """The 共享主管部门 overdue objections escalate to (``HUB_SHARING_AUTHORITY_DEPARTMENT``)."""
    code = getattr(settings, "HUB_SHARING_AUTHORITY_DEPARTMENT", DEFAULT_AUTHORITY)
    return Department.objects.filter(code=code).first()


@dataclass(frozen=True)
class ObjectionResult:
    """The objection after the write and the notifications it sent."""

    objection: Objection
    notified: int = 0


def _notify(objection: Objection, code: str, params: dict[str, Any], *, users=(), departments=()):
    rows = [
        Notification(recipient_user_id=pk, code=code, params=params, objection=objection)
        for pk in sorted(set(users))
    ] + [
        Notification(recipient_department_id=pk, code=code, params=params, objection=objection)
        for pk in sorted(set(departments))
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)


def _params(objection: Objection, **extra: Any) -> dict[str, Any]:
    return {"objection": objection.pk, "resource": objection.resource.code, **extra}


@write_service
@transaction.atomic
def file_objection(
    *,
    user: UserLike,
    department: Department,
    resource: DataResource,
    scope: str,
    reason: str,
    record_key: str = "",
    field_name: str = "",
    batch_id: int | None = None,
    evidence: str = "",
    attachment: UploadedFile | None = None,
) -> ObjectionResult:
    """File an objection for ``department`` (one of the user's) on a record, a field value
    of a record or a whole batch the user reads. Records the user cannot read are 404."""
    if not Department.objects.filter(pk=department.pk).restrict(user, "member").exists():
        raise PermissionDenied(_("只能以本部门名义提出异议。"))
    if not DataResource.objects.filter(pk=resource.pk).restrict(user, "view").exists():
        raise DataResource.DoesNotExist
    access = record_access(user, resource)
    if access is None:
        raise DataResource.DoesNotExist
    if scope not in ObjectionScope.values:
        raise ValidationError({"scope": _("未知的异议对象。")})
    if not reason.strip():
        raise ValidationError({"reason": _("请填写异议理由。")})
    readable = Record.objects.restrict(user, VIEW_RECORDS, resource=resource)
    record = batch = None
    if scope == ObjectionScope.BATCH:
        batch_ids = readable.filter(batch_id=batch_id).values("batch_id")
        batch = UploadBatch.objects.filter(pk__in=batch_ids, resource=resource).first()
        if batch_id is None or batch is None:
            raise UploadBatch.DoesNotExist
    else:
        if record_key and hidden_parts(resource, access).key:
            # Looking a guessed key up would answer whether it exists: an oracle on a
            # value the caller reads masked. Every key is refused alike.
            raise ValidationError({"record_key": _("记录主键对您脱敏，不能按主键提出异议。")})
        record = readable.filter(key=record_key).first() if record_key else None
        if record is None:
            raise Record.DoesNotExist
        batch = record.batch
    if scope == ObjectionScope.FIELD and field_name not in access.field_names:
        # Unknown and invisible fields answer alike.
        raise ValidationError({"field_name": _("没有可提出异议的该字段。")})
    if scope != ObjectionScope.FIELD:
        field_name = ""
    if attachment is not None and attachment.size > evidence_max_bytes():
        limit = {"mb": evidence_max_bytes() // 2**20}
        raise ValidationError({"attachment": _("佐证附件不能超过 %(mb)s MB。") % limit})
    now = timezone.now()
    objection = Objection(
        resource=resource,
        scope=scope,
        record=record,
        record_key=record.key if record else "",
        field_name=field_name,
        batch=batch,
        department=department,
        filed_by=user,
        reason=reason.strip(),
        evidence=evidence.strip(),
        due_at=add_working_days(now, answer_days()),
    )
    if attachment is not None:
        objection.attachment.save(attachment.name, attachment, save=False)
    objection.save()
    log_event(
        actor=user,
        action="objection_file",
        resource=resource,
        fields=[field_name] if field_name else [],
        detail={
            "objection": objection.pk,
            "scope": scope,
            "key": objection.record_key,
            "batch": batch.pk if batch else None,
            "department": department.code,
            "due_at": objection.due_at.isoformat(),
        },
    )
    due = timezone.localtime(objection.due_at).strftime("%Y-%m-%d %H:%M")
    params = _params(objection, department=department.name, due=due)
    notified = _notify(objection, "objection_filed", params, departments=[resource.provider_id])
    return ObjectionResult(objection=objection, notified=notified)


def _answerable(user: UserLike, objection: Objection) -> Objection:
    """The objection locked for answering: 404 when hidden, 403 for non-providers, 400
    when already answered."""
    visible = Objection.objects.filter(pk=objection.pk).restrict(user, "view")
    if not visible.exists():
        raise Objection.DoesNotExist
    locked = (
        Objection.objects.filter(pk=objection.pk)
        .restrict(user, CHANGE)
        .select_for_update(of=("self",))
        .select_related("resource")
        .first()
    )
    if locked is None:
        raise PermissionDenied(_("只有提供部门可以答复数据异议。"))
    if locked.status != ObjectionStatus.OPEN:
        raise ValidationError({"status": _("该异议已答复。")})
    return locked


def _since(objection: Objection, record: Record | None) -> dt.datetime:
    """When the objected data was last loaded: the record's last write, else the batch's."""
    if record is not None and record.updated_at:
        return record.updated_at
    batch = objection.batch
    if batch is not None:
        return batch.finished_at or batch.created_at
    return objection.created_at


def _close(
    objection: Objection, user: UserLike, status: str, answer: str, since: dt.datetime
) -> int:
    objection.status = status
    objection.answer = answer
    objection.answered_by = user
    objection.answered_at = timezone.now()
    objection.save()
    readers = readers_since(objection.resource, since)
    departments = readers - {objection.resource.provider_id}
    code = "objection_corrected" if status == ObjectionStatus.CORRECTED else "objection_rejected"
    params = _params(objection, reason=answer if status == ObjectionStatus.REJECTED else "")
    users = [objection.filed_by_id] if objection.filed_by_id else []
    return _notify(objection, code, params, users=users, departments=departments)


def _json_value(value: Any) -> Any:
    if isinstance(value, (dict, list)):
        raise ValidationError({"value": _("更正值必须是单个值。")})
    return value


@write_service
@transaction.atomic
def correct_value(
    *, user: UserLike, objection: Objection, value: Any, field_name: str = "", note: str = ""
) -> ObjectionResult:
    """Correct one field value of the objected record in place, through the RecordStore;
    the audit event carries the objection id and the old and new value."""
    objection = _answerable(user, objection)
    if objection.scope == ObjectionScope.BATCH:
        raise ValidationError({"scope": _("批次异议须以新批次更正。")})
    name = objection.field_name or field_name
    resource = objection.resource
    if name not in set(resource.fields.values_list("name", flat=True)):
        raise ValidationError({"field_name": _("请指明要更正的字段。")})
    record = (
        Record.objects.restrict(user, "view_records_clear")
        .select_for_update(of=("self",))
        .filter(pk=objection.record_id, resource=resource)
        .first()
    )
    if record is None:
        raise ValidationError({"record": _("被异议的记录已不存在，请以新批次更正。")})
    since = record.updated_at
    # Normalised and validated as ingest would; the columns derived from it follow.
    correction = corrections.corrected(
        resource=resource, record=record, name=name, value=_json_value(value)
    )
    value = correction.value
    old = record.data.get(name)
    data = {**record.data, name: value}
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
    record.data = data
    for column, derived in correction.derived.items():
        setattr(record, column, derived)
    record.content_hash = content_hashes(pl.Series([text]))[0]
    RecordStore(resource).save([record])
    _announce_correction(record)
    objection.corrected_field = name
    log_event(
        actor=user,
        action="objection_correct",
        resource=resource,
        rows=1,
        fields=[name],
        detail={
            "objection": objection.pk,
            "key": record.key,
            "field": name,
            "old": old,
            "new": value,
            "note": note,
        },
    )
    notified = _close(objection, user, ObjectionStatus.CORRECTED, note.strip(), since)
    return ObjectionResult(objection=objection, notified=notified)


def _announce_correction(record: Record) -> None:
    """After commit, tell the apps that build on records (the operations sync) that the
    record changed in place, so they rebuild what they derived from it."""
    resource_id, key, batch_id = record.resource_id, record.key, record.batch_id
    transaction.on_commit(
        lambda: records_corrected.send(
            sender=Record,
            resource_id=resource_id,
            keys=[key],
            batch_ids=[batch_id] if batch_id else [],
        )
    )


@write_service
@transaction.atomic
def correct_by_batch(
    *, user: UserLike, objection: Objection, batch: UploadBatch, note: str = ""
) -> ObjectionResult:
    """Answer with a new batch of the resource (uploaded by the provider): linked."""
    objection = _answerable(user, objection)
    own = UploadBatch.objects.filter(pk=batch.pk, resource=objection.resource)
    if not own.restrict(user, "view").exists():
        raise ValidationError({"batch": _("请选择本资源的更正批次。")})
    objection.correction_batch = batch
    log_event(
        actor=user,
        action="objection_correct",
        resource=objection.resource,
        detail={"objection": objection.pk, "batch": batch.pk, "note": note},
    )
    since = objection.record.updated_at if objection.record else _since(objection, None)
    notified = _close(objection, user, ObjectionStatus.CORRECTED, note.strip(), since)
    return ObjectionResult(objection=objection, notified=notified)


@write_service
@transaction.atomic
def reject_objection(*, user: UserLike, objection: Objection, reason: str) -> ObjectionResult:
    """Reject the objection; a reason is required."""
    if not reason.strip():
        raise ValidationError({"reason": _("驳回必须说明理由。")})
    objection = _answerable(user, objection)
    log_event(
        actor=user,
        action="objection_reject",
        resource=objection.resource,
        detail={"objection": objection.pk, "reason": reason.strip()},
    )
    since = _since(objection, objection.record)
    notified = _close(objection, user, ObjectionStatus.REJECTED, reason.strip(), since)
    return ObjectionResult(objection=objection, notified=notified)


@transaction.atomic
def escalate_overdue(*, now: dt.datetime | None = None) -> int:
    """Flag open objections past their deadline and escalate each once to the 共享主管部门
    (notified, audited as ``objection_escalate``). Returns how many were escalated."""
    now = now or timezone.now()
    authority = authority_department()
    overdue = Objection.objects.select_for_update().filter(
        status=ObjectionStatus.OPEN, due_at__lt=now, escalated_at__isnull=True
    )
    count = 0
    for objection in overdue.select_related("resource"):
        objection.overdue = True
        objection.escalated_at = now
        objection.escalated_to = authority
        objection.save(update_fields=["overdue", "escalated_at", "escalated_to"])
        log_event(
            actor=None,
            action="objection_escalate",
            resource=objection.resource,
            detail={
                "objection": objection.pk,
                "due_at": objection.due_at.isoformat(),
                "to": authority.code if authority else None,
            },
        )
        departments = [objection.resource.provider_id]
        if authority is not None:
            departments.append(authority.pk)
        _notify(objection, "objection_escalated", _params(objection), departments=departments)
        count += 1
    return count


@write_service
@transaction.atomic
def mark_read(*, user: UserLike, notifications) -> int:
    """Mark the user's notifications among ``notifications`` as read."""
    ids = [n.pk for n in notifications]
    mine = Notification.objects.filter(pk__in=ids).restrict(user, CHANGE)
    return mine.filter(read=False).update(read=True)
