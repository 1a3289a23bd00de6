"""The one permission chokepoint: every read of resources and records goes through here.

``restrict(queryset, user, action)`` narrows a queryset of resources or records to what
the caller may see; ``visible_fields(user, resource)`` lists the fields they may see.
Filtering uses EXISTS over guardian's direct-FK tables and the caller's groups rather
than ``get_objects_for_user``, which ORs subqueries and casts ``object_pk``.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet

from hub.models import DataResource, FieldSpec, Record, ResourceStatus, SharingType
from permissions.models import ResourceGroupPermission, ResourceUserPermission

# Actions map to DataResource permission codenames.
VIEW_METADATA = "view_metadata"
VIEW_RECORDS = "view_records"
UPLOAD_RECORDS = "upload_records"
MANAGE_RESOURCE = "manage_resource"
ACTIONS = (VIEW_METADATA, VIEW_RECORDS, UPLOAD_RECORDS, MANAGE_RESOURCE)

Q_T = TypeVar("Q_T", bound=QuerySet)
UserLike = AbstractBaseUser | AnonymousUser


def user_department_ids(user: UserLike) -> list[int]:
    """Ids of the departments whose staff group the user belongs to (cached on the user)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_hub_department_ids", None)
    if cached is None:
        from hub.models import Department

        cached = list(
            Department.objects.filter(group__user=user, is_active=True).values_list("id", flat=True)
        )
        user._hub_department_ids = cached
    return cached


def _granted(user: UserLike, action: str, resource_ref: str) -> Exists | Q:
    """EXISTS over the direct-FK permission tables for the user and the user's groups."""
    group_perm = ResourceGroupPermission.objects.filter(
        content_object=OuterRef(resource_ref),
        permission__codename=action,
        group__user=user,
    )
    user_perm = ResourceUserPermission.objects.filter(
        content_object=OuterRef(resource_ref), permission__codename=action, user=user
    )
    return Exists(group_perm) | Exists(user_perm)


def resource_filter(user: UserLike, action: str, prefix: str = "") -> Q:
    """A Q object selecting the resources ``user`` may perform ``action`` on.

    ``prefix`` is the lookup path from the queried model to DataResource (e.g. "resource__").
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if user.is_superuser:
        return Q()
    departments = user_department_ids(user)
    own = Q(**{f"{prefix}provider_id__in": departments})
    resource_ref = f"{prefix}pk" if prefix else "pk"
    granted = _granted(user, action, resource_ref)
    published = Q(**{f"{prefix}status": ResourceStatus.PUBLISHED})
    if action == VIEW_METADATA:
        shared = published & Q(
            **{f"{prefix}sharing_type__in": [SharingType.UNCONDITIONAL, SharingType.CONDITIONAL]}
        )
        return own | shared | granted
    if action == VIEW_RECORDS:
        shared = published & Q(**{f"{prefix}sharing_type": SharingType.UNCONDITIONAL})
        return own | shared | granted
    if action == UPLOAD_RECORDS:
        # Uploading needs the steward role (model permission) within the provider department.
        if user.has_perm("hub.upload_records"):
            return own | granted
        return granted
    return granted


def restrict(queryset: Q_T, user: UserLike, action: str) -> Q_T:
    """Narrow a queryset of DataResource or Record to what ``user`` may ``action``."""
    model = queryset.model
    if issubclass(model, DataResource):
        return queryset.filter(resource_filter(user, action))
    if issubclass(model, Record):
        return queryset.filter(resource_filter(user, action, prefix="resource__"))
    if issubclass(model, FieldSpec):
        return queryset.filter(resource_filter(user, action, prefix="resource__"))
    raise TypeError(f"restrict() does not know how to restrict {model.__name__}")


def can(user: UserLike, action: str, resource: DataResource) -> bool:
    """Whether ``user`` may ``action`` on one resource (one query)."""
    return restrict(DataResource.objects.filter(pk=resource.pk), user, action).exists()


def visible_fields(user: UserLike, resource: DataResource) -> list[FieldSpec]:
    """The fields of ``resource`` the user may see, in schema order."""
    if not can(user, VIEW_METADATA, resource):
        return []
    return list(resource.fields.all())
