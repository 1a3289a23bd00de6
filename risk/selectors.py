"""Reads of the risk index, through the doors of its models and of the resources.

Visibility (docs/OPERATIONS.md, 风险谱系): the index, its dimensions and the normalised
indicator values are an aggregate over districts and visible to all staff. What the
breakdown says about a source is narrowed per viewer: the source resource's code and name
only when the viewer sees that resource in the catalog (``DataResource`` door, ``view``),
and the raw value only when the viewer may read its records (``view_records``).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from hub.catalog.models import DataResource
from hub.catalog.restricted import VIEW
from permissions.record_access import RecordAccess, record_access
from permissions.selectors import VIEW_RECORDS, UserLike
from risk.index import DEFAULT_CLASSES
from risk.models import (
    Hazard,
    IndicatorStatus,
    RiskIndicator,
    RiskIndicatorValue,
    RiskScore,
    RiskSnapshot,
)
from risk.services import risk_classes

CLASS_LABELS = {
    "very_low": _("很低"),
    "low": _("低"),
    "medium": _("中"),
    "high": _("高"),
    "very_high": _("很高"),
    "no_data": _("无数据"),
}
CLASS_COLORS = {
    "very_low": "#1a9850",
    "low": "#91cf60",
    "medium": "#fee08b",
    "high": "#fc8d59",
    "very_high": "#d73027",
    "no_data": "#64748b",
}
MAX_HISTORY = 500


def class_label(name: str) -> str:
    return str(CLASS_LABELS.get(name, name))


def legend() -> list[dict]:
    """The classes with their bounds (lower inclusive, upper exclusive) and colours."""
    classes = list(risk_classes()) or list(DEFAULT_CLASSES)
    entries = []
    for position, (name, lower) in enumerate(classes):
        upper = classes[position + 1][1] if position + 1 < len(classes) else 10.0
        entries.append(
            {
                "class": name,
                "label": class_label(name),
                "min": lower,
                "max": upper,
                "color": CLASS_COLORS.get(name, "#999999"),
            }
        )
    entries.append(
        {
            "class": "no_data",
            "label": class_label("no_data"),
            "min": None,
            "max": None,
            "color": CLASS_COLORS["no_data"],
        }
    )
    return entries


def latest_snapshot(*, user: UserLike) -> RiskSnapshot | None:
    return RiskSnapshot.objects.restrict(user, VIEW).order_by("-computed_at", "-id").first()


def hazards(*, user: UserLike, snapshot: RiskSnapshot) -> list[str]:
    return list(
        RiskScore.objects.restrict(user, VIEW)
        .filter(snapshot=snapshot)
        .order_by("hazard")
        .values_list("hazard", flat=True)
        .distinct()
    )


def source_visibility(*, user: UserLike, resource_ids: set[int]) -> tuple[set[int], set[int]]:
    """(resources whose name the viewer sees, resources whose records the viewer reads)."""
    if not resource_ids:
        return set(), set()
    resources = DataResource.objects.filter(pk__in=resource_ids)
    named = set(resources.restrict(user, VIEW).values_list("pk", flat=True))
    readable = set(resources.restrict(user, VIEW_RECORDS).values_list("pk", flat=True))
    return named, readable


def _value_field(value: RiskIndicatorValue) -> str:
    """The record field a value aggregates ('' for a count), from the configuration it was
    computed with (``RiskIndicator.config_key``: kind|resource|field|…)."""
    parts = value.config_key.split("|", 3)
    return parts[2] if len(parts) > 3 else ""


def _shows_raw(value: RiskIndicatorValue, accesses: dict[int, RecordAccess | None]) -> bool:
    """Whether the viewer reads what a raw value aggregates: the rows of the whole
    district (the grant's row scope covers it) and the field in clear. Else a count or
    sum gives away rows outside the scope, a max over one row the hidden value itself."""
    if value.resource_id is None:
        return True
    access = accesses.get(value.resource_id)
    if access is None:
        return False
    if access.districts is not None and not any(
        value.district_code.startswith(code) for code in access.districts
    ):
        return False
    name = _value_field(value)
    return not name or (name in access.field_names and name not in access.maskers)


def _raw(value: float | None) -> float | None:
    """Raw values to six significant digits (shares and means come out long)."""
    return None if value is None else float(f"{value:.6g}")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def district_scores(
    *,
    user: UserLike,
    snapshot: RiskSnapshot,
    hazard: str | None = None,
    district: str | None = None,
) -> list[dict]:
    """Scores of one snapshot with their per-indicator breakdown, as the viewer may see."""
    scores = RiskScore.objects.restrict(user, VIEW).filter(snapshot=snapshot)
    values = RiskIndicatorValue.objects.restrict(user, VIEW).filter(snapshot=snapshot)
    if hazard:
        scores = scores.filter(hazard=hazard)
    if district:
        scores = scores.filter(district_code=district)
        values = values.filter(district_code=district)
    values = list(values.order_by("dimension", "indicator_code"))
    names = dict(
        RiskIndicator.objects.restrict(user, VIEW)
        .filter(code__in={v.indicator_code for v in values})
        .values_list("code", "name")
    )
    resource_ids = {v.resource_id for v in values if v.resource_id}
    named, readable = source_visibility(user=user, resource_ids=resource_ids)
    resources = {
        r.pk: r
        for r in DataResource.objects.restrict(user, VIEW).filter(pk__in=named).only("code", "name")
    }
    accesses = {
        r.pk: record_access(user, r)
        for r in DataResource.objects.restrict(user, VIEW_RECORDS).filter(pk__in=readable)
    }
    by_district: dict[str, list[RiskIndicatorValue]] = {}
    for value in values:
        by_district.setdefault(value.district_code, []).append(value)
    results = []
    for score in scores.order_by("hazard", "district_code"):
        breakdown = []
        for value in by_district.get(score.district_code, []):
            if score.hazard != Hazard.ALL and value.hazard not in (score.hazard, Hazard.ALL):
                continue
            resource = resources.get(value.resource_id) if value.resource_id else None
            shows_raw = _shows_raw(value, accesses)
            breakdown.append(
                {
                    "code": value.indicator_code,
                    "name": names.get(value.indicator_code, value.indicator_code),
                    "dimension": value.dimension,
                    "hazard": value.hazard,
                    "weight": value.weight,
                    "raw": _raw(value.raw) if shows_raw else None,
                    "normalised": _round(value.normalised),
                    "status": value.status,
                    "status_label": str(IndicatorStatus(value.status).label),
                    "stale": value.stale,
                    "value_at": value.value_at,
                    "source": (
                        {"code": resource.code, "name": resource.name} if resource else None
                    ),
                    "source_loaded_at": value.source_loaded_at if resource else None,
                }
            )
        results.append(
            {
                "district_code": score.district_code,
                "district_name": score.district_name,
                "hazard": score.hazard,
                "hazard_exposure": _round(score.hazard_exposure),
                "vulnerability": _round(score.vulnerability),
                "lack_of_coping_capacity": _round(score.coping),
                "risk": _round(score.risk),
                "class": score.risk_class,
                "class_label": class_label(score.risk_class),
                "stale_indicators": score.stale_indicators,
                "indicators": breakdown,
            }
        )
    return results


def history(
    *, user: UserLike, district: str, hazard: str = Hazard.ALL, limit: int = 100
) -> list[dict]:
    """The trend of one district and hazard, oldest first."""
    rows = (
        RiskScore.objects.restrict(user, VIEW)
        .filter(district_code=district, hazard=hazard)
        .select_related("snapshot")
        .order_by("-snapshot__computed_at", "-snapshot_id")[: min(limit, MAX_HISTORY)]
    )
    return [
        {
            "computed_at": row.snapshot.computed_at,
            "risk": _round(row.risk),
            "class": row.risk_class,
            "hazard_exposure": _round(row.hazard_exposure),
            "vulnerability": _round(row.vulnerability),
            "lack_of_coping_capacity": _round(row.coping),
            "stale_indicators": row.stale_indicators,
        }
        for row in reversed(list(rows))
    ]


def map_layer(*, user: UserLike, hazard: str = Hazard.ALL) -> dict:
    """District code, name, index and class for the map, with the legend."""
    snapshot = latest_snapshot(user=user)
    districts = []
    if snapshot is not None:
        scores = (
            RiskScore.objects.restrict(user, VIEW)
            .filter(snapshot=snapshot, hazard=hazard)
            .order_by("district_code")
        )
        districts = [
            {
                "code": s.district_code,
                "name": s.district_name,
                "index": _round(s.risk),
                "class": s.risk_class,
                "class_label": class_label(s.risk_class),
                "color": CLASS_COLORS.get(s.risk_class, "#999999"),
                "stale_indicators": s.stale_indicators,
            }
            for s in scores
        ]
    return {
        "hazard": hazard,
        "computed_at": snapshot.computed_at if snapshot else None,
        "districts": districts,
        "legend": legend(),
    }
