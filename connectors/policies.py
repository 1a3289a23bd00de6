"""The permission policy of the connectors' models: header aliases belong to the
resources a steward may upload to (``upload_records``)."""

from __future__ import annotations

from django.db.models import QuerySet

from connectors.models import HeaderAlias
from hub.catalog.restricted import ADD, CHANGE, DELETE, VIEW, register_policy
from permissions.policies import unknown
from permissions.selectors import UPLOAD_RECORDS, UserLike, resource_filter


def _alias_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action in (VIEW, ADD, CHANGE, DELETE, UPLOAD_RECORDS):
        return queryset.filter(resource_filter(user, UPLOAD_RECORDS, prefix="resource__"))
    raise unknown(HeaderAlias, action)


def register() -> None:
    register_policy(HeaderAlias, _alias_policy)
