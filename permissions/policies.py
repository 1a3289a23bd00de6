"""The permission policy of every catalog and sharing model: what ``restrict`` returns.

Registered on the catalog's ``RestrictedManager`` when the permissions app is ready
(``hub.catalog.restricted.register_policy``), so ``Model.objects.restrict(user, action)`` is the
one door for resources, field specs, records, batches, departments, code lists, task
failures, access requests, grants, API keys and audit events. The conditions themselves
live in ``permissions.selectors`` (EXISTS over guardian's direct-FK tables and the
caller's department groups); nothing here computes access in Python per object.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from hub.catalog.models import CodeItem, CodeList, DataResource, Department, FieldSpec, TaskFailure
from hub.catalog.restricted import ADD, CHANGE, DELETE, VIEW, policy_function, register_policy
from permissions.models import (
    AccessGrant,
    AccessRequest,
    AuditEvent,
    CalendarDay,
    PartnerApiKey,
)
from permissions.selectors import (
    ACTIONS,
    MANAGE_RESOURCE,
    VIEW_METADATA,
    UserLike,
    resource_filter,
    user_department_ids,
)

NOTHING = Q(pk__in=[])
# 考核 (docs/GOVERNANCE.md): the sharing authority counts every department's resources,
# batches, requests and objections. Its rows feed aggregate counts, never a page of rows.
ASSESS = "assess"


def active_user(user: UserLike) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def unknown(model: type, action: str) -> ValueError:
    return ValueError(f"{model.__name__}: unknown action {action!r}")


@policy_function
def may_assess(user: UserLike) -> bool:
    """Who assesses the departments' sharing: superusers and staff of the 共享主管部门
    (``HUB_SHARING_AUTHORITY_DEPARTMENT``). Cached on the user object (one request)."""
    if not active_user(user):
        return False
    if user.is_superuser:
        return True
    cached = getattr(user, "_hub_may_assess", None)
    if cached is None:
        code = getattr(settings, "HUB_SHARING_AUTHORITY_DEPARTMENT", "bigdata")
        cached = Department.objects.filter(
            pk__in=user_department_ids(user), code=code, is_active=True
        ).exists()
        user._hub_may_assess = cached
    return cached


def assessed(queryset: QuerySet, user: UserLike) -> QuerySet:
    """The ``assess`` answer of a policy: every row for assessors, none for anyone else."""
    return queryset if may_assess(user) else queryset.filter(NOTHING)


def managed_resources(user: UserLike, prefix: str = "") -> Q:
    """Resources the user may manage: provider department members, holders of
    ``manage_resource`` and superusers (the model permission is checked by the caller)."""
    if not active_user(user):
        return NOTHING
    if user.is_superuser:
        return Q()
    own = Q(**{f"{prefix}provider_id__in": user_department_ids(user)})
    return own | resource_filter(user, MANAGE_RESOURCE, prefix=prefix)


def resource_condition(user: UserLike, action: str, prefix: str, generic: dict[str, str]) -> Q:
    """The condition on the resource reached through ``prefix`` for a generic or a
    resource action."""
    action = generic.get(action, action)
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return resource_filter(user, action, prefix=prefix)


def _resource_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Resources: ``view`` is the catalog entry (metadata); ``change``/``delete`` are for
    its managers (provider department, ``manage_resource`` holders, superusers)."""
    if action in (CHANGE, DELETE):
        return queryset.filter(managed_resources(user))
    if action == ASSESS:
        return assessed(queryset, user)
    if action == ADD:
        raise unknown(DataResource, action)
    return queryset.filter(resource_condition(user, action, "", {VIEW: VIEW_METADATA}))


def _field_spec_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action in (ADD, CHANGE, DELETE):
        return queryset.filter(managed_resources(user, "resource__"))
    generic = {VIEW: VIEW_METADATA}
    return queryset.filter(resource_condition(user, action, "resource__", generic))


MEMBER = "member"


def _public_policy(model: type):
    """Reference data (departments, code lists): not secret inside the city; edited by
    those holding the model permission (checked by the admin) — superusers in practice.
    Departments also answer ``member``: the departments the user acts for."""

    def policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
        if not active_user(user):
            return queryset.filter(NOTHING)
        if action == VIEW:
            return queryset
        if action == MEMBER and model is Department:
            return (
                queryset if user.is_superuser else queryset.filter(pk__in=user_department_ids(user))
            )
        if action in (CHANGE, DELETE):
            opts = model._meta
            allowed = user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
            return queryset if allowed else queryset.filter(NOTHING)
        raise unknown(model, action)

    return policy


def _operators_only(model: type):
    """Operator data (task failures, the audit log): superusers and holders of the view
    permission read it; nobody changes it."""

    def policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
        if not active_user(user):
            return queryset.filter(NOTHING)
        opts = model._meta
        if action == ASSESS and model is AuditEvent:
            # Only the catalog's change events: the withdrawals (停用) of resources.
            return assessed(queryset, user).filter(action="catalog_change")
        if action == VIEW and (
            user.is_superuser or user.has_perm(f"{opts.app_label}.view_{opts.model_name}")
        ):
            return queryset
        if action in (VIEW, CHANGE, DELETE):
            return queryset.filter(NOTHING)
        raise unknown(model, action)

    return policy


def _request_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Access requests: the requesting and the providing department see them; the
    provider decides (``change``)."""
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action == ASSESS:
        return assessed(queryset, user)
    if user.is_superuser:
        return queryset
    departments = user_department_ids(user)
    provider = Q(resource__provider_id__in=departments)
    if action == VIEW:
        return queryset.filter(Q(requester_id__in=departments) | provider)
    if action in (CHANGE, DELETE):
        return queryset.filter(provider)
    raise unknown(AccessRequest, action)


def _grant_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Grants: the grantee and the provider see them; the provider revokes them."""
    if not active_user(user):
        return queryset.filter(NOTHING)
    if user.is_superuser:
        return queryset
    departments = user_department_ids(user)
    provider = Q(resource__provider_id__in=departments)
    if action == VIEW:
        return queryset.filter(Q(department_id__in=departments) | provider)
    if action in (CHANGE, DELETE):
        return queryset.filter(provider)
    raise unknown(AccessGrant, action)


def _key_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """API keys: superusers manage every key; department staff holding the model
    permission see (and revoke) their own department's keys; a key never sees keys."""
    if not active_user(user):
        return queryset.filter(NOTHING)
    if user.is_superuser:
        return queryset
    if action not in (VIEW, CHANGE, DELETE):
        raise unknown(PartnerApiKey, action)
    if not user.has_perm(f"permissions.{action}_partnerapikey"):
        return queryset.filter(NOTHING)
    return queryset.filter(department_id__in=user_department_ids(user))


def calendar_allowed(user: UserLike, action: str) -> bool:
    """The official calendar table: operators (holders of the model permission) and
    superusers read and edit it; it is reference data, not secret, but edited with care."""
    if action not in (VIEW, ADD, CHANGE, DELETE):
        raise unknown(CalendarDay, action)
    if not active_user(user):
        return False
    return bool(user.is_superuser or user.has_perm(f"permissions.{action}_calendarday"))


def _calendar_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    return queryset if calendar_allowed(user, action) else queryset.filter(NOTHING)


def register() -> None:
    register_policy(DataResource, _resource_policy)
    register_policy(FieldSpec, _field_spec_policy)
    for model in (Department, CodeList, CodeItem):
        register_policy(model, _public_policy(model))
    for model in (TaskFailure, AuditEvent):
        register_policy(model, _operators_only(model))
    register_policy(AccessRequest, _request_policy)
    register_policy(AccessGrant, _grant_policy)
    register_policy(PartnerApiKey, _key_policy)
    register_policy(CalendarDay, _calendar_policy)
