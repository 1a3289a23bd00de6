"""The permission policy of the connectors' models: header aliases belong to the
resources a steward may upload to (``upload_records``); connector profiles also to the
steward's department."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from connectors.models import ConnectorProfile, HeaderAlias
from hub.catalog.restricted import ADD, CHANGE, DELETE, VIEW, register_policy
from permissions.policies import unknown
from permissions.selectors import (
    UPLOAD_RECORDS,
    UserLike,
    resource_filter,
    user_department_ids,
)


def _alias_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action in (VIEW, ADD, CHANGE, DELETE, UPLOAD_RECORDS):
        return queryset.filter(resource_filter(user, UPLOAD_RECORDS, prefix="resource__"))
    raise unknown(HeaderAlias, action)


def _profile_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """A department's profiles: its stewards, for the resources they may upload to."""
    if action not in (VIEW, ADD, CHANGE, DELETE, UPLOAD_RECORDS):
        raise unknown(ConnectorProfile, action)
    allowed = resource_filter(user, UPLOAD_RECORDS, prefix="resource__")
    if not getattr(user, "is_superuser", False):
        allowed &= Q(department_id__in=user_department_ids(user))
    return queryset.filter(allowed)


def register() -> None:
    register_policy(HeaderAlias, _alias_policy)
    register_policy(ConnectorProfile, _profile_policy)
