"""水务局 road ponding: XLSX from the drainage monitoring platform.

Quirks: a two-row header with merged cells ("积水深度" over "(mm)"), depth in
millimetres, district short names ("浦东", "闵行"), "暂无" for sensors without a reading.
"""

from connectors.base import Connector
from connectors.profiles.registry import register


@register
class WaterPondingConnector(Connector):
    """Road ponding depth (道路积水)."""

    code = "water.ponding"
    version = "1.0"
    department = "water"
    resources = ("road-ponding",)
    header_aliases = {
        "point_id": ["积水点编号", "点位编号"],
        "observed_at": ["上报时间", "采集时间"],
        "district": ["行政区", "区"],
        "road_name": ["路段", "道路", "位置"],
        "depth": ["水深", "积水深"],
    }
    source_units = {"depth": "mm"}
