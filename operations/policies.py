"""The permission policy of the operations view: what ``restrict`` returns for points,
readings, events, rules, mappings, alerts and their history, work orders and sync runs.

Objects derived from records follow the records of their resource, row scope included:
visible iff the caller may ``view_records`` on the resource and, where a district-limited
grant is the only way in, the object's district is in the grant. Compound alerts need
both resources. A work order is visible with its alert or to the department it is
assigned to. Rules and mappings are read with the records and changed by whoever manages
the resource (its provider department, ``manage_resource`` holders, superusers).

The ops centre (城运中心, ``HUB_OPS_CENTRE_DEPARTMENT``): under 一网统管 its staff ``view``
the alerts (and their history), monitoring points, readings and work orders of every
department while ``HUB_OPS_CENTRE_SEES_ALL`` is on (the default). Only ``view`` widens:
``view_records`` on these objects, events, and the raw records stay governed by grants.
Callers audit such reads (``operations.audit.log_ops_centre_read``). Superusers see all.
"""

from __future__ import annotations

from django.conf import settings
from django.db.models import Q, QuerySet

from hub.catalog.models import Department
from hub.catalog.restricted import ADD, CHANGE, DELETE, VIEW, policy_function, register_policy
from hub.records.models import UploadBatch
from operations.models import (
    Alert,
    AlertTransition,
    Event,
    MonitoringPoint,
    Reading,
    ReadingHourly,
    ResourceMapping,
    Rule,
    SyncRun,
    WorkOrder,
)
from permissions.policies import NOTHING, active_user, managed_resources, unknown
from permissions.record_access import district_scopes, row_scope_filter
from permissions.selectors import (
    VIEW_RECORDS,
    VIEW_RECORDS_CLEAR,
    UserLike,
    resource_filter,
    user_department_ids,
)


def ops_centre_code() -> str:
    """The ops centre's department code (城运中心), ``HUB_OPS_CENTRE_DEPARTMENT``."""
    return getattr(settings, "HUB_OPS_CENTRE_DEPARTMENT", "cityops")


@policy_function
def ops_centre_department(user: UserLike) -> Department | None:
    """The ops centre department if ``user`` is on its staff (cached on the user)."""
    if not active_user(user):
        return None
    cached = getattr(user, "_hub_ops_centre", False)
    if cached is False:
        departments = user_department_ids(user)
        cached = (
            Department.objects.filter(pk__in=departments, code=ops_centre_code()).first()
            if departments
            else None
        )
        user._hub_ops_centre = cached
    return cached


def sees_all_operations(user: UserLike) -> bool:
    """Superusers, and ops centre staff while ``HUB_OPS_CENTRE_SEES_ALL`` is on, view the
    alerts, points, readings and work orders of every department."""
    if not active_user(user):
        return False
    if user.is_superuser:
        return True
    return ops_centre_wide(user)


def ops_centre_wide(user: UserLike) -> bool:
    """True when ``user`` reads as the ops centre under the 一网统管 policy (not as a
    superuser): those reads are audited by the caller."""
    if not getattr(settings, "HUB_OPS_CENTRE_SEES_ALL", True) or not active_user(user):
        return False
    return not user.is_superuser and ops_centre_department(user) is not None


def alert_visibility(user: UserLike, prefix: str = "") -> Q:
    """Alerts (through ``prefix``) the user sees: row scope on both resources."""
    district = f"{prefix}district_code"
    scopes = district_scopes(user)  # one query for both resources of a compound alert
    main = row_scope_filter(
        user, resource_prefix=f"{prefix}resource__", district_lookup=district, scopes=scopes
    )
    other = row_scope_filter(
        user, resource_prefix=f"{prefix}other_resource__", district_lookup=district, scopes=scopes
    )
    if not other:
        # An empty Q (superuser) would vanish from the OR below and drop compound alerts.
        return main
    return main & (Q(**{f"{prefix}other_resource__isnull": True}) | other)


def _scoped(
    model: type,
    *,
    district: str = "district_code",
    resource: str = "resource__",
    ops_wide: bool = False,
):
    """Read-only objects derived from records: visible with their records' row scope;
    ``ops_wide``: viewed by the ops centre for every department."""

    def policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
        if action == VIEW and ops_wide and sees_all_operations(user):
            return queryset
        if action in (VIEW, VIEW_RECORDS):
            return queryset.filter(
                row_scope_filter(user, resource_prefix=resource, district_lookup=district)
            )
        if action in (CHANGE, DELETE):
            # Derived data is rewritten by the sync only; deleting needs the raw records.
            return queryset.filter(resource_filter(user, VIEW_RECORDS_CLEAR, prefix=resource))
        raise unknown(model, action)

    return policy


def _alert_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action == VIEW and sees_all_operations(user):
        return queryset
    if action in (VIEW, VIEW_RECORDS):
        return queryset.filter(alert_visibility(user))
    if action in (CHANGE, DELETE):
        return queryset.filter(resource_filter(user, VIEW_RECORDS_CLEAR, prefix="resource__"))
    raise unknown(Alert, action)


def _transition_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    if action == VIEW:
        if sees_all_operations(user):
            return queryset
        # The department an alert's order is assigned to sees how the alert developed.
        assigned = Q(alert__work_order__department_id__in=user_department_ids(user))
        return queryset.filter(alert_visibility(user, prefix="alert__") | assigned)
    raise unknown(AlertTransition, action)


def _editable_by_provider(model: type, *, also: tuple[str, ...] = ()):
    """Rules and mappings: read with the resource's records, changed by its managers.

    ``also`` names further resource relations (a compound rule's event resource) that
    must be readable for the object to be seen and manageable for it to be changed.
    """

    def policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
        if action in (VIEW, VIEW_RECORDS):
            condition = resource_filter(user, VIEW_RECORDS, prefix="resource__")
            for relation in also:
                condition &= Q(**{f"{relation}__isnull": True}) | resource_filter(
                    user, VIEW_RECORDS, prefix=f"{relation}__"
                )
            return queryset.filter(condition)
        if action in (ADD, CHANGE, DELETE):
            condition = managed_resources(user, "resource__")
            for relation in also:
                condition &= Q(**{f"{relation}__isnull": True}) | resource_filter(
                    user, VIEW_RECORDS, prefix=f"{relation}__"
                )
            return queryset.filter(condition)
        raise unknown(model, action)

    return policy


def _work_order_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Work orders: visible with their alert or to the assigned department (all of them
    to superusers and the ops centre); moved by the assigned department, the resource's
    managers and the ops centre (the service checks each move's role and the separation
    of duties)."""
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action in (VIEW, CHANGE) and sees_all_operations(user):
        # Not ``alert_visibility | own``: a superuser's empty Q would vanish from the OR.
        return queryset
    own = Q(department_id__in=user_department_ids(user))
    if action == VIEW:
        return queryset.filter(alert_visibility(user, prefix="alert__") | own)
    if action == CHANGE:
        return queryset.filter(own | managed_resources(user, "alert__resource__"))
    if action == DELETE:
        return queryset.filter(NOTHING) if not user.is_superuser else queryset
    raise unknown(WorkOrder, action)


def _sync_run_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Sync runs follow their batch: the provider, managers and the uploader."""
    if action != VIEW:
        raise unknown(SyncRun, action)
    return queryset.filter(batch__in=UploadBatch.objects.restrict(user, VIEW).values("pk"))


def register() -> None:
    register_policy(MonitoringPoint, _scoped(MonitoringPoint, ops_wide=True))
    register_policy(Event, _scoped(Event))
    register_policy(Reading, _scoped(Reading, district="point__district_code", ops_wide=True))
    register_policy(
        ReadingHourly, _scoped(ReadingHourly, district="point__district_code", ops_wide=True)
    )
    register_policy(Alert, _alert_policy)
    register_policy(AlertTransition, _transition_policy)
    register_policy(Rule, _editable_by_provider(Rule, also=("event_resource",)))
    register_policy(ResourceMapping, _editable_by_provider(ResourceMapping))
    register_policy(WorkOrder, _work_order_policy)
    register_policy(SyncRun, _sync_run_policy)
