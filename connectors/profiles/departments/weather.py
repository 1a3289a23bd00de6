"""气象局 rainfall stations and warning signals.

Quirks: Chinese date layouts ("2025年7月1日 14时30分", "2025年7月1日 14时"), warning
levels written as "红", "橙色预警" or "黄色预警信号", warning types with a "预警" suffix,
and "微量" (trace, below 0.1 mm) in rainfall columns, which meteorologists record as 0.
"""

import pandas as pd

from connectors.base import Connector
from connectors.normalisers.headers import fold_header, split_unit
from connectors.profiles.registry import register

_RAIN_HEADERS = {
    fold_header(name)
    for name in (
        "小时雨量",
        "1小时降水",
        "小时降水量",
        "雨量",
        "24小时雨量",
        "24小时降水",
        "日雨量",
    )
}
_TRACE = ["微量", "T", "t"]


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

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Trace rainfall ("微量") is recorded as 0 mm (vectorised per column)."""
        for position, header in enumerate(raw.columns):
            base, _unit = split_unit(str(header))
            if fold_header(base) in _RAIN_HEADERS:
                column = raw.iloc[:, position]
                raw.iloc[:, position] = column.where(~column.str.strip().isin(_TRACE), "0")
        return raw
