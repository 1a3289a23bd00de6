"""What one caller receives of one resource's records: fields, masking and row scope.

``record_access(user, resource)`` answers for one resource (``RecordAccess``: the visible
fields in schema order, the masking of each field served masked, the districts of the row
scope), ``scope_records`` applies the row scope to a queryset of its records, and
``visible_fields`` lists the fields a caller sees of the schema or of the records. For
objects derived from records (points, alerts, work orders) ``district_scopes`` and
``row_scope_filter`` carry the row scope of district grants over. ``with_active_grants``
annotates a resource lookup with the caller's grants so ``record_access`` needs no query
of its own (the records view).

Which resources a caller may act on at all is ``permissions.selectors`` (``restrict``,
``resource_filter``, ``can``); this module only narrows within them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone

from hub.catalog import restricted
from hub.catalog.models import DataResource, FieldSpec, ResourceStatus, SharingType
from permissions.masking import masker_for
from permissions.models import ResourceUserPermission
from permissions.selectors import (
    VIEW_METADATA,
    VIEW_RECORDS,
    UserLike,
    active_grants,
    can,
    resource_filter,
    sql_in,
    user_department_ids,
)


@dataclass
class RecordAccess:
    """What one caller receives of one resource's records.

    ``fields`` are the visible fields in schema order, ``maskers`` maps the names of
    fields served masked to their masking function, ``districts`` is the row scope
    (None: every row).
    """

    fields: list[FieldSpec]
    maskers: dict[str, Callable[[str], str]] = field(default_factory=dict)
    districts: list[str] | None = None

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]


def _all_fields(resource: DataResource) -> list[FieldSpec]:
    return list(resource.fields.all())


@restricted.policy_function
def record_access(user: UserLike, resource: DataResource) -> RecordAccess | None:
    """The fields, masking and row scope of ``resource``'s records for ``user``, or None.

    Sources combine by union per dimension: the provider department and superusers read
    everything in clear; 无条件共享 gives every row and field, masked; each active grant of
    one of the user's departments adds its fields (empty: all), districts (empty: all)
    and clear fields. Costs at most two queries (department ids are cached on the user).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    fields = _all_fields(resource)
    if user.is_superuser or resource.provider_id in user_department_ids(user):
        return RecordAccess(fields=fields)
    if resource.sharing_type == SharingType.NONE:
        return None
    all_rows = all_fields = False
    districts: set[str] = set()
    names: set[str] = set()
    clear: set[str] = set()
    readable = False
    published = resource.status == ResourceStatus.PUBLISHED
    if published and resource.sharing_type == SharingType.UNCONDITIONAL:
        readable = all_rows = all_fields = True
    grants = getattr(resource, GRANTS_ATTRIBUTE, None)
    if grants is None:
        grants = (
            active_grants()
            .filter(resource=resource, department_id__in=user_department_ids(user))
            .values_list("fields", "districts", "clear_fields")
        )
    for grant_fields, grant_districts, grant_clear in grants:
        readable = True
        all_fields = all_fields or not grant_fields
        all_rows = all_rows or not grant_districts
        names.update(grant_fields)
        districts.update(grant_districts)
        clear.update(grant_clear)
    if not readable:
        # A permission given to this user directly (not through a grant) reads all, masked.
        if not ResourceUserPermission.objects.filter(
            content_object=resource, permission__codename=VIEW_RECORDS, user=user
        ).exists():
            return None
        all_rows = all_fields = True
    visible = [f for f in fields if all_fields or f.name in names]
    maskers = {}
    for spec in visible:
        masker = masker_for(spec)
        if masker is not None and spec.name not in clear:
            maskers[spec.name] = masker
    return RecordAccess(
        fields=visible, maskers=maskers, districts=None if all_rows else sorted(districts)
    )


GRANTS_ATTRIBUTE = "_hub_active_grants"


def with_active_grants(queryset: QuerySet[DataResource], user: UserLike) -> QuerySet:
    """Annotate resources with the user's active grants (read by ``record_access``), so
    the records view needs no separate grants query. One JSON-aggregating subquery."""
    departments = user_department_ids(user)
    if not departments or user.is_superuser:
        return queryset
    params: list = [connection.ops.adapt_datetimefield_value(timezone.now())]
    department_in = sql_in("g.department_id", departments, params)
    if connection.vendor == "postgresql":
        aggregate = (
            "COALESCE(json_agg(json_build_array(g.fields, g.districts, g.clear_fields))::text,"
            " '[]')"
        )
    else:
        aggregate = (
            "json_group_array(json_array(json(g.fields), json(g.districts), json(g.clear_fields)))"
        )
    sql = (
        f"SELECT {aggregate} FROM permissions_accessgrant g "  # noqa: S608 - values are parameters
        "WHERE g.resource_id = hub_dataresource.id AND g.revoked_at IS NULL "
        f"AND g.expires_at > %s AND {department_in}"
    )
    return queryset.annotate(_grants_json=RawSQL(sql, params))  # noqa: S611 - parameters


def load_annotated_grants(resource: DataResource) -> None:
    """Turn the ``with_active_grants`` annotation into what ``record_access`` reads."""
    raw = getattr(resource, "_grants_json", None)
    if raw is not None:
        setattr(resource, GRANTS_ATTRIBUTE, json.loads(raw))


def scope_records(queryset: QuerySet, access: RecordAccess) -> QuerySet:
    """Apply a caller's row scope (districts) to a queryset of one resource's records."""
    if access.districts is None:
        return queryset
    return queryset.filter(district_code__in=access.districts)


@restricted.policy_function
def district_scopes(user: UserLike) -> dict[int, list[str]]:
    """Resources whose records ``user`` reads only in some districts: {resource id: codes}.

    A resource is district-limited when the caller reads it only through active grants
    that all name districts (not as provider, not as 无条件共享, not by a grant without a
    row scope, not by a direct user permission). One query, two when limits exist.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_superuser:
        return {}
    departments = user_department_ids(user)
    if not departments:
        return {}
    grants = (
        active_grants()
        .filter(department_id__in=departments)
        .exclude(resource__provider_id__in=departments)
        .exclude(
            resource__status=ResourceStatus.PUBLISHED,
            resource__sharing_type=SharingType.UNCONDITIONAL,
        )
        .values_list("resource_id", "districts")
    )
    scopes: dict[int, set[str]] = {}
    unlimited: set[int] = set()
    for resource_id, districts in grants:
        if districts:
            scopes.setdefault(resource_id, set()).update(districts)
        else:
            unlimited.add(resource_id)
    limited = set(scopes) - unlimited
    if limited:
        limited -= set(
            ResourceUserPermission.objects.filter(
                user=user, permission__codename=VIEW_RECORDS, content_object_id__in=limited
            ).values_list("content_object_id", flat=True)
        )
    return {resource_id: sorted(scopes[resource_id]) for resource_id in limited}


def row_scope_filter(
    user: UserLike,
    *,
    resource_prefix: str = "resource__",
    district_lookup: str = "district_code",
    scopes: dict[int, list[str]] | None = None,
) -> Q:
    """``resource_filter(user, VIEW_RECORDS)`` narrowed to the row scope of district grants.

    For objects derived from records (points, alerts, …) that carry a district code:
    rows of district-limited resources are visible only in the granted districts.
    Pass ``scopes`` (from ``district_scopes``) when building several filters at once.
    """
    visible = resource_filter(user, VIEW_RECORDS, prefix=resource_prefix)
    if scopes is None:
        scopes = district_scopes(user)
    if not scopes:
        return visible
    in_scope = Q()
    for resource_id, districts in scopes.items():
        in_scope |= Q(**{f"{resource_prefix}pk": resource_id, f"{district_lookup}__in": districts})
    limited = Q(**{f"{resource_prefix}pk__in": list(scopes)})
    return visible & (~limited | in_scope)


def visible_fields(
    user: UserLike, resource: DataResource, action: str = VIEW_METADATA
) -> list[FieldSpec]:
    """The fields of ``resource`` the user may see, in schema order.

    For VIEW_METADATA (schema, catalog) every field of a resource whose metadata is
    visible, so that a department can choose what to request; for VIEW_RECORDS only the
    fields the caller receives values of.
    """
    if action == VIEW_RECORDS:
        access = record_access(user, resource)
        return access.fields if access else []
    if not can(user, VIEW_METADATA, resource):
        return []
    return _all_fields(resource)
