"""The permission policy of the risk index: what ``restrict`` returns.

The index is an aggregate over districts, not the records behind it: every member of
staff sees the indicators, snapshots, scores and indicator values (an active user who is
staff, belongs to an active department, or is a superuser; partner API keys act as their
department's service user, so they see it too). What the breakdown says about its
sources is narrowed per viewer by the API (``risk.selectors.source_visibility``).
Indicators are configured by operators: superusers and staff of the ops centre
(``HUB_OPS_CENTRE_DEPARTMENT``). Computed rows change only through the computation;
superusers may delete old snapshots.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet

from hub.catalog.models import Department
from hub.catalog.restricted import ADD, CHANGE, DELETE, VIEW, policy_function, register_policy
from permissions.policies import NOTHING, active_user, unknown
from permissions.selectors import UserLike, user_department_ids
from risk.models import RiskIndicator, RiskIndicatorValue, RiskScore, RiskSnapshot


def ops_centre_code() -> str:
    """The ops centre's department code (城运中心), ``HUB_OPS_CENTRE_DEPARTMENT``."""
    return getattr(settings, "HUB_OPS_CENTRE_DEPARTMENT", "cityops")


@policy_function
def is_viewer(user: UserLike) -> bool:
    """Who sees the index: active staff, department members and superusers."""
    if not active_user(user):
        return False
    return bool(user.is_superuser or user.is_staff or user_department_ids(user))


@policy_function
def is_operator(user: UserLike) -> bool:
    """Who configures indicators: superusers and the ops centre's staff."""
    if not active_user(user):
        return False
    if user.is_superuser:
        return True
    departments = user_department_ids(user)
    return (
        bool(departments)
        and Department.objects.filter(pk__in=departments, code=ops_centre_code()).exists()
    )


def _indicator_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action == VIEW:
        return queryset if is_viewer(user) else queryset.filter(NOTHING)
    if action in (ADD, CHANGE, DELETE):
        return queryset if is_operator(user) else queryset.filter(NOTHING)
    raise unknown(RiskIndicator, action)


def _computed(model: type):
    def policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
        if action == VIEW:
            return queryset if is_viewer(user) else queryset.filter(NOTHING)
        if action == CHANGE:
            return queryset.filter(NOTHING)  # written by the computation only
        if action == DELETE:
            superuser = active_user(user) and user.is_superuser
            return queryset if superuser else queryset.filter(NOTHING)
        raise unknown(model, action)

    return policy


def register() -> None:
    register_policy(RiskIndicator, _indicator_policy)
    for model in (RiskSnapshot, RiskScore, RiskIndicatorValue):
        register_policy(model, _computed(model))
