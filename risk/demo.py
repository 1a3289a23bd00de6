"""Demo of the risk index: a few inventories and observations, the seeded indicators and
a first snapshot (runs after the operations demo, which raised the alerts)."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import TextIO

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.utils import timezone

from hub.catalog.models import DataResource, Department
from operations.samples import load_rows
from risk.policies import ops_centre_code
from risk.seed import seed_indicators
from risk.services import compute_snapshot

DISTRICTS = [
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
]  # fmt: skip
GRADES = ["A", "B", "C", "D"]


def sample_rows(now) -> dict[str, list[dict]]:
    """Deterministic rows per resource code (observations anchored to the hour)."""
    rng = random.Random(20251205)  # noqa: S311 - demo data, not security
    hour = now.replace(minute=0, second=0, microsecond=0)
    rows: dict[str, list[dict]] = {
        "bridge-inventory": [],
        "emergency-shelters": [],
        "rainfall-stations": [],
        "traffic-congestion": [],
    }
    for n, district in enumerate(DISTRICTS):
        for b in range(2 + n % 3):
            rows["bridge-inventory"].append(
                {
                    "bridge_id": f"BR{district}{b:02d}",
                    "bridge_name": f"示例桥{district[-2:]}-{b}",
                    "district": district,
                    "structure_type": "梁桥",
                    "length": round(rng.uniform(30, 400), 1),
                    "built_year": rng.randint(1975, 2020),
                    "condition_grade": rng.choice(GRADES),
                }
            )
        for s in range(1 + n % 4):
            rows["emergency-shelters"].append(
                {
                    "shelter_id": f"SH{district}{s:02d}",
                    "shelter_name": f"避难场所{district[-2:]}-{s}",
                    "district": district,
                    "shelter_class": "Ⅱ类",
                    "area": round(rng.uniform(5000, 60000)),
                    "capacity": rng.randint(2000, 30000),
                }
            )
        rows["rainfall-stations"].append(
            {
                "station_id": f"A{district[-3:]}",
                "station_name": f"雨量站{district[-2:]}",
                "observed_at": hour,
                "district": district,
                "rainfall_1h": round(rng.uniform(0, 30), 1),
                "rainfall_24h": round(rng.uniform(5, 90), 1),
            }
        )
        rows["traffic-congestion"].append(
            {
                "segment_id": f"S{district[-3:]}",
                "road_name": f"主干道{district[-2:]}",
                "observed_at": hour - timedelta(minutes=5),
                "district": district,
                "congestion_index": round(rng.uniform(1, 9), 2),
                "avg_speed": round(rng.uniform(10, 50), 1),
            }
        )
    return rows


VIEW_PERMISSIONS = ["view_riskindicator", "view_risksnapshot"]
OPERATOR_PERMISSIONS = ["add_riskindicator", "change_riskindicator", "delete_riskindicator"]


def grant_model_permissions() -> None:
    """Demo role groups see the index in the admin; the ops centre's group edits it."""
    view = Permission.objects.filter(content_type__app_label="risk", codename__in=VIEW_PERMISSIONS)
    for name in ("role:staff", "role:steward"):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*view)
    ops = Department.objects.filter(code=ops_centre_code()).select_related("group").first()
    if ops is not None:
        ops.group.permissions.add(
            *view,
            *Permission.objects.filter(
                content_type__app_label="risk", codename__in=OPERATOR_PERMISSIONS
            ),
        )


@transaction.atomic
def load(stdout: TextIO) -> None:
    """The risk demo step."""
    resources = {r.code: r for r in DataResource.objects.all()}
    for code, rows in sample_rows(timezone.now()).items():
        if code in resources:
            load_rows(resource=resources[code], rows=rows, label="risk-demo")
    grant_model_permissions()
    seeded = seed_indicators()
    result = compute_snapshot(trigger="demo")
    stdout.write(
        f"risk: {len(seeded)} indicators seeded, snapshot #{result.snapshot.pk} "
        f"({result.scores} scores; unavailable: {', '.join(result.unavailable) or '-'})\n"
    )
