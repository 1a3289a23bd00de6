"""气象局 rainfall stations and warning signals.

Quirks: Chinese date layouts ("2025年7月1日 14时30分"), warning levels written as
"红", "橙色预警" or "黄色预警信号", warning types with a "预警" suffix.
"""

from connectors.base import Connector
from connectors.registry import register


@register
class WeatherConnector(Connector):
    """Rainfall observations (雨量) and warning signals (预警信号)."""

    code = "weather.cma"
    version = "1.0"
    department = "weather"
    resources = ("rainfall-stations", "weather-warnings")
    header_aliases = {
        "station_id": ["区站号", "站点编号"],
        "station_name": ["站点名称"],
        "observed_at": ["时间", "资料时间"],
        "rainfall_1h": ["1小时降水", "小时降水量", "雨量"],
        "rainfall_24h": ["24小时降水", "日雨量"],
        "warning_id": ["信号编号"],
        "issued_at": ["发布时刻"],
        "district": ["区域", "发布区域", "所属区"],
        "warning_type": ["信号类型", "预警种类"],
        "level": ["信号级别", "级别", "颜色"],
        "content": ["内容", "防御指南"],
        "lifted_at": ["解除时刻"],
    }
    source_units = {"rainfall_1h": "mm", "rainfall_24h": "mm"}
    value_aliases = {"level": {"Ⅳ级": "蓝色", "Ⅲ级": "黄色", "Ⅱ级": "橙色", "Ⅰ级": "红色"}}
