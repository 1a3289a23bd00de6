"""Builders shared by the ingest tests: typed frames and monitoring CSV text."""

from __future__ import annotations

import numpy as np
import pandas as pd

RESOURCE = "gas-pipeline-pressure"
HEADER = "监测点编号,监测时间,所属区,管网压力(MPa),介质温度,压力级制,纬度,经度"


def gas_frame(start: int, count: int, *, pressure: float = 0.35) -> pd.DataFrame:
    """A typed frame as the connectors produce it for gas-pipeline-pressure."""
    ids = np.arange(start, start + count)
    return pd.DataFrame(
        {
            "point_id": [f"GP{i:06d}" for i in ids],
            "observed_at": pd.to_datetime(
                np.full(count, 1751351400), unit="s", utc=True
            ),  # 2025-06-30T06:30:00Z
            "district": ["310101"] * count,
            "pressure": np.full(count, pressure),
            "temperature": np.where(ids % 2 == 0, np.nan, 21.5),
            "pressure_class": ["中压A"] * count,
            "latitude": np.full(count, 31.23),
            "longitude": np.full(count, 121.47),
        }
    )


def gas_csv(
    rows: int, *, start: int = 0, bad_row: int | None = None, changed: int | None = None
) -> str:
    """CSV text of ``rows`` valid readings; ``bad_row`` (0-based) gets a negative pressure."""
    lines = [HEADER]
    for i in range(start, start + rows):
        pressure = "0.35"
        if bad_row is not None and i == bad_row:
            pressure = "-5"
        if changed is not None and i == changed:
            pressure = "0.36"
        lines.append(f"GP{i:06d},2025-07-01 14:30:00,黄浦区,{pressure},21.5,中压A,31.23,121.47")
    return "\n".join(lines) + "\n"


def park_sites():
    """A published resource whose geopoint field 坐标 is its latitude and longitude field."""
    from hub.catalog.seed import publish_resource, upsert_department, upsert_resource

    parks = upsert_department(code="parks", name="绿化和市容管理局", short_name="绿化市容局")
    resource = upsert_resource(
        code="park-sites",
        provider=parks,
        name="公园点位",
        summary="公园出入口点位。",
        domain="planning",
        update_cycle="daily",
        sharing_type="unconditional",
        key_fields=["site_id"],
        time_field="observed_at",
        latitude_field="location",
        longitude_field="location",
        fields=[
            {"name": "site_id", "label": "点位编号", "type": "string", "required": True},
            {"name": "observed_at", "label": "核查时间", "type": "datetime"},
            {"name": "location", "label": "坐标", "type": "geopoint", "required": True},
            {"name": "entrance", "label": "出入口坐标", "type": "geopoint"},
            {"name": "checked_on", "label": "核查日期", "type": "date"},
            {"name": "open", "label": "是否开放", "type": "boolean"},
        ],
    )
    return publish_resource(resource=resource)
