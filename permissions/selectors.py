"""The one permission chokepoint: every read of resources and records goes through here.

``restrict(queryset, user, action)`` narrows a queryset of resources or records to what
the caller may see; ``visible_fields(user, resource)`` lists the fields they may see and
``record_access(user, resource)`` adds the row scope and masking of record values.
Filtering uses EXISTS over guardian's direct-FK tables and the caller's groups rather
than ``get_objects_for_user``, which ORs subqueries and casts ``object_pk``.

Grants of records live in ``AccessGrant``; approval mirrors them into guardian's group
table (``view_records``) and ``restrict`` only honours such a group permission while an
active grant backs it, so an expired or revoked grant stops working on the very next
request even before the periodic task tidies guardian's table.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import Expression, RawSQL
from django.utils import timezone

from hub.catalog import restricted
from hub.catalog.models import DataResource, FieldSpec, ResourceStatus, SharingType
from permissions.masking import masker_for
from permissions.models import AccessGrant, ResourceUserPermission

# Actions map to DataResource permission codenames.
VIEW_METADATA = "view_metadata"
VIEW_RECORDS = "view_records"
UPLOAD_RECORDS = "upload_records"
MANAGE_RESOURCE = "manage_resource"
# Not a codename: records served unmasked and without row scope (provider, admin pages).
VIEW_RECORDS_CLEAR = "view_records_clear"
ACTIONS = (VIEW_METADATA, VIEW_RECORDS, UPLOAD_RECORDS, MANAGE_RESOURCE, VIEW_RECORDS_CLEAR)

Q_T = TypeVar("Q_T", bound=QuerySet)
UserLike = AbstractBaseUser | AnonymousUser


def _memberships(user: UserLike) -> tuple[list[int], list[int]]:
    """(group ids, active department ids) of the user, in one query, cached on the user."""
    cached = getattr(user, "_hub_memberships", None)
    if cached is None:
        groups: list[int] = []
        departments: list[int] = []
        rows = user.groups.values_list("id", "department__id", "department__is_active")
        for group_id, department_id, active in rows:
            groups.append(group_id)
            if department_id is not None and active:
                departments.append(department_id)
        cached = (groups, departments)
        user._hub_memberships = cached
    return cached


def set_memberships(
    user: UserLike, *, group_ids: list[int], department_ids: list[int], may_push: bool = False
) -> None:
    """Pin what the user acts as (API keys act for their own department only);
    ``may_push``: a push-scoped key uploads to its department's resources."""
    user._hub_memberships = (list(group_ids), list(department_ids))
    user._hub_key_may_push = may_push


def may_upload_own(user: UserLike) -> bool:
    """Whether the user uploads to their department's resources: the steward role, or a
    request authenticated with a push-scoped API key."""
    if getattr(user, "_hub_key_may_push", False):
        return True
    return user.has_perm("catalog.upload_records")


def user_department_ids(user: UserLike) -> list[int]:
    """Ids of the active departments whose staff group the user belongs to."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _memberships(user)[1]


def user_group_ids(user: UserLike) -> list[int]:
    """Ids of the user's auth groups (department and role groups)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return _memberships(user)[0]


def active_grants() -> QuerySet[AccessGrant]:
    """Grants neither revoked nor expired, as of now."""
    return AccessGrant.objects.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())


def _in(column: str, values: list, params: list) -> str:
    """``column IN (%s, …)`` with params appended; a false condition for no values."""
    if not values:
        return "1 = 0"
    params.extend(values)
    return f"{column} IN ({', '.join(['%s'] * len(values))})"


def _permission_id_sql(codename: str, params: list) -> str:
    """Scalar subquery: the id of the permission ``codename``.

    Cheaper to plan than joining ``auth_permission`` inside every EXISTS: the records
    lookup plans in ~0.21 ms with it, ~0.33 ms when the subquery also joins the content
    type. The four codenames exist once, on DataResource
    (``test_permission_codenames_unique``); a duplicate would make PostgreSQL fail the query
    rather than widen access.
    """
    params.append(codename)
    return "(SELECT p.id FROM auth_permission p WHERE p.codename = %s)"


def _granted_sql(user: UserLike, action: str, params: list, alias: str = "r") -> str:
    """EXISTS over guardian's direct-FK tables for the user and the user's groups.

    Group and department ids are known (cached per request), so the subqueries are flat:
    no join through auth_group/auth_user_groups and no nested subquery. Written as SQL
    because building the equivalent ORM expression cost more than the query itself.
    ``alias`` is the (quoted) alias of the resource table the EXISTS correlate with.
    """
    by_group = (
        "EXISTS (SELECT 1 FROM permissions_resourcegrouppermission gp "  # noqa: S608 - values are parameters
        f"WHERE gp.content_object_id = {alias}.id AND gp.permission_id = "
        + _permission_id_sql(action, params)
        + " AND "
        + _in("gp.group_id", user_group_ids(user), params)
        + ")"
    )
    if action == VIEW_RECORDS:
        # A department's record permission counts only while an active grant backs it.
        by_group += (
            " AND EXISTS (SELECT 1 FROM permissions_accessgrant g "  # noqa: S608 - values are parameters
            f"WHERE g.resource_id = {alias}.id AND g.revoked_at IS NULL AND g.expires_at > %s AND "
        )
        params.append(connection.ops.adapt_datetimefield_value(timezone.now()))
        by_group += _in("g.department_id", user_department_ids(user), params) + ")"
    by_user = (
        "EXISTS (SELECT 1 FROM permissions_resourceuserpermission up "  # noqa: S608 - values are parameters
        f"WHERE up.content_object_id = {alias}.id AND up.permission_id = "
        + _permission_id_sql(action, params)
        + " AND up.user_id = %s)"
    )
    params.append(user.pk)
    return f"(({by_group}) OR {by_user})"


def _visible_sql(user: UserLike, action: str, alias: str) -> tuple[str, list]:
    """SQL condition on the resource table aliased ``alias``: may ``user`` ``action`` it
    (not superuser)."""
    params: list = []

    # Built only where used: its parameters must match the placeholders of the SQL.
    def own() -> str:
        return _in(f"{alias}.provider_id", user_department_ids(user), params)

    if action == VIEW_RECORDS_CLEAR:
        where = f"{own()} OR {_granted_sql(user, MANAGE_RESOURCE, params, alias)}"
    elif action in (VIEW_METADATA, VIEW_RECORDS):
        shared_types = (
            [SharingType.UNCONDITIONAL, SharingType.CONDITIONAL]
            if action == VIEW_METADATA
            else [SharingType.UNCONDITIONAL]
        )
        own_sql = own()
        params.append(ResourceStatus.PUBLISHED)
        shared = (
            f"({alias}.status = %s AND " + _in(f"{alias}.sharing_type", shared_types, params) + ")"
        )
        granted = _granted_sql(user, action, params, alias)
        # 不予共享 is provider only: no grant opens it to another department.
        params.append(SharingType.NONE)
        where = f"{own_sql} OR {shared} OR ({granted} AND {alias}.sharing_type <> %s)"
    elif action == UPLOAD_RECORDS and may_upload_own(user):
        # Uploading needs the steward role (model permission) within the provider department.
        where = f"{own()} OR {_granted_sql(user, action, params, alias)}"
    else:
        where = _granted_sql(user, action, params, alias)
    return f"({where})", params


def _resource_ids_sql(user: UserLike, action: str) -> tuple[str, list]:
    """SQL selecting the ids of the resources ``user`` may ``action`` (not superuser)."""
    where, params = _visible_sql(user, action, "r")
    return f"SELECT r.id FROM hub_dataresource r WHERE {where}", params  # noqa: S608 - values are parameters


class _VisibleResource(Expression):
    """WHERE condition on a DataResource queryset's own table: the EXISTS subqueries
    correlate with the outer row directly instead of ``id IN (SELECT … FROM
    hub_dataresource …)``, which halves the planning time of a one-resource lookup."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, user: UserLike, action: str):
        super().__init__()
        self.user, self.action = user, action

    def as_sql(self, compiler, connection):
        alias = compiler.quote_name_unless_alias(compiler.query.get_initial_alias())
        return _visible_sql(self.user, self.action, alias)

    def get_group_by_cols(self):
        return []


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
    if not prefix:
        # Querying DataResource itself: a condition on the queried row (no self-join).
        return Q(_VisibleResource(user, action))
    sql, params = _resource_ids_sql(user, action)
    return Q(**{f"{prefix}pk__in": RawSQL(sql, params)})  # noqa: S611 - values are parameters


def restrict(queryset: Q_T, user: UserLike, action: str) -> Q_T:
    """``queryset.restrict(user, action)``: the model's one door (``hub.catalog.restricted``).

    Kept for callers holding a queryset; the policies live in ``permissions.policies``
    and the apps' own ``policies`` modules.
    """
    return restricted.restrict(queryset, user, action)


@restricted.policy_function
def can(user: UserLike, action: str, resource: DataResource) -> bool:
    """Whether ``user`` may ``action`` on one resource (one query)."""
    return restrict(DataResource.objects.filter(pk=resource.pk), user, action).exists()


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
    department_in = _in("g.department_id", departments, params)
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
