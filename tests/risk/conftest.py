"""Fixtures of the risk tests: the demo catalog, a loader of rows, the worked example."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

A, B = "310101", "310115"  # 黄浦区, 浦东新区


@pytest.fixture
def risk_env(catalog):
    """The catalog plus ``load(code, rows)`` (a loaded batch, no sync) and ``seed(specs)``."""
    from operations.samples import load_rows
    from risk.seed import seed_indicators

    resources = catalog["resources"]
    now = timezone.now()

    class Env:
        pass

    env = Env()
    env.resources = resources
    env.departments = catalog["departments"]
    env.now = now

    def load(code: str, rows: list[dict]):
        return load_rows(resource=resources[code], rows=rows, label=f"risk-test-{code}")

    def seed(specs: list[dict]):
        return seed_indicators(specs=specs)

    env.load = load
    env.seed = seed
    return env


def worked_rows(now) -> dict[str, list[dict]]:
    """The data of the worked example (see test_compute.py)."""
    t = now - timedelta(minutes=10)
    return {
        "road-ponding": [
            {"point_id": "P1", "observed_at": t, "district": A, "depth": 4.0},
            {"point_id": "P2", "observed_at": t, "district": A, "depth": 10.0},
            {"point_id": "P3", "observed_at": t, "district": B, "depth": 30.0},
            {"point_id": "P4", "observed_at": t, "district": B, "depth": 12.0},
        ],
        "rainfall-stations": [
            {"station_id": "R1", "observed_at": t, "district": A, "rainfall_24h": 50.0},
            {"station_id": "R2", "observed_at": t, "district": B, "rainfall_24h": 80.0},
        ],
        "bridge-inventory": [
            {"bridge_id": "BA1", "district": A, "condition_grade": "A"},
            {"bridge_id": "BA2", "district": A, "condition_grade": "B"},
            {"bridge_id": "BA3", "district": A, "condition_grade": "C"},
            {"bridge_id": "BA4", "district": A, "condition_grade": "B"},
            {"bridge_id": "BB1", "district": B, "condition_grade": "D"},
            {"bridge_id": "BB2", "district": B, "condition_grade": "E"},
        ],
        "traffic-congestion": [
            {"segment_id": "S1", "observed_at": t, "district": A, "congestion_index": 7.0},
            {"segment_id": "S2", "observed_at": t, "district": A, "congestion_index": 9.0},
            {"segment_id": "S3", "observed_at": t, "district": B, "congestion_index": 4.0},
        ],
        "emergency-shelters": [
            {"shelter_id": "H1", "district": A, "capacity": 4000},
            {"shelter_id": "H2", "district": A, "capacity": 6000},
            {"shelter_id": "H3", "district": B, "capacity": 30000},
        ],
    }


WORKED_INDICATORS = [
    {"code": "ponding", "name": "积水", "dimension": "hazard_exposure",
     "hazard": "waterlogging", "resource": "road-ponding", "field": "depth",
     "aggregation": "max", "weight": 2.0, "lower_bound": 0, "upper_bound": 40},
    {"code": "rain", "name": "降雨", "dimension": "hazard_exposure", "hazard": "waterlogging",
     "resource": "rainfall-stations", "field": "rainfall_24h", "aggregation": "max",
     "weight": 1.0, "lower_bound": 0, "upper_bound": 100},
    {"code": "poor-bridges", "name": "差桥占比", "dimension": "vulnerability", "hazard": "all",
     "resource": "bridge-inventory", "field": "condition_grade", "aggregation": "share",
     "match_values": ["C", "D", "E"]},
    {"code": "congestion", "name": "拥堵", "dimension": "vulnerability", "hazard": "all",
     "resource": "traffic-congestion", "field": "congestion_index", "aggregation": "mean"},
    {"code": "shelters", "name": "避难", "dimension": "coping", "hazard": "all",
     "resource": "emergency-shelters", "field": "capacity", "aggregation": "sum",
     "direction": "higher_less_risk", "lower_bound": 0, "upper_bound": 40000},
]  # fmt: skip


@pytest.fixture
def worked(risk_env):
    """The worked example loaded and its indicators seeded."""
    for code, rows in worked_rows(risk_env.now).items():
        risk_env.load(code, rows)
    risk_env.seed(WORKED_INDICATORS)
    return risk_env
