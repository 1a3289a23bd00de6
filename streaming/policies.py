"""The permission policy of push receipts and push quotas (registered when ready).

A receipt carries the raw records a department pushed: that department sees it (its
staff and its keys), superusers too; nobody else (404). Receipts change only through
the streaming services. Quotas follow the API keys' own rule: superusers, and staff of
the key's department holding the key permission.
"""

from __future__ import annotations

from django.db.models import QuerySet

from hub.catalog.restricted import CHANGE, DELETE, VIEW, register_policy
from permissions.policies import NOTHING, active_user, unknown
from permissions.selectors import UserLike, user_department_ids
from streaming.models import PushQuota, PushReceipt


def _receipt_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action not in (VIEW, CHANGE, DELETE):
        raise unknown(PushReceipt, action)
    if not active_user(user):
        return queryset.filter(NOTHING)
    if user.is_superuser:
        return queryset
    if action != VIEW:
        return queryset.filter(NOTHING)
    return queryset.filter(department_id__in=user_department_ids(user))


def _quota_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action not in (VIEW, CHANGE, DELETE):
        raise unknown(PushQuota, action)
    if not active_user(user):
        return queryset.filter(NOTHING)
    if user.is_superuser:
        return queryset
    if not user.has_perm(f"permissions.{action}_partnerapikey"):
        return queryset.filter(NOTHING)
    return queryset.filter(api_key__department_id__in=user_department_ids(user))


def register() -> None:
    register_policy(PushReceipt, _receipt_policy)
    register_policy(PushQuota, _quota_policy)
