"""The rule engine's reads of the newest readings: the same answer on both backends (a
LATERAL ``LIMIT`` per key on PostgreSQL, a window elsewhere), ties broken by id."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import timedelta

import pytest

from operations.models import MonitoringPoint, Reading
from operations.rules.engine import _latest_by_point, latest_series
from tests.operations.conftest import at, gas, ponding
from tests.operations.test_rules import compound_rule

pytestmark = pytest.mark.django_db


def _expected(point_ids: list[int], metrics: list[str], depth: int) -> dict:
    rows = Reading.objects.filter(point_id__in=point_ids, metric__in=metrics).values_list(
        "point_id", "metric", "observed_at", "value", "id"
    )
    series = defaultdict(list)
    for point_id, metric, observed_at, value, pk in rows:
        series[(point_id, metric)].append((observed_at, pk, value))
    return {
        key: [(t, v) for t, _, v in sorted(items, key=lambda i: (i[0], i[1]), reverse=True)][:depth]
        for key, items in series.items()
    }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_latest_series_matches_a_plain_reading_of_the_history(ops, seed):
    rng = random.Random(seed)
    resource = ops.resources["gas-pipeline-pressure"]
    ops.load(resource.code, [gas(f"GP{n:06d}", 0, 0.3) for n in range(4)])
    points = list(MonitoringPoint.objects.filter(resource=resource).order_by("pk"))
    readings = []
    for i in range(120):
        point = rng.choice(points)
        # Few distinct times, so that several readings of a point share one: id decides.
        readings.append(
            Reading(
                resource=resource,
                record_key=f"k{i}",
                metric=rng.choice(["pressure", "flow", "temperature"]),
                point=point,
                value=round(rng.uniform(0, 1), 3),
                observed_at=at(rng.randrange(6)),
            )
        )
    Reading.objects.bulk_create(readings)
    silent = MonitoringPoint.objects.create(
        resource=resource,
        external_id="GP999999",
        domain=points[0].domain,
        department_id=points[0].department_id,
    )
    point_ids = [p.pk for p in points[:3]] + [silent.pk]
    for depth in (1, 2, 5, 200):
        for metrics in (["pressure"], ["pressure", "flow"], ["absent"]):
            got = latest_series(point_ids + point_ids[:1], metrics, depth)
            assert got == _expected(point_ids, metrics, depth)
            assert all(len(items) <= depth for items in got.values())
    assert latest_series([], ["pressure"], 3) == {}
    assert latest_series(point_ids, [], 3) == {}


def test_compound_reads_only_each_points_newest_reading_of_its_resource(ops):
    rule = compound_rule(ops)
    ops.load(
        "road-ponding",
        [
            ponding("PD01", 0, 40),  # older and deeper: not the point's level any more
            ponding("PD01", 10, 5),
            ponding("PD02", 3, 12, district="310104"),
            ponding("PD03", 4, 18, district="310101"),
        ],
    )
    # A reading of another resource on a ponding point's district must not count.
    gas_resource = ops.resources["gas-pipeline-pressure"]
    ops.load(gas_resource.code, [gas("GP000001", 20, 99, district="310115")])
    latest = sorted(_latest_by_point(rule, ["310115", "310104"]))
    assert [(d, v, t - timedelta(0)) for d, v, t in latest] == [
        ("310104", 12.0, at(3)),
        ("310115", 5.0, at(10)),
    ]
