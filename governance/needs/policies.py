"""Who sees and acts on data needs (registered when the governance app is ready).

* ``view``: members of the filing department, of the provider department it was routed
  to, of the 共享主管部门 (``HUB_SHARING_AUTHORITY_DEPARTMENT``), and superusers;
* ``route``: the authority and superusers;
* ``answer``: the routed provider department and superusers;
* ``close`` (also ``change``): the filing department, the authority and superusers;
* ``delete``: nobody (a need is tracked to closure, never removed);
* ``assess`` (考核): every need for assessors (the authority, superusers), none otherwise.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from governance.needs.models import DataNeed
from hub.catalog.restricted import CHANGE, DELETE, VIEW, register_policy
from permissions.policies import ASSESS, NOTHING, active_user, assessed, may_assess, unknown
from permissions.selectors import UserLike, user_department_ids

ROUTE, ANSWER, CLOSE = "route", "answer", "close"


def authority_code() -> str:
    return getattr(settings, "HUB_SHARING_AUTHORITY_DEPARTMENT", "bigdata")


def _need_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action == DELETE:
        return queryset.filter(NOTHING)
    if action == ASSESS:
        return assessed(queryset, user)  # counted for the 考核, never listed
    if action not in (VIEW, CHANGE, ROUTE, ANSWER, CLOSE):
        raise unknown(DataNeed, action)
    if user.is_superuser:
        return queryset
    # Staff of the 共享主管部门 (the same test as 考核's assessors, cached per request).
    authority = may_assess(user)
    departments = user_department_ids(user)
    filer = Q(department_id__in=departments)
    provider = Q(provider_id__in=departments)
    if action == VIEW:
        return queryset if authority else queryset.filter(filer | provider)
    if action == ROUTE:
        return queryset if authority else queryset.filter(NOTHING)
    if action == ANSWER:
        return queryset.filter(provider)
    return queryset if authority else queryset.filter(filer)


def register() -> None:
    register_policy(DataNeed, _need_policy)
