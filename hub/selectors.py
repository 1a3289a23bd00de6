"""Reads of the catalog. Everything a caller sees passes through permissions.restrict()."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from hub.models import DataResource, Department, FieldSpec
from permissions.selectors import VIEW_METADATA, UserLike, restrict


def department_list() -> QuerySet[Department]:
    """Active departments; the list of departments is not secret within the city."""
    return Department.objects.filter(is_active=True).order_by("code")


def resource_list(
    *,
    user: UserLike,
    provider: str | None = None,
    domain: str | None = None,
    sharing_type: str | None = None,
    search: str | None = None,
) -> QuerySet[DataResource]:
    """Resources whose metadata the user may see, with fields and provider prefetched."""
    queryset = restrict(DataResource.objects.all(), user, VIEW_METADATA)
    if provider:
        queryset = queryset.filter(provider__code=provider)
    if domain:
        queryset = queryset.filter(domain=domain)
    if sharing_type:
        queryset = queryset.filter(sharing_type=sharing_type)
    if search:
        queryset = queryset.filter(
            Q(name__icontains=search) | Q(summary__icontains=search) | Q(code__icontains=search)
        )
    return queryset.select_related("provider").prefetch_related(
        Prefetch("fields", queryset=FieldSpec.objects.select_related("code_list"))
    )


def resource_get(*, user: UserLike, code: str) -> DataResource:
    """One resource by code, or DataResource.DoesNotExist when the user may not see it."""
    return resource_list(user=user).get(code=code)
