"""Writes of the sharing workflow: access requests, grants, API keys. All audited.

Every function is keyword-only, typed and atomic; the audit event is written in the
same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from hub.catalog.models import DataResource, Department, FieldSpec, SharingType
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from permissions.models import (
    AccessGrant,
    AccessRequest,
    ApiKeyScope,
    PartnerApiKey,
    RequestStatus,
    clean_api_key_scopes,
)
from permissions.scopes import check_districts, narrowed
from permissions.selectors import (
    VIEW_RECORDS,
    UserLike,
    active_grants,
    user_department_ids,
)
from permissions.workdays import add_working_days

DEFAULT_ANSWER_DAYS = 10


def answer_days() -> int:
    """Working days a provider has to answer (``HUB_ACCESS_REQUEST_ANSWER_DAYS``)."""
    return int(getattr(settings, "HUB_ACCESS_REQUEST_ANSWER_DAYS", DEFAULT_ANSWER_DAYS))


def _check_names(
    user: UserLike | None, resource: DataResource, names: list[str], label: str
) -> None:
    fields = FieldSpec.objects.filter(resource=resource)
    if user is not None:
        fields = fields.restrict(user, "view")
    known = set(fields.values_list("name", flat=True))
    unknown = sorted(set(names) - known)
    if unknown:
        raise ValidationError({label: _("未知字段：%(names)s") % {"names": ", ".join(unknown)}})


@write_service
@transaction.atomic
def request_access(
    *,
    user: UserLike,
    requester: Department,
    resource: DataResource,
    purpose: str,
    fields: list[str] | None = None,
    districts: list[str] | None = None,
    duration_days: int = 365,
) -> AccessRequest:
    """File an access request for ``requester`` (a department of ``user``)."""
    if not Department.objects.filter(pk=requester.pk).restrict(user, "member").exists():
        raise PermissionDenied(_("只能以本部门名义申请。"))
    if not DataResource.objects.filter(pk=resource.pk).restrict(user, "view").exists():
        raise DataResource.DoesNotExist
    _check_shareable(resource)
    check_not_own(resource=resource, requester=requester)
    # Locking the department row serialises concurrent submits of one department
    # (PostgreSQL), so a double submit cannot file the same request twice.
    list(Department.objects.select_for_update().filter(pk=requester.pk).values_list("pk"))
    check_no_pending(user=user, requester=requester, resource=resource)
    if not purpose.strip():
        raise ValidationError({"purpose": _("请填写用途。")})
    if not 1 <= duration_days <= 3 * 365:
        raise ValidationError({"duration_days": _("期限须在 1 到 1095 天之间。")})
    fields = list(fields or [])
    _check_names(user, resource, fields, "fields")
    # District codes of the GB/T 2260 list only: a name would approve into an empty scope.
    districts = check_districts(list(districts or []), user=user)
    now = timezone.now()
    access_request = AccessRequest.objects.create(
        resource=resource,
        requester=requester,
        requested_by=user,
        purpose=purpose,
        fields=fields,
        districts=districts,
        duration_days=duration_days,
        due_at=add_working_days(now, answer_days()),
    )
    log_event(
        actor=user,
        action="request",
        resource=resource,
        fields=fields,
        detail={"request": access_request.pk, "requester": requester.code},
    )
    return access_request


class DuplicateRequest(ValidationError):
    """The department already has a pending request for the resource (``existing``)."""

    def __init__(self, existing: AccessRequest) -> None:
        super().__init__(
            _("本部门已有待审批的共享申请 #%(pk)d，请勿重复提交。") % {"pk": existing.pk},
            code="duplicate",
        )
        self.existing = existing


def check_no_pending(*, user: UserLike, requester: Department, resource: DataResource) -> None:
    """Raise ``DuplicateRequest`` when the department already has a pending request for
    the resource (a double submit or a back-button resubmit)."""
    existing = (
        AccessRequest.objects.restrict(user, "view")
        .filter(requester=requester, resource=resource, status=RequestStatus.PENDING)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        raise DuplicateRequest(existing)


def _check_shareable(resource: DataResource) -> None:
    if resource.sharing_type == SharingType.NONE:
        raise ValidationError({"resource": _("不予共享的资源不能申请或授权。")})


def check_not_own(*, resource: DataResource, requester: Department) -> None:
    """Refuse a request of the provider for its own resource: it reads it already, and a
    self-approved request would count as an answer in its 考核 (assessment)."""
    if resource.provider_id is not None and resource.provider_id == requester.pk:
        raise ValidationError(
            {"resource": _("资源 %(code)s 由本部门提供，无需申请共享。") % {"code": resource.code}}
        )


def _check_provider(user: UserLike, access_request: AccessRequest) -> None:
    # Deciding is the request's ``change`` action: the provider department.
    if not _may(AccessRequest, access_request.pk, user):
        raise PermissionDenied(_("只有提供方可以审批。"))
    # Never one's own department's request: a member of both sides (or a request filed
    # before providers were refused) would approve itself.
    if access_request.requester_id in user_department_ids(user):
        raise PermissionDenied(_("不能审批本部门提出的共享申请。"))


def check_may_decide(*, user: UserLike, access_request: AccessRequest) -> None:
    """Raise PermissionDenied unless ``user`` may approve or refuse the request (the
    provider, not a member of the requesting department); views ask before validating the
    body, so the answer to anyone else is always 403."""
    _check_provider(user, access_request)


def _lock_pending(access_request: AccessRequest) -> AccessRequest:
    locked = (
        AccessRequest.objects.select_for_update()
        .select_related("resource", "requester")
        .get(pk=access_request.pk)
    )
    if locked.status != RequestStatus.PENDING:
        raise ValidationError(_("该申请已处理。"))
    return locked


@write_service
@transaction.atomic
def approve_request(
    *,
    user: UserLike,
    access_request: AccessRequest,
    clear_fields: list[str] | None = None,
    fields: list[str] | None = None,
    districts: list[str] | None = None,
) -> AccessGrant:
    """Approve a pending request: create the expiring grant and mirror it into guardian.

    ``fields``/``districts`` None grant what was asked; a list approves in part (部分批准):
    it must lie within what was asked (ValidationError otherwise) and the grant gets it.
    """
    _check_provider(user, access_request)
    access_request = _lock_pending(access_request)
    clear_fields = list(clear_fields or [])
    _check_names(user, access_request.resource, clear_fields, "clear_fields")
    granted_fields = narrowed(access_request.fields, fields, "fields")
    _check_names(user, access_request.resource, granted_fields, "fields")
    granted_districts = narrowed(
        access_request.districts,
        None if districts is None else check_districts(list(districts), user=user),
        "districts",
    )
    now = timezone.now()
    access_request.status = RequestStatus.APPROVED
    access_request.decided_by = user
    access_request.decided_at = now
    access_request.save(update_fields=["status", "decided_by", "decided_at"])
    grant = grant_access(
        user=user,
        resource=access_request.resource,
        department=access_request.requester,
        fields=granted_fields,
        districts=granted_districts,
        clear_fields=clear_fields,
        expires_at=now + dt.timedelta(days=access_request.duration_days),
        access_request=access_request,
    )
    log_event(
        actor=user,
        action="approve",
        resource=access_request.resource,
        detail={
            "request": access_request.pk,
            "grant": grant.pk,
            "partial": (granted_fields, granted_districts)
            != (access_request.fields, access_request.districts),
        },
    )
    return grant


@write_service
@transaction.atomic
def refuse_request(*, user: UserLike, access_request: AccessRequest, reason: str) -> None:
    """Refuse a pending request; a reason is required."""
    _check_provider(user, access_request)
    if not reason.strip():
        raise ValidationError({"reason": _("拒绝必须说明理由。")})
    access_request = _lock_pending(access_request)
    access_request.status = RequestStatus.REFUSED
    access_request.refusal_reason = reason
    access_request.decided_by = user
    access_request.decided_at = timezone.now()
    access_request.save(update_fields=["status", "refusal_reason", "decided_by", "decided_at"])
    log_event(
        actor=user,
        action="refuse",
        resource=access_request.resource,
        detail={"request": access_request.pk, "reason": reason},
    )


@write_service
@transaction.atomic
def withdraw_request(*, user: UserLike, access_request: AccessRequest) -> AccessRequest:
    """Withdraw (撤回) a pending request: a member of the requesting department only.

    Someone who may not see the request gets ``AccessRequest.DoesNotExist`` (views: 404);
    one who sees it without being of the requesting department (the provider) gets
    PermissionDenied; a request no longer pending is a ValidationError.
    """
    if not AccessRequest.objects.filter(pk=access_request.pk).restrict(user, "view").exists():
        raise AccessRequest.DoesNotExist
    if not (
        Department.objects.filter(pk=access_request.requester_id).restrict(user, "member").exists()
    ):
        raise PermissionDenied(_("只有申请部门可以撤回申请。"))
    locked = _lock_pending(access_request)
    locked.status = RequestStatus.WITHDRAWN
    # decided_by names the provider's 审批人: the withdrawer is in the audit event instead.
    locked.decided_at = timezone.now()
    locked.save(update_fields=["status", "decided_at"])
    log_event(
        actor=user,
        action="withdraw",
        resource=locked.resource,
        detail={"request": locked.pk, "requester": locked.requester.code},
    )
    return locked


@write_service
@transaction.atomic
def grant_access(
    *,
    user: UserLike | None,
    resource: DataResource,
    department: Department,
    expires_at: dt.datetime,
    fields: list[str] | None = None,
    districts: list[str] | None = None,
    clear_fields: list[str] | None = None,
    access_request: AccessRequest | None = None,
) -> AccessGrant:
    """Create a grant of ``resource``'s records to ``department`` and sync guardian.

    ``user`` None is the system (demo loader, tests); a user must be the provider.
    """
    if user is not None and not (
        DataResource.objects.filter(pk=resource.pk, provider__isnull=False)
        .restrict(user, "change")
        .exists()
    ):
        raise PermissionDenied(_("只有提供方可以授权。"))
    _check_shareable(resource)
    grant = AccessGrant(
        resource=resource,
        department=department,
        fields=list(fields or []),
        districts=list(districts or []),
        clear_fields=list(clear_fields or []),
        expires_at=expires_at,
        request=access_request,
        granted_by=user if getattr(user, "is_authenticated", False) else None,
    )
    grant.full_clean()
    grant.save()
    assign_perm(VIEW_RECORDS, department.group, resource)
    log_event(
        actor=user,
        action="grant",
        resource=resource,
        fields=grant.fields,
        detail={
            "grant": grant.pk,
            "department": department.code,
            "districts": grant.districts,
            "clear_fields": grant.clear_fields,
            "expires_at": expires_at.isoformat(),
        },
    )
    return grant


def _sync_guardian(resource: DataResource, department: Department) -> None:
    """Drop the department's guardian record permission once no active grant backs it."""
    if not active_grants().filter(resource=resource, department=department).exists():
        remove_perm(VIEW_RECORDS, department.group, resource)


@write_service
@transaction.atomic
def revoke_grant(*, user: UserLike | None, grant: AccessGrant, reason: str = "") -> None:
    """Revoke a grant now; it stops working on the caller's next request.

    ``user`` None is the system (expiry); a user must be the provider (the grant's door).
    """
    grant = AccessGrant.objects.select_for_update().get(pk=grant.pk)
    if user is not None and not _may(AccessGrant, grant.pk, user):
        raise PermissionDenied(_("只有提供方可以撤销授权。"))
    if grant.revoked_at is not None:
        return
    grant.revoked_at = timezone.now()
    grant.revoke_reason = reason[:200]
    grant.save(update_fields=["revoked_at", "revoke_reason"])
    _sync_guardian(grant.resource, grant.department)
    log_event(
        actor=user,
        action="revoke",
        resource=grant.resource,
        detail={"grant": grant.pk, "department": grant.department.code, "reason": reason},
    )


def revoke_expired_grants() -> int:
    """Mark expired grants revoked and tidy guardian's table (the beat task)."""
    count = 0
    expired = AccessGrant.objects.filter(revoked_at__isnull=True, expires_at__lte=timezone.now())
    for grant in expired.select_related("resource", "department"):
        revoke_grant(user=None, grant=grant, reason="expired")
        count += 1
    return count


@transaction.atomic
def flag_overdue_requests() -> int:
    """Flag pending requests past their deadline and escalate them once (audited)."""
    now = timezone.now()
    overdue = AccessRequest.objects.select_for_update().filter(
        status=RequestStatus.PENDING, due_at__lt=now, escalated_at__isnull=True
    )
    count = 0
    for access_request in overdue.select_related("resource"):
        access_request.overdue = True
        access_request.escalated_at = now
        access_request.save(update_fields=["overdue", "escalated_at"])
        log_event(
            actor=None,
            action="escalate",
            resource=access_request.resource,
            detail={"request": access_request.pk, "due_at": access_request.due_at.isoformat()},
        )
        count += 1
    return count


@transaction.atomic
def create_api_key(
    *,
    department: Department,
    name: str,
    expires_at: dt.datetime | None = None,
    scopes: Sequence[str] = (ApiKeyScope.READ,),
) -> tuple[PartnerApiKey, str]:
    """Create a key bound to the department's service user; the plaintext is returned once.

    ``scopes``: "read" (GET requests) and/or "push" (uploads and record pushes to the
    resources the department provides).
    """
    scopes = clean_api_key_scopes([str(scope) for scope in scopes])
    user_model = get_user_model()
    user, created = user_model.objects.get_or_create(username=f"svc-{department.code}")
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(department.group)
    api_key, key = PartnerApiKey.objects.create_key(
        name=name, department=department, user=user, expiry_date=expires_at, scopes=scopes
    )
    log_event(
        actor=None,
        action="create_key",
        api_key_prefix=api_key.prefix,
        detail={"department": department.code, "name": name, "scopes": scopes},
    )
    return api_key, key


@dataclass(frozen=True)
class ScopeChange:
    """The scopes of a key before and after ``set_api_key_scopes``."""

    before: list[str]
    after: list[str]

    @property
    def changed(self) -> bool:
        return self.before != self.after


@transaction.atomic
def set_api_key_scopes(
    *, user: UserLike | None, api_key: PartnerApiKey, scopes: Sequence[str]
) -> ScopeChange:
    """Change what a key may do (audited when it changes); applies to its next request.

    ``user`` None is the system; a user must pass the key's door, as for revoking.
    """
    after = clean_api_key_scopes([str(scope) for scope in scopes])
    locked = PartnerApiKey.objects.select_for_update().get(pk=api_key.pk)
    if user is not None and not _may(PartnerApiKey, locked.pk, user):
        raise PermissionDenied(_("无权修改该密钥。"))
    change = ScopeChange(before=list(locked.scopes or []), after=after)
    if change.changed:
        PartnerApiKey.objects.filter(pk=api_key.pk).update(scopes=after)
        log_event(
            actor=user,
            action="key_scopes",
            api_key_prefix=api_key.prefix,
            detail={"before": change.before, "after": change.after},
        )
    api_key.scopes = after
    return change


@transaction.atomic
def revoke_api_key(*, user: UserLike | None, api_key: PartnerApiKey) -> None:
    """Revoke a key; requests with it fail from the next one on.

    ``user`` None is the system; a user must pass the key's door (superusers, the key's
    department staff holding the model permission). Revoking a revoked key does nothing.
    """
    locked = PartnerApiKey.objects.select_for_update().get(pk=api_key.pk)
    if user is not None and not _may(PartnerApiKey, locked.pk, user):
        raise PermissionDenied(_("无权吊销该密钥。"))
    api_key.revoked = True
    if locked.revoked:
        return
    PartnerApiKey.objects.filter(pk=api_key.pk).update(revoked=True)
    log_event(
        actor=user,
        action="revoke_key",
        api_key_prefix=api_key.prefix,
        detail={"department": locked.department.code},
    )


def _may(model: type, pk: int, user: UserLike) -> bool:
    """Whether ``user`` may change the row: the model's door (``restrict``)."""
    return model.objects.filter(pk=pk).restrict(user, "change").exists()
