"""The seeded indicators of the demo city, written through an audited service.

They use the demo resources that exist (fixtures/resources.json) and the operations
alerts. Not available in the demo catalog, so not seeded: pipe age (管龄, the gas resource
has no such field), fire stations (消防站, no resource), population (人口, no resource).
Conditional resources (桥梁结构健康监测, 燃气泄漏报警, 医疗机构床位, 泵站) are seeded on
purpose: the ops centre reads them only with an approved grant, so until one exists they
appear as 无权读取 (the computation does not read around the door).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext_noop

from hub.catalog.models import DataResource
from hub.catalog.restricted import write_service
from permissions.audit import log_event
from risk.models import Aggregation, Dimension, Direction, Hazard, RiskIndicator, SourceKind

# Names are stored in Chinese; gettext_noop makes them msgids, so that the pages show
# them in the viewer's language (risk.names.indicator_label).
HE, V, LCC = Dimension.HAZARD_EXPOSURE, Dimension.VULNERABILITY, Dimension.COPING
LESS = Direction.HIGHER_LESS_RISK

SEED: list[dict[str, Any]] = [
    # Hazard & exposure ------------------------------------------------------------
    {
        "code": "gas-alerts",
        "name": gettext_noop("燃气在办预警"),
        "dimension": HE,
        "hazard": Hazard.GAS,
        "source_kind": SourceKind.ALERTS,
        "aggregation": Aggregation.ALERT_LEVELS,
        "match_values": ["gas"],
        "lower_bound": 0,
        "upper_bound": 12,
    },
    {
        "code": "gas-pressure-max",
        "name": gettext_noop("燃气管网24小时最高压力"),
        "dimension": HE,
        "hazard": Hazard.GAS,
        "resource": "gas-pipeline-pressure",
        "field": "pressure",
        "aggregation": Aggregation.MAX,
        "window_hours": 24,
        "lower_bound": 0.2,
        "upper_bound": 0.6,
    },
    {
        "code": "bridge-alerts",
        "name": gettext_noop("桥梁在办预警"),
        "dimension": HE,
        "hazard": Hazard.BRIDGE,
        "source_kind": SourceKind.ALERTS,
        "aggregation": Aggregation.ALERT_LEVELS,
        "match_values": ["bridge"],
        "lower_bound": 0,
        "upper_bound": 12,
    },
    {
        "code": "bridge-deflection-max",
        "name": gettext_noop("桥梁24小时最大挠度"),
        "dimension": HE,
        "hazard": Hazard.BRIDGE,
        "resource": "bridge-structural-health",
        "field": "deflection",
        "aggregation": Aggregation.MAX,
        "window_hours": 24,
        "lower_bound": 0,
        "upper_bound": 120,
    },
    {
        "code": "ponding-depth-max",
        "name": gettext_noop("道路积水24小时最大深度"),
        "dimension": HE,
        "hazard": Hazard.WATERLOGGING,
        "resource": "road-ponding",
        "field": "depth",
        "aggregation": Aggregation.MAX,
        "window_hours": 24,
        "lower_bound": 0,
        "upper_bound": 40,
    },
    {
        "code": "rainfall-24h-max",
        "name": gettext_noop("24小时最大降雨量"),
        "dimension": HE,
        "hazard": Hazard.WATERLOGGING,
        "resource": "rainfall-stations",
        "field": "rainfall_24h",
        "aggregation": Aggregation.MAX,
        "window_hours": 24,
        "lower_bound": 0,
        "upper_bound": 100,
    },
    {
        "code": "rainstorm-warnings",
        "name": gettext_noop("24小时暴雨预警信号数"),
        "dimension": HE,
        "hazard": Hazard.WATERLOGGING,
        "resource": "weather-warnings",
        "field": "warning_type",
        "aggregation": Aggregation.COUNT_MATCH,
        "match_values": ["暴雨"],
        "window_hours": 24,
        "lower_bound": 0,
        "upper_bound": 3,
    },
    {
        "code": "drainage-alerts",
        "name": gettext_noop("排水内涝在办预警"),
        "dimension": HE,
        "hazard": Hazard.DRAINAGE,
        "source_kind": SourceKind.ALERTS,
        "aggregation": Aggregation.ALERT_LEVELS,
        "match_values": ["drainage"],
        "lower_bound": 0,
        "upper_bound": 12,
    },
    {
        "code": "water-supply-alerts",
        "name": gettext_noop("供水在办预警"),
        "dimension": HE,
        "hazard": Hazard.WATER_SUPPLY,
        "source_kind": SourceKind.ALERTS,
        "aggregation": Aggregation.ALERT_LEVELS,
        "match_values": ["water_supply"],
        "lower_bound": 0,
        "upper_bound": 12,
    },
    {
        "code": "all-alerts",
        "name": gettext_noop("全部在办预警"),
        "dimension": HE,
        "hazard": Hazard.ALL,
        "source_kind": SourceKind.ALERTS,
        "aggregation": Aggregation.ALERT_LEVELS,
        "lower_bound": 0,
        "upper_bound": 20,
    },
    # Vulnerability ----------------------------------------------------------------
    {
        "code": "bridge-poor-grade-share",
        "name": gettext_noop("技术状况C级及以下桥梁占比"),
        "dimension": V,
        "hazard": Hazard.BRIDGE,
        "resource": "bridge-inventory",
        "field": "condition_grade",
        "aggregation": Aggregation.SHARE,
        "match_values": ["C", "D", "E"],
    },
    {
        "code": "gas-leak-alarms",
        "name": gettext_noop("30天燃气泄漏报警数"),
        "dimension": V,
        "hazard": Hazard.GAS,
        "resource": "gas-leak-alarms",
        "aggregation": Aggregation.COUNT,
        "window_hours": 720,
    },
    {
        "code": "traffic-congestion",
        "name": gettext_noop("24小时平均拥堵指数"),
        "dimension": V,
        "hazard": Hazard.ALL,
        "resource": "traffic-congestion",
        "field": "congestion_index",
        "aggregation": Aggregation.MEAN,
        "window_hours": 24,
    },
    # Lack of coping capacity (more capacity, less risk) ---------------------------------
    {
        "code": "shelter-capacity",
        "name": gettext_noop("应急避难场所可容纳人数"),
        "dimension": LCC,
        "hazard": Hazard.ALL,
        "resource": "emergency-shelters",
        "field": "capacity",
        "aggregation": Aggregation.SUM,
        "direction": LESS,
        "lower_bound": 0,
        "upper_bound": 100000,
    },
    {
        "code": "hospital-beds",
        "name": gettext_noop("医疗机构开放床位"),
        "dimension": LCC,
        "hazard": Hazard.ALL,
        "resource": "hospital-emergency-capacity",
        "field": "beds_total",
        "aggregation": Aggregation.SUM,
        "direction": LESS,
        "lower_bound": 0,
        "upper_bound": 20000,
    },
    {
        "code": "pump-capacity",
        "name": gettext_noop("排水泵站排水能力"),
        "dimension": LCC,
        "hazard": Hazard.DRAINAGE,
        "resource": "pump-station-operation",
        "field": "capacity",
        "aggregation": Aggregation.MAX,
        "window_hours": 24,
        "direction": LESS,
    },
]


@write_service
@transaction.atomic
def seed_indicators(*, specs: list[dict[str, Any]] | None = None) -> list[RiskIndicator]:
    """Create the seeded indicators that are missing (by code); existing ones, possibly
    edited by operators, are left alone. Audited (system actor)."""
    created = []
    resources = {r.code: r for r in DataResource.objects.all()}
    for spec in specs if specs is not None else SEED:
        spec = dict(spec)
        if RiskIndicator.objects.filter(code=spec["code"]).exists():
            continue
        code = spec.pop("resource", None)
        if code is not None and code not in resources:
            continue  # the resource is not in this catalog
        indicator = RiskIndicator(resource=resources.get(code) if code else None, **spec)
        indicator.full_clean()
        indicator.save()
        created.append(indicator)
    if created:
        log_event(
            actor=None,
            action="risk_indicator",
            detail={"op": "seed", "codes": [i.code for i in created]},
        )
    return created
