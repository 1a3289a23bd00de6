"""Reads of the operations view. Visibility follows the permission chokepoint.

A point, reading or alert derived from a resource is visible iff the caller may
``view_records`` on that resource (and, for compound alerts, on the related resource
too); a work order iff its alert is visible or it is assigned to the caller's department.
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import (
    Case,
    CharField,
    Count,
    DateTimeField,
    F,
    Max,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from hub.catalog.models import DataResource, FieldSpec, ResourceStatus
from hub.catalog.models.resources import UPDATE_CYCLE_SECONDS
from hub.catalog.restricted import VIEW
from operations.models import (
    Alert,
    AlertState,
    AlertTransition,
    Event,
    MonitoringPoint,
    Reading,
    WorkOrder,
    WorkOrderState,
)
from operations.values import ValueAccess, value_access
from permissions.selectors import UserLike


def point_list(
    *, user: UserLike, domain: str | None = None, district: str | None = None
) -> QuerySet[MonitoringPoint]:
    """Points of resources whose records the user may view."""
    queryset = MonitoringPoint.objects.restrict(user, VIEW)
    if domain:
        queryset = queryset.filter(domain=domain)
    if district:
        queryset = in_clear_district(queryset, user=user, district=district)
    # Within a resource by id, except where the id field is hidden: the rows' order would
    # tell the hidden ids' order. Those go by the internal key, which tells nothing more.
    hidden = _hidden_in(queryset, user=user, model=MonitoringPoint, name="external_id")
    by_id = (
        Case(
            When(resource_id__in=hidden, then=Value("")),
            default=F("external_id"),
            output_field=CharField(),
        )
        if hidden
        else F("external_id")
    )
    return queryset.select_related("resource", "department").order_by("resource_id", by_id, "pk")


def _hidden_in(queryset: QuerySet, *, user: UserLike, model: type, name: str) -> list[int]:
    """The resources of ``queryset``'s rows whose ``model`` attribute ``name`` the caller
    does not read in clear."""
    access = value_access(user=user, model=model)
    if access.wide:
        return []
    ids = list(queryset.values_list("resource_id", flat=True).distinct().order_by())
    access.prepare(ids)
    return [pk for pk in ids if not access.clearance(pk).attribute(model, name)]


def in_clear_district(queryset: QuerySet, *, user: UserLike, district: str) -> QuerySet:
    """Points (or alerts) of ``queryset`` in ``district``, among the resources whose
    district field the caller reads in clear: a filter on a hidden district would tell
    it. Alerts without a point (a late resource) carry no record's district."""
    return queryset.filter(clear_district(queryset, user=user), district_code=district)


def _event_resources(queryset: QuerySet[Alert], *, user: UserLike) -> tuple[ValueAccess, list]:
    """The caller's access to events, prepared for the event resources of the compound
    alerts in ``queryset``, and those resources' ids."""
    events = value_access(user=user, model=Event)
    others = list(
        queryset.exclude(other_resource=None)
        .values_list("other_resource_id", flat=True)
        .distinct()
        .order_by()
    )
    events.prepare(others)
    return events, others


def clear_district(queryset: QuerySet, *, user: UserLike) -> Q:
    """The rows of ``queryset`` (points or alerts) whose district the caller reads in
    clear: those of resources whose district field is served in clear (for a compound
    alert, its events' resource's too), and alerts of no record (governance). Only these
    may be filtered, grouped or counted by district."""
    access = value_access(user=user, model=MonitoringPoint)
    ids = list(queryset.values_list("resource_id", flat=True).distinct().order_by())
    access.prepare(ids)
    clear = [pk for pk in ids if access.clearance(pk).attribute(MonitoringPoint, "district_code")]
    where = Q(resource_id__in=clear)
    if queryset.model is Alert:
        # A compound alert's district is also where its events happened: clear only
        # where the events' district field is too (``ValueAccess.alert_district_clear``).
        events, others = _event_resources(queryset, user=user)
        clear_events = [
            pk for pk in others if events.clearance(pk).attribute(Event, "district_code")
        ]
        where = (where & (Q(other_resource=None) | Q(other_resource_id__in=clear_events))) | Q(
            point=None, other_resource=None
        )
    return where


def point_get(*, user: UserLike, point_id: int) -> MonitoringPoint:
    """One visible point, or MonitoringPoint.DoesNotExist."""
    return point_list(user=user).get(pk=point_id)


def point_readings(
    *,
    user: UserLike,
    point_id: int,
    metric: str | None = None,
    limit: int = 200,
    values: ValueAccess | None = None,
) -> list[Reading]:
    """The latest ``limit`` readings of a visible point, oldest first; only of metrics
    whose field the user reads in clear (the point itself stays visible)."""
    point = point_get(user=user, point_id=point_id)
    values = values or value_access(user=user, model=Reading)
    queryset = Reading.objects.restrict(user, VIEW).filter(point=point)
    clearance = values.clearance(point.resource_id)
    if not clearance.everything:
        # A metric is named by its field: hidden metrics are left out, not 404.
        queryset = queryset.filter(metric__in=sorted(clearance.fields))
    if metric:
        queryset = queryset.filter(metric=metric)
    return list(reversed(queryset.order_by("-observed_at", "-id")[:limit]))


def metric_labels(*, user: UserLike, resource_ids: set[int]) -> dict[str, str]:
    """Chinese labels of metric fields (FieldSpec.label) by field name."""
    return dict(
        FieldSpec.objects.restrict(user, VIEW)
        .filter(resource_id__in=resource_ids)
        .values_list("name", "label")
    )


def alert_list(
    *,
    user: UserLike,
    level: int | None = None,
    domain: str | None = None,
    district: str | None = None,
    state: str | None = None,
) -> QuerySet[Alert]:
    """Alerts the user may see, filtered by level, domain, district and state."""
    queryset = Alert.objects.restrict(user, VIEW)
    if level:
        queryset = queryset.filter(level=level)
    if domain:
        queryset = queryset.filter(domain=domain)
    if district:
        queryset = in_clear_district(queryset, user=user, district=district)
    if state:
        queryset = queryset.filter(state=state)
    queryset = queryset.select_related("resource", "point", "rule", "work_order")
    # Newest first, except where the time is a reading's time the caller may not read
    # (``ValueAccess.alert_times_clear``): those go by id, in the order the hub made them.
    hidden = _hidden_in(queryset, user=user, model=Alert, name="opened_at")
    hidden_events = []
    if not value_access(user=user, model=Alert).wide:
        events, others = _event_resources(queryset, user=user)
        hidden_events = [
            pk for pk in others if events.clearance(pk).hidden(Event) & {"occurred_at", "ended_at"}
        ]
    if not hidden and not hidden_events:
        return queryset.order_by("state", "-level", "-opened_at", "-id")
    withheld = Q(resource_id__in=hidden) | Q(other_resource_id__in=hidden_events)
    opened = Case(
        When(withheld, then=Value(None)), default=F("opened_at"), output_field=DateTimeField()
    )
    return queryset.order_by("state", "-level", opened.desc(nulls_last=True), "-id")


def alert_get(*, user: UserLike, alert_id: int) -> Alert:
    """One visible alert, or Alert.DoesNotExist."""
    transitions = AlertTransition.objects.restrict(user, VIEW)
    return (
        alert_list(user=user)
        .prefetch_related(Prefetch("transitions", queryset=transitions))
        .get(pk=alert_id)
    )


def work_order_list(
    *, user: UserLike, state: str | None = None, department: str | None = None
) -> QuerySet[WorkOrder]:
    """Work orders of visible alerts or assigned to one of the user's departments."""
    queryset = WorkOrder.objects.restrict(user, VIEW)
    if state:
        queryset = queryset.filter(state=state)
    if department:
        queryset = queryset.filter(department__code=department)
    return queryset.select_related("alert", "department").order_by("-dispatched_at", "-id")


def work_order_get(*, user: UserLike, work_order_id: int) -> WorkOrder:
    """One visible work order, or WorkOrder.DoesNotExist."""
    return work_order_list(user=user).get(pk=work_order_id)


def timeliness(order: WorkOrder, now: datetime) -> str:
    """on_time | overdue | done_on_time | done_late, for the dashboard."""
    done = order.state in (WorkOrderState.RESOLVED, WorkOrderState.VERIFIED, WorkOrderState.CLOSED)
    if done:
        late = order.resolved_at is not None and order.resolved_at > order.resolve_by
        return "done_late" if late else "done_on_time"
    deadline = order.accept_by if order.state == WorkOrderState.DISPATCHED else order.resolve_by
    return "overdue" if order.overdue or now > deadline else "on_time"


def freshness(*, user: UserLike, now: datetime | None = None) -> list[dict]:
    """Freshness per department of the published resources whose metadata the user sees."""
    now = now or timezone.now()
    resources = (
        DataResource.objects.restrict(user, VIEW)
        .filter(status=ResourceStatus.PUBLISHED)
        .select_related("provider")
    )
    departments: dict[str, dict] = {}
    for resource in resources.order_by("provider__code", "code"):
        entry = departments.setdefault(
            resource.provider.code,
            {"department": resource.provider.short_name, "fresh": 0, "stale": 0, "never": 0},
        )
        if resource.last_loaded_at is None:
            entry["never"] += 1
        elif (now - resource.last_loaded_at).total_seconds() > UPDATE_CYCLE_SECONDS[
            resource.update_cycle
        ]:
            entry["stale"] += 1
        else:
            entry["fresh"] += 1
    return [{"code": code, **entry} for code, entry in departments.items()]


def timeliness_counts(now: datetime) -> dict[str, Count]:
    """``timeliness`` as aggregates, counted by the database (every order, no cap)."""
    done = Q(state__in=[WorkOrderState.RESOLVED, WorkOrderState.VERIFIED, WorkOrderState.CLOSED])
    late = Q(resolved_at__isnull=False, resolved_at__gt=F("resolve_by"))
    overdue = (
        Q(overdue=True)
        | Q(state=WorkOrderState.DISPATCHED, accept_by__lt=now)
        | (~Q(state=WorkOrderState.DISPATCHED) & Q(resolve_by__lt=now))
    )
    return {
        "on_time": Count("id", filter=~done & ~overdue),
        "overdue": Count("id", filter=~done & overdue),
        "done_on_time": Count("id", filter=done & ~late),
        "done_late": Count("id", filter=done & late),
    }


def summary(*, user: UserLike) -> dict:
    """What a big screen shows at a glance, restricted to what the user may see."""
    now = timezone.now()
    open_alerts = alert_list(user=user, state=AlertState.OPEN)
    # An alert whose district the caller may not read is counted, but not placed: the
    # worst level of a district would tell where a hidden district's alerts are.
    placed = clear_district(open_alerts, user=user)
    worst = dict(
        open_alerts.filter(placed)
        .exclude(district_code="")
        .values_list("district_code")
        .annotate(level=Max("level"))
        .order_by()
    )
    undisclosed = open_alerts.exclude(placed).order_by().count()
    by_level = dict(open_alerts.values_list("level").annotate(n=Count("id")).order_by())
    by_domain = dict(open_alerts.values_list("domain").annotate(n=Count("id")).order_by())
    orders = work_order_list(user=user).exclude(state=WorkOrderState.CLOSED).order_by()
    counts = orders.aggregate(**timeliness_counts(now))
    return {
        "generated_at": timezone.localtime(now),  # +08:00: the page shows it as sent
        "open_alerts": sum(by_level.values()),
        "districts": worst,
        "undisclosed_district": undisclosed,
        "by_level": {str(level): by_level.get(level, 0) for level in (4, 3, 2, 1)},
        "by_domain": dict(by_domain),
        "work_orders": {key: value for key, value in counts.items() if value},
        "points": point_list(user=user).count(),
        "freshness": freshness(user=user, now=now),
    }
