"""Benchmark of the ops centre reads: the alerts API, the /ops/ summary and the 大屏 data.

Builds a city-sized operations picture on the demo catalog (``--rows`` open alerts, 20k by
default, one work order each, spread over the demo resources, departments and districts,
plus 2,000 points) and measures, through the whole stack with Django's test client:
- ``GET /api/v1/ops/alerts/?state=open&limit=50`` (the dashboard's alert list),
- ``GET /api/v1/ops/summary/`` (the /ops/ summary: levels, domains, districts, timeliness,
  freshness),
- ``GET /ops/screen/data/`` (the 大屏's poll),
for the ops centre (every department's alerts under 一网统管, each read audited), a
department's staff (through their grants) and a superuser. The floor is a bare
``SELECT count(*)`` of the open alerts.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import timedelta

PATHS = {
    "alerts": ("/api/v1/ops/alerts/", {"state": "open", "limit": 50}),
    "summary": ("/api/v1/ops/summary/", {}),
    "screen": ("/ops/screen/data/", {}),
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def build(alerts: int, points: int) -> None:
    """The demo catalog and ``alerts`` open alerts with orders (bulk, bench data only)."""
    from django.utils import timezone

    from hub.catalog.models import CodeItem, DataResource
    from hub.demo import ensure_role_groups, load_catalog
    from operations.models import Alert, MonitoringPoint, WorkOrder

    load_catalog()
    ensure_role_groups()
    if Alert.objects.filter(hazard="bench-ops").count() == alerts:
        return
    WorkOrder.objects.filter(alert__hazard="bench-ops").delete()
    Alert.objects.filter(hazard="bench-ops").delete()
    MonitoringPoint.objects.filter(external_id__startswith="BENCH-OPS-").delete()
    resources = list(DataResource.objects.select_related("provider").order_by("code"))
    districts = list(
        CodeItem.objects.filter(code_list__code="gb2260-shanghai").values_list("code", flat=True)
    )
    now = timezone.now()
    made = MonitoringPoint.objects.bulk_create(
        MonitoringPoint(
            resource=resources[i % len(resources)],
            external_id=f"BENCH-OPS-{i:06d}",
            name=f"bench point {i}",
            domain="gas",
            department=resources[i % len(resources)].provider,
            district_code=districts[i % len(districts)],
            latitude=31.0 + (i % 50) / 100,
            longitude=121.2 + (i % 60) / 100,
        )
        for i in range(points)
    )
    batch = []
    for i in range(alerts):
        point = made[i % len(made)]
        batch.append(
            Alert(
                scope=f"bench:{i}",
                hazard="bench-ops",
                domain="gas",
                resource=point.resource,
                point=point,
                district_code=point.district_code,
                level=1 + i % 4,
                value=1.0,
                opened_at=now - timedelta(minutes=i % 600),
            )
        )
    created = Alert.objects.bulk_create(batch, batch_size=5000)
    WorkOrder.objects.bulk_create(
        (
            WorkOrder(
                code=f"GDBENCH{a.pk:09d}",
                alert=a,
                department=a.resource.provider,
                dispatched_at=now,
                accept_by=now + timedelta(hours=1),
                resolve_by=now + timedelta(hours=4),
                history=[{"state": "dispatched", "at": now.isoformat()}],
            )
            for a in created
        ),
        batch_size=5000,
    )


def make_user(name: str, department: str | None, superuser: bool = False):
    from django.contrib.auth import get_user_model

    from hub.catalog.models import Department

    user, _created = get_user_model().objects.get_or_create(
        username=name, defaults={"is_staff": True, "is_superuser": superuser}
    )
    if department:
        user.groups.set([Department.objects.get(code=department).group])
    return user


def run(args: argparse.Namespace) -> str:
    from django.db import connection
    from django.test import Client, override_settings

    alerts = args.rows or (2_000 if args.quick else 20_000)
    iterations = 20 if args.quick else 100
    started = time.perf_counter()
    build(alerts, 2_000)
    build_seconds = time.perf_counter() - started
    callers = {
        "ops centre": make_user("bench-ops-centre", "cityops"),
        "department": make_user("bench-ops-water", "water"),
        "superuser": make_user("bench-ops-root", None, superuser=True),
    }
    series: dict[tuple[str, str], list[float]] = {}
    with override_settings(ALLOWED_HOSTS=["*"]):
        for caller, user in callers.items():
            client = Client()
            client.force_login(user)
            for path_name, (path, params) in PATHS.items():
                values = series.setdefault((caller, path_name), [])
                for i in range(iterations + 5):
                    t0 = time.perf_counter()
                    response = client.get(path, params)
                    elapsed = time.perf_counter() - t0
                    assert response.status_code == 200, (caller, path, response.status_code)
                    if i >= 5:  # warm-up
                        values.append(elapsed)
    floor = []
    with connection.cursor() as cursor:
        for _ in range(iterations):
            t0 = time.perf_counter()
            cursor.execute("SELECT count(*) FROM operations_alert WHERE state = 'open'")
            cursor.fetchone()
            floor.append(time.perf_counter() - t0)
    lines = [
        "## Ops centre reads (alerts API, /ops/ summary, 大屏 data)",
        "",
        f"{alerts:,} open alerts with work orders, 2,000 points, demo catalog "
        f"(built in {build_seconds:.1f} s); {iterations} requests each after 5 warm-up, "
        "Django test client, PostgreSQL. Ops centre reads append one audit event each.",
        "",
        "| caller | endpoint | p50 ms | p95 ms |",
        "| --- | --- | ---: | ---: |",
    ]
    for (caller, path_name), values in series.items():
        lines.append(
            f"| {caller} | {path_name} | {statistics.median(values) * 1000:.1f} "
            f"| {percentile(values, 0.95) * 1000:.1f} |"
        )
    lines += [
        "",
        "Floor: `SELECT count(*)` of the open alerts, "
        f"p50 {statistics.median(floor) * 1000:.2f} ms.",
        "",
    ]
    return "\n".join(lines)
