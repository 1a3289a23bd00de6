"""Who sees and answers objections, who reads notifications (registered when ready).

* Objections: the objecting department, the provider of the resource (its managers:
  provider staff, ``manage_resource`` holders, superusers) and, once escalated, the
  共享主管部门 see them; only the provider side answers (``change``); nobody deletes.
* Notifications: the recipient user, or members of the recipient department; reading
  (``change``: mark as read) is theirs too; nobody deletes.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from governance.models import Notification, Objection
from hub.catalog.restricted import CHANGE, DELETE, VIEW, register_policy
from permissions.policies import (
    ASSESS,
    NOTHING,
    active_user,
    assessed,
    managed_resources,
    unknown,
)
from permissions.selectors import UserLike, user_department_ids


def _objection_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action == ASSESS:
        return assessed(queryset, user)
    provider = managed_resources(user, "resource__")
    if action == VIEW:
        if user.is_superuser:
            return queryset
        departments = user_department_ids(user)
        return queryset.filter(
            provider | Q(department_id__in=departments) | Q(escalated_to_id__in=departments)
        )
    if action == CHANGE:
        return queryset.filter(provider)
    if action == DELETE:
        return queryset.filter(NOTHING)
    raise unknown(Objection, action)


def _notification_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action in (VIEW, CHANGE):
        return queryset.filter(
            Q(recipient_user_id=user.pk) | Q(recipient_department_id__in=user_department_ids(user))
        )
    if action == DELETE:
        return queryset.filter(NOTHING)
    raise unknown(Notification, action)


def register() -> None:
    register_policy(Objection, _objection_policy)
    register_policy(Notification, _notification_policy)
