"""Evaluate rules for the points (and districts) a sync touched.

Evaluation is state-based: it computes the level each (rule, scope) should have now from
the stored readings and events, so running it twice gives the same outcomes. The
reconciliation of outcomes with open alerts lives in ``operations.services.alerts``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import F, Q, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from operations.models import Event, MonitoringPoint, Reading, Rule, RuleKind
from operations.rules import levels

LEVELLED = (RuleKind.THRESHOLD, RuleKind.CONSECUTIVE, RuleKind.RATE)


@dataclass(frozen=True)
class Outcome:
    """The level one rule gives one scope (0 means: no alert should be open)."""

    rule: Rule | None
    scope: str
    level: int
    at: datetime
    value: float | None
    resource_id: int
    domain: str
    department_id: int
    district_code: str = ""
    point_id: int | None = None
    other_resource_id: int | None = None
    hazard: str = ""
    message: str = ""

    @property
    def key(self) -> tuple[int | None, str]:
        """Identity of the alert this outcome concerns."""
        return (self.rule.pk if self.rule else None, self.scope)


def point_scope(point_id: int) -> str:
    """Scope string of a point alert."""
    return f"point:{point_id}"


def district_scope(code: str) -> str:
    """Scope string of a district (area) alert."""
    return f"district:{code}"


def latest_series(
    point_ids: Iterable[int], metrics: Iterable[str], depth: int
) -> dict[tuple[int, str], list[tuple[datetime, float]]]:
    """The last ``depth`` readings per (point, metric), newest first, in one query.

    On PostgreSQL one LATERAL ``LIMIT depth`` per (point, metric) walks the (point,
    metric, observed_at) index backwards: the cost follows the points and the depth, not
    the history each point has gathered (a window over every reading of the points grew
    with it, so a sensor's syncs slowed down the longer it reported).
    """
    point_ids, metrics = sorted(set(point_ids)), sorted(set(metrics))
    if not point_ids or not metrics:
        return {}
    if connection.vendor == "postgresql":
        reading = Reading._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.point_id, m.metric, r.observed_at, r.value "  # noqa: S608 - only the table name is interpolated
                "FROM unnest(%s::bigint[]) AS p(point_id) "
                "CROSS JOIN unnest(%s::text[]) AS m(metric) "
                "CROSS JOIN LATERAL (SELECT x.observed_at, x.value, x.id "
                f"FROM {reading} x WHERE x.point_id = p.point_id AND x.metric = m.metric "
                "ORDER BY x.observed_at DESC, x.id DESC LIMIT %s) AS r "
                "ORDER BY p.point_id, m.metric, r.observed_at DESC, r.id DESC",
                [point_ids, metrics, depth],
            )
            rows = cursor.fetchall()
        series: dict[tuple[int, str], list[tuple[datetime, float]]] = defaultdict(list)
        for point_id, metric, observed_at, value in rows:
            series[(point_id, metric)].append((observed_at, value))
        return dict(series)
    ranked = (
        Reading.objects.filter(point_id__in=point_ids, metric__in=metrics)
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("point_id"), F("metric")],
                order_by=[F("observed_at").desc(), F("id").desc()],
            )
        )
        .filter(rn__lte=depth)
        .order_by()
        .values_list("point_id", "metric", "observed_at", "value", "rn")
    )
    numbered: dict[tuple[int, str], list[tuple[int, datetime, float]]] = defaultdict(list)
    for point_id, metric, observed_at, value, rn in ranked:
        numbered[(point_id, metric)].append((rn, observed_at, value))
    return {key: [(at, value) for _, at, value in sorted(items)] for key, items in numbered.items()}


def _point_rules(points: list[MonitoringPoint]) -> list[Rule]:
    resource_ids = {p.resource_id for p in points}
    point_ids = [p.pk for p in points]
    return list(
        Rule.objects.filter(
            resource_id__in=resource_ids,
            is_active=True,
            kind__in=[*LEVELLED, RuleKind.STALENESS],
        )
        .filter(Q(point__isnull=True) | Q(point_id__in=point_ids))
        .select_related("resource")
    )


def evaluate_points(point_ids: Iterable[int], *, now: datetime | None = None) -> list[Outcome]:
    """Outcomes of every active point rule (threshold, consecutive, rate, staleness)."""
    now = now or timezone.now()
    points = list(MonitoringPoint.objects.filter(pk__in=list(point_ids)))
    if not points:
        return []
    rules = _point_rules(points)
    by_resource: dict[int, list[Rule]] = defaultdict(list)
    by_point: dict[int, list[Rule]] = defaultdict(list)
    for rule in rules:
        (by_point[rule.point_id] if rule.point_id else by_resource[rule.resource_id]).append(rule)
    levelled = [r for r in rules if r.kind in LEVELLED]
    depth = max([2, *(r.consecutive_n for r in levelled)])
    series = latest_series([p.pk for p in points], {r.metric for r in levelled}, depth)
    outcomes = []
    for point in points:
        for rule in by_resource[point.resource_id] + by_point[point.pk]:
            outcomes.append(_evaluate_point_rule(rule, point, series, now))
    return outcomes


def _evaluate_point_rule(
    rule: Rule, point: MonitoringPoint, series: dict, now: datetime
) -> Outcome:
    points_series = series.get((point.pk, rule.metric), [])
    value: float | None = points_series[0][1] if points_series else None
    at = points_series[0][0] if points_series else (point.last_observed_at or now)
    if rule.kind == RuleKind.THRESHOLD:
        level = levels.threshold_level(rule, points_series)
    elif rule.kind == RuleKind.CONSECUTIVE:
        level = levels.consecutive_level(rule, points_series)
    elif rule.kind == RuleKind.RATE:
        level = levels.rate_level(rule, points_series)
        value = levels.rate_per_hour(points_series)
    else:
        level = levels.staleness_level(rule, point.last_observed_at, now)
        at, value = now, None
    return Outcome(
        rule=rule,
        scope=point_scope(point.pk),
        level=level,
        at=at,
        value=value,
        resource_id=point.resource_id,
        domain=point.domain,
        department_id=rule.department_id or rule.resource.provider_id,
        district_code=point.district_code,
        point_id=point.pk,
        hazard=rule.hazard,
        message=f"{point.name or point.external_id} {rule.name}",
    )


def evaluate_compound(
    *, resource_ids: Iterable[int], district_codes: Iterable[str]
) -> list[Outcome]:
    """Outcomes of compound rules that involve ``resource_ids``, for the given districts."""
    resource_ids, districts = set(resource_ids), sorted(set(district_codes) - {""})
    if not resource_ids or not districts:
        return []
    rules = Rule.objects.filter(is_active=True, kind=RuleKind.COMPOUND).filter(
        Q(resource_id__in=resource_ids) | Q(event_resource_id__in=resource_ids)
    )
    outcomes = []
    for rule in rules.select_related("resource"):
        outcomes.extend(_evaluate_compound_rule(rule, districts))
    return outcomes


def _latest_by_point(rule: Rule, districts: list[str]) -> list[tuple[str, float, datetime]]:
    """(district, value, observed_at) of the newest reading of each of the rule's points in
    ``districts``: on PostgreSQL one LATERAL ``LIMIT 1`` per point (see ``latest_series``).
    A reading's point belongs to the reading's resource (the sync joins them so)."""
    if connection.vendor == "postgresql":
        reading, point = Reading._meta.db_table, MonitoringPoint._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT p.district_code, r.value, r.observed_at "  # noqa: S608 - only table names are interpolated
                f"FROM {point} p CROSS JOIN LATERAL (SELECT x.value, x.observed_at "
                f"FROM {reading} x WHERE x.point_id = p.id AND x.metric = %s "
                "AND x.resource_id = %s ORDER BY x.observed_at DESC, x.id DESC LIMIT 1) AS r "
                "WHERE p.resource_id = %s AND p.district_code = ANY(%s)",
                [rule.metric, rule.resource_id, rule.resource_id, districts],
            )
            return cursor.fetchall()
    return list(
        Reading.objects.filter(
            resource_id=rule.resource_id,
            metric=rule.metric,
            point__district_code__in=districts,
        )
        .annotate(
            rn=Window(
                RowNumber(),
                partition_by=[F("point_id")],
                order_by=[F("observed_at").desc(), F("id").desc()],
            )
        )
        .filter(rn=1)
        .order_by()
        .values_list("point__district_code", "value", "observed_at")
    )


def _evaluate_compound_rule(rule: Rule, districts: list[str]) -> list[Outcome]:
    latest = _latest_by_point(rule, districts)
    worst: dict[str, float] = {}
    times: dict[str, datetime] = {}
    above = rule.direction != "below"
    for district, value, observed_at in latest:
        if district not in worst or (value > worst[district] if above else value < worst[district]):
            worst[district] = value
        times[district] = max(times.get(district, observed_at), observed_at)
    events = list(
        Event.objects.filter(
            resource_id=rule.event_resource_id,
            event_type=rule.event_type,
            district_code__in=districts,
        ).values_list("district_code", "level", "occurred_at", "ended_at")
    )
    # "Now" for a district is the newest fact we hold about it: readings or warnings.
    for district, _, occurred_at, ended_at in events:
        newest = max(t for t in (occurred_at, ended_at) if t is not None)
        times[district] = max(times.get(district, newest), newest)
    outcomes = []
    for district in districts:
        at = times.get(district)
        if at is None:
            continue
        active = any(
            d == district
            and level >= rule.event_min_level
            and occurred_at <= at
            and (ended_at is None or ended_at > at)
            for d, level, occurred_at, ended_at in events
        )
        level = levels.compound_level(rule, worst.get(district), active)
        outcomes.append(
            Outcome(
                rule=rule,
                scope=district_scope(district),
                level=level,
                at=at,
                value=worst.get(district),
                resource_id=rule.resource_id,
                other_resource_id=rule.event_resource_id,
                domain=rule.resource.domain,
                department_id=rule.department_id or rule.resource.provider_id,
                district_code=district,
                hazard=rule.hazard,
                message=rule.name,
            )
        )
    return outcomes
