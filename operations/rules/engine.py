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
    """The last ``depth`` readings per (point, metric), newest first, in one query."""
    point_ids, metrics = list(point_ids), list(metrics)
    if not point_ids or not metrics:
        return {}
    rows = (
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
    series: dict[tuple[int, str], list[tuple[int, datetime, float]]] = defaultdict(list)
    for point_id, metric, observed_at, value, rn in rows:
        series[(point_id, metric)].append((rn, observed_at, value))
    return {key: [(at, value) for _, at, value in sorted(items)] for key, items in series.items()}


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


def _evaluate_compound_rule(rule: Rule, districts: list[str]) -> list[Outcome]:
    latest = (
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
