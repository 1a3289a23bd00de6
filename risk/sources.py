"""Raw indicator values per district, read through the permission door.

The computation acts as the ops centre's service user (``svc-<code>``, the department's
service user that API keys also use), so it reads exactly what the ops centre may read:
records through the records' door for one resource
(``Record.objects.restrict(user, "view_records", resource=…)``: provider, 无条件共享 or an
active grant, with the grant's row scope), fields the department receives unmasked only
(a masked or withheld field cannot be summed), and open alerts through the operations
selectors (``alert_list``, the alerts' door).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Avg, Count, FloatField, Max, Q, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast

from hub.catalog.models import DataResource, Department
from hub.catalog.models.resources import UPDATE_CYCLE_SECONDS
from hub.catalog.restricted import VIEW
from hub.records.models import Record
from operations.models import AlertState
from operations.selectors import alert_list, clear_district
from permissions.record_access import record_access
from permissions.selectors import VIEW_RECORDS, UserLike
from risk.models import ZERO_WHEN_EMPTY, Aggregation, IndicatorStatus, RiskIndicator, SourceKind
from risk.policies import ops_centre_code

NUMERIC_TYPES = {"number", "integer"}


class NoOpsCentre(Exception):
    """The ops centre department (HUB_OPS_CENTRE_DEPARTMENT) does not exist."""


def service_user() -> UserLike:
    """The ops centre's service user, created on first use (no password, not staff)."""
    code = ops_centre_code()
    department = Department.objects.filter(code=code, is_active=True).select_related("group")
    department = department.first()
    if department is None:
        raise NoOpsCentre(code)
    user, created = get_user_model().objects.get_or_create(username=f"svc-{code}")
    if created:
        user.set_unusable_password()
        user.save()
    user.groups.add(department.group)
    return user


@dataclass
class SourceValues:
    """What one indicator read: raw value per district (None = missing), its status, and
    the source's freshness."""

    values: dict[str, float | None]
    status: str
    resource: DataResource | None = None
    loaded_at: datetime | None = None
    cycle_seconds: int | None = None
    rows: int = 0

    def stale(self, now: datetime) -> bool:
        """A source is stale when it has never loaded or its last load is older than
        its update cycle (the catalog's freshness rule)."""
        if self.resource is None or self.cycle_seconds is None:
            return False
        if self.loaded_at is None:
            return True
        return (now - self.loaded_at).total_seconds() > self.cycle_seconds


def _empty(districts: list[str], status: str, **extra) -> SourceValues:
    return SourceValues(values=dict.fromkeys(districts), status=status, **extra)


def _finish(
    indicator: RiskIndicator, districts: list[str], found: dict[str, float], **extra
) -> SourceValues:
    default = 0.0 if indicator.aggregation in ZERO_WHEN_EMPTY else None
    values = {d: found.get(d, default) for d in districts}
    status = IndicatorStatus.OK
    if all(v is None for v in values.values()):
        status = IndicatorStatus.NO_DATA
    return SourceValues(values=values, status=status, **extra)


def _records(
    indicator: RiskIndicator, user: UserLike, districts: list[str], now: datetime
) -> SourceValues:
    resource = (
        DataResource.objects.restrict(user, VIEW).filter(pk=indicator.resource_id).first()
        if indicator.resource_id
        else None
    )
    if resource is None:
        missing = not indicator.resource_id
        status = IndicatorStatus.NO_SOURCE if missing else IndicatorStatus.NO_ACCESS
        return _empty(districts, status)
    freshness = {
        "resource": resource,
        "loaded_at": resource.last_loaded_at,
        "cycle_seconds": UPDATE_CYCLE_SECONDS.get(resource.update_cycle),
    }
    access = record_access(user, resource)
    if access is None:
        return _empty(districts, IndicatorStatus.NO_ACCESS, **freshness)
    needs_field = indicator.aggregation != Aggregation.COUNT
    if needs_field and (
        indicator.field not in access.field_names or indicator.field in access.maskers
    ):
        return _empty(districts, IndicatorStatus.NO_ACCESS, **freshness)
    district = resource.district_field
    if district and (district not in access.field_names or district in access.maskers):
        # Grouping by a district the grant withholds would tell each record's district.
        return _empty(districts, IndicatorStatus.NO_ACCESS, **freshness)
    queryset = Record.objects.restrict(user, VIEW_RECORDS, resource=resource).filter(
        district_code__in=districts
    )
    if indicator.window_hours:
        queryset = queryset.filter(observed_at__gte=now - timedelta(hours=indicator.window_hours))
    grouped = queryset.order_by().values("district_code")
    aggregation = indicator.aggregation
    if aggregation == Aggregation.COUNT:
        rows = grouped.annotate(value=Count("id"), n=Count("id"))
    elif aggregation in (Aggregation.SHARE, Aggregation.COUNT_MATCH):
        wanted = [str(v) for v in indicator.match_values]
        hit = Q(**{f"data__{indicator.field}__in": wanted})
        rows = grouped.annotate(hits=Count("id", filter=hit), n=Count("id"))
    else:
        number = Cast(KT(f"data__{indicator.field}"), FloatField())
        function = {Aggregation.SUM: Sum, Aggregation.MEAN: Avg, Aggregation.MAX: Max}[aggregation]
        rows = grouped.alias(_number=number).annotate(value=function("_number"), n=Count("id"))
    found: dict[str, float] = {}
    total = 0
    for row in rows:
        total += row["n"]
        if aggregation == Aggregation.SHARE:
            found[row["district_code"]] = row["hits"] / row["n"] if row["n"] else None
        elif aggregation == Aggregation.COUNT_MATCH:
            found[row["district_code"]] = float(row["hits"])
        elif row["value"] is not None:
            found[row["district_code"]] = float(row["value"])
    result = _finish(indicator, districts, found, rows=total, **freshness)
    if access.districts is not None:
        # A grant limited to some districts: the others are unseen, not zero.
        scope = set(access.districts)
        result.values = {d: (v if d in scope else None) for d, v in result.values.items()}
    return result


def _alerts(
    indicator: RiskIndicator, user: UserLike, districts: list[str], now: datetime
) -> SourceValues:
    """Sum of the levels (蓝 1 … 红 4) of the open alerts per district."""
    freshness: dict = {}
    queryset = alert_list(user=user, state=AlertState.OPEN).filter(district_code__in=districts)
    if indicator.resource_id:
        resource = (
            DataResource.objects.restrict(user, VIEW).filter(pk=indicator.resource_id).first()
        )
        if resource is None:
            return _empty(districts, IndicatorStatus.NO_ACCESS)
        freshness = {
            "resource": resource,
            "loaded_at": resource.last_loaded_at,
            "cycle_seconds": UPDATE_CYCLE_SECONDS.get(resource.update_cycle),
        }
        queryset = queryset.filter(resource=resource)
    if indicator.match_values:
        queryset = queryset.filter(domain__in=[str(v) for v in indicator.match_values])
    # Only alerts whose district the reader may read are placed in a district.
    queryset = queryset.filter(clear_district(queryset, user=user))
    rows = queryset.order_by().values("district_code").annotate(value=Sum("level"), n=Count("id"))
    found = {row["district_code"]: float(row["value"]) for row in rows}
    return _finish(indicator, districts, found, rows=sum(row["n"] for row in rows), **freshness)


def read_indicator(
    indicator: RiskIndicator, *, user: UserLike, districts: list[str], now: datetime
) -> SourceValues:
    """The raw values of one indicator per district, as ``user`` may read them."""
    if indicator.source_kind == SourceKind.ALERTS:
        return _alerts(indicator, user, districts, now)
    return _records(indicator, user, districts, now)
