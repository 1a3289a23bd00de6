"""Fixtures of the operations tests: demo mappings and a helper to load + sync rows."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

T0 = timezone.make_aware(datetime(2025, 7, 1, 8, 0), timezone.get_fixed_timezone(480))


def at(minutes: float) -> datetime:
    """A time ``minutes`` after T0 (08:00 Shanghai, 1 July 2025)."""
    return T0 + timedelta(minutes=minutes)


def gas(point: str, minutes: float, pressure: float, district: str = "310104") -> dict:
    """One gas-pipeline-pressure row."""
    return {
        "point_id": point,
        "observed_at": at(minutes),
        "district": district,
        "pressure": pressure,
        "latitude": 31.18,
        "longitude": 121.43,
    }


def ponding(point: str, minutes: float, depth: float, district: str = "310115") -> dict:
    """One road-ponding row."""
    return {
        "point_id": point,
        "observed_at": at(minutes),
        "district": district,
        "road_name": f"路段{point}",
        "depth": depth,
        "latitude": 31.22,
        "longitude": 121.55,
    }


def warning(wid: str, minutes: float, district: str = "310115", **extra) -> dict:
    """One weather-warnings row (暴雨 橙色 by default)."""
    return {
        "warning_id": wid,
        "issued_at": at(minutes),
        "district": district,
        "warning_type": extra.get("warning_type", "暴雨"),
        "level": extra.get("level", "橙色"),
        **({"lifted_at": extra["lifted_at"].isoformat()} if "lifted_at" in extra else {}),
    }


@pytest.fixture
def ops(catalog):
    """The catalog with the demo mappings, plus ``load(code, rows)`` that loads and syncs."""
    from operations.samples import load_rows
    from operations.services.mappings import ensure_default_mappings
    from operations.services.sync import sync_batch

    ensure_default_mappings()
    resources = catalog["resources"]

    class Ops:
        pass

    helper = Ops()
    helper.resources = resources
    helper.departments = catalog["departments"]

    def load(code: str, rows: list[dict], *, sync: bool = True):
        batch = load_rows(resource=resources[code], rows=rows, label=f"{code}-{len(rows)}")
        counts = sync_batch(batch_id=batch.pk) if sync else None
        return batch, counts

    helper.load = load
    return helper
