"""Demo of the operations view: mappings, points in several districts, readings, rules.

Readings are written as hub records of demo batches (no ingest pipeline needed) and
synced in-process, so /ops/ opens with live-looking alerts and work orders. The
timeline is anchored to the current hour: re-running within the hour changes nothing,
later runs add the newer readings.
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from typing import TextIO

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from hub.catalog.models import DataResource, Department
from operations.models import Rule, WorkOrder, WorkOrderState
from operations.samples import load_rows
from operations.services.mappings import ensure_default_mappings
from operations.services.sync import sync_batch
from operations.services.workorders import transition_work_order

STEPS = 36  # six hours of ten-minute readings

# (point id, district, lat, lon, base value, trend per step)
GAS_POINTS = [
    ("GP000101", "310104", 31.188, 121.437, 0.32, 0.0),
    ("GP000102", "310115", 31.221, 121.544, 0.33, 0.0085),  # climbs to red
    ("GP000103", "310112", 31.112, 121.381, 0.31, 0.0045),  # climbs to yellow
    ("GP000104", "310107", 31.249, 121.397, 0.30, 0.0),
    ("GP000105", "310113", 31.405, 121.489, 0.34, 0.0),
]
PONDING_POINTS = [
    ("PD0201", "310115", 31.205, 121.590, "张杨路", 2.0, 0.75),  # deep: orange + compound
    ("PD0202", "310101", 31.231, 121.485, "河南中路", 1.0, 0.35),  # shallow: blue
    ("PD0203", "310110", 31.270, 121.526, "控江路", 0.5, 0.0),
]
WATER_POINTS = [
    ("WS0301", "310113", 31.398, 121.450, 0.28, -0.0035),  # pressure falls: orange
    ("WS0302", "310117", 31.031, 121.227, 0.30, 0.0),
]
BRIDGE_SENSORS = [
    ("BR-NP-01", "NP", "310101", 31.232, 121.488, 40.0, 2.6),  # deflection: red
    ("BR-YP-02", "YP", "310109", 31.259, 121.505, 35.0, 0.0),
]

RULES = [
    {
        "name": "燃气管网压力分级阈值",
        "resource": "gas-pipeline-pressure",
        "kind": "threshold",
        "hazard": "燃气管网超压",
        "metric": "pressure",
        "blue": 0.40,
        "yellow": 0.45,
        "orange": 0.52,
        "red": 0.60,
    },
    {
        "name": "燃气压力骤升",
        "resource": "gas-pipeline-pressure",
        "kind": "rate",
        "hazard": "燃气压力突变",
        "metric": "pressure",
        "blue": 0.2,
        "yellow": 0.4,
        "orange": 0.8,
        "red": 1.2,
    },
    {
        "name": "道路积水深度连续超限",
        "resource": "road-ponding",
        "kind": "consecutive",
        "consecutive_n": 3,
        "hazard": "道路积水",
        "metric": "depth",
        "blue": 10,
        "yellow": 15,
        "orange": 25,
        "red": 40,
    },
    {
        "name": "供水管网低压",
        "resource": "water-supply-pressure",
        "kind": "threshold",
        "direction": "below",
        "hazard": "供水压力不足",
        "metric": "pressure",
        "blue": 0.22,
        "yellow": 0.18,
        "orange": 0.16,
        "red": 0.10,
    },
    {
        "name": "桥梁挠度超限",
        "resource": "bridge-structural-health",
        "kind": "threshold",
        "hazard": "桥梁结构异常",
        "metric": "deflection",
        "blue": 60,
        "yellow": 80,
        "orange": 100,
        "red": 120,
    },
    {
        "name": "暴雨预警叠加道路积水",
        "resource": "road-ponding",
        "kind": "compound",
        "hazard": "城市内涝",
        "metric": "depth",
        "threshold": 15,
        "level": 3,
        "event_resource": "weather-warnings",
        "event_type": "暴雨",
        "event_min_level": 2,
        "department": "emergency",
    },
]


def _timeline() -> list[datetime]:
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    return [end - timedelta(minutes=10 * (STEPS - 1 - i)) for i in range(STEPS)]


def _noise(rng: random.Random, scale: float) -> float:
    return rng.uniform(-scale, scale)


def sample_rows(now_steps: list[datetime]) -> dict[str, list[dict]]:
    """Rows per resource code (deterministic for a given timeline)."""
    rng = random.Random(20250701)  # noqa: S311 - demo data, not security
    rows: dict[str, list[dict]] = {code: [] for code in ("gas", "ponding", "water", "bridge")}
    for i, t in enumerate(now_steps):
        for pid, district, lat, lon, base, trend in GAS_POINTS:
            value = base + trend * i + _noise(rng, 0.006)
            rows["gas"].append(
                {
                    "point_id": pid,
                    "observed_at": t,
                    "district": district,
                    "pressure": round(max(value, 0.0), 4),
                    "temperature": round(18 + 3 * math.sin(i / 6) + _noise(rng, 0.3), 2),
                    "latitude": lat,
                    "longitude": lon,
                }
            )
        for pid, district, lat, lon, road, base, trend in PONDING_POINTS:
            rows["ponding"].append(
                {
                    "point_id": pid,
                    "observed_at": t,
                    "district": district,
                    "road_name": road,
                    "depth": round(max(base + trend * i + _noise(rng, 0.5), 0.0), 1),
                    "latitude": lat,
                    "longitude": lon,
                }
            )
        for pid, district, lat, lon, base, trend in WATER_POINTS:
            rows["water"].append(
                {
                    "station_id": pid,
                    "observed_at": t,
                    "district": district,
                    "pressure": round(max(base + trend * i + _noise(rng, 0.004), 0.0), 4),
                    "turbidity": round(0.3 + _noise(rng, 0.05), 3),
                    "latitude": lat,
                    "longitude": lon,
                }
            )
        for sid, bridge, district, lat, lon, base, trend in BRIDGE_SENSORS:
            rows["bridge"].append(
                {
                    "bridge_id": bridge,
                    "sensor_id": sid,
                    "observed_at": t,
                    "district": district,
                    "deflection": round(base + trend * i + _noise(rng, 1.0), 2),
                    "strain": round(300 + _noise(rng, 20), 1),
                    "frequency": round(2.1 + _noise(rng, 0.05), 3),
                    "latitude": lat,
                    "longitude": lon,
                }
            )
    return rows


def ensure_rules() -> int:
    """Create or update the demo rules (by name and resource)."""
    resources = {r.code: r for r in DataResource.objects.all()}
    for spec in RULES:
        spec = dict(spec)
        resource = resources[spec.pop("resource")]
        if "event_resource" in spec:
            spec["event_resource"] = resources[spec["event_resource"]]
        if "department" in spec:
            spec["department"] = Department.objects.get(code=spec["department"])
        rule = Rule.objects.filter(name=spec["name"], resource=resource).first() or Rule(
            resource=resource
        )
        for name, value in spec.items():
            setattr(rule, name, value)
        rule.full_clean()
        rule.save()
    return len(RULES)


# Model permissions of the operations view for the hub's demo role groups; which rows
# a user sees is still decided per resource by the permission chokepoint.
ROLE_PERMISSIONS = {
    "role:staff": [
        "view_monitoringpoint",
        "view_event",
        "view_alert",
        "view_workorder",
        "change_workorder",
        "view_rule",
        "view_resourcemapping",
    ],
    "role:steward": [
        "view_monitoringpoint",
        "view_event",
        "view_alert",
        "view_workorder",
        "change_workorder",
        "view_rule",
        "add_rule",
        "change_rule",
        "view_resourcemapping",
        "change_resourcemapping",
        "view_syncrun",
    ],
}


def grant_role_permissions() -> None:
    """Add the operations model permissions to the demo role groups (idempotently)."""
    for name, codenames in ROLE_PERMISSIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label="operations", codename__in=codenames
                )
            )


@transaction.atomic
def load(stdout: TextIO) -> None:
    """The operations demo step (runs after the hub's catalog)."""
    ensure_default_mappings()
    grant_role_permissions()
    rules = ensure_rules()
    timeline = _timeline()
    rows = sample_rows(timeline)
    resources = {r.code: r for r in DataResource.objects.all()}
    warning_at = timeline[-13]  # two hours ago
    rows["warnings"] = [
        {
            "warning_id": f"SH-{warning_at:%Y%m%d%H}-BY-{district}",
            "issued_at": warning_at,
            "district": district,
            "warning_type": "暴雨",
            "level": "橙色",
            "content": "预计未来3小时内将出现50毫米以上降水，请注意防范。",
        }
        for district in ("310115", "310101")
    ]
    batches = [
        load_rows(resource=resources["weather-warnings"], rows=rows["warnings"], label="demo"),
        load_rows(resource=resources["gas-pipeline-pressure"], rows=rows["gas"], label="demo"),
        load_rows(resource=resources["road-ponding"], rows=rows["ponding"], label="demo"),
        load_rows(resource=resources["water-supply-pressure"], rows=rows["water"], label="demo"),
        load_rows(
            resource=resources["bridge-structural-health"], rows=rows["bridge"], label="demo"
        ),
    ]
    for batch in batches:
        sync_batch(batch_id=batch.pk)
    # Show a work order further along its life cycle, once.
    if not WorkOrder.objects.exclude(state=WorkOrderState.DISPATCHED).exists():
        for order in WorkOrder.objects.order_by("id")[:2]:
            transition_work_order(user=None, work_order=order, to_state=WorkOrderState.ACCEPTED)
    stdout.write(
        f"operations: {len(batches)} demo batches, {rules} rules, "
        f"{WorkOrder.objects.count()} work orders\n"
    )
