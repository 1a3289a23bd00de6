"""Reads of the catalog. Everything a caller sees passes through the models' door
(``Model.objects.restrict(user, action)``)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from hub.catalog.models import CodeItem, DataResource, Department, FieldSpec
from hub.catalog.restricted import VIEW, UserLike


def department_list(*, user: UserLike) -> QuerySet[Department]:
    """Active departments; the list of departments is not secret within the city."""
    return Department.objects.restrict(user, VIEW).filter(is_active=True).order_by("code")


def resource_list(
    *,
    user: UserLike,
    provider: str | None = None,
    domain: str | None = None,
    sharing_type: str | None = None,
    search: str | None = None,
) -> QuerySet[DataResource]:
    """Resources whose metadata the user may see, with fields and provider prefetched."""
    queryset = DataResource.objects.restrict(user, VIEW)
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
        Prefetch(
            "fields", queryset=FieldSpec.objects.restrict(user, VIEW).select_related("code_list")
        )
    )


def resource_get(*, user: UserLike, code: str, code_items: bool = False) -> DataResource:
    """One resource by code, or DataResource.DoesNotExist when the user may not see it;
    ``code_items`` also prefetches the items of its fields' code lists (schema, template)."""
    queryset = resource_list(user=user)
    if code_items:
        items = CodeItem.objects.restrict(user, VIEW).order_by("order", "code")
        queryset = queryset.prefetch_related(Prefetch("fields__code_list__items", queryset=items))
    return queryset.get(code=code)
