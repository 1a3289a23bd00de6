"""Writes of the sharing workflow: access requests and grants. All audited.

Every function is keyword-only, typed and atomic; the audit event is written in the
same transaction as the change it records.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm, remove_perm

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from permissions.models import AccessGrant, AccessRequest, RequestStatus
from permissions.request_checks import (
    answer_days,
    check_field_names,
    check_may_decide,
    check_no_pending,
    check_not_own,
    check_shareable,
)
from permissions.scopes import check_districts, narrowed
from permissions.selectors import VIEW_RECORDS, UserLike, active_grants, may_change
from permissions.workdays import add_working_days


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
    check_shareable(resource)
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
    check_field_names(user, resource, fields, "fields")
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
    check_may_decide(user=user, access_request=access_request)
    access_request = _lock_pending(access_request)
    clear_fields = list(clear_fields or [])
    check_field_names(user, access_request.resource, clear_fields, "clear_fields")
    granted_fields = narrowed(access_request.fields, fields, "fields")
    check_field_names(user, access_request.resource, granted_fields, "fields")
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
    check_may_decide(user=user, access_request=access_request)
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
    check_shareable(resource)
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
    if user is not None and not may_change(AccessGrant, grant.pk, user):
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
