"""生态环境局 air quality: XLSX with a notes sheet first and the data on the second.

Quirks: particulate matter reported in mg/m³ (the schema stores μg/m³), coordinates
sometimes entered with latitude and longitude swapped.
"""

from connectors.base import Connector
from connectors.profiles.registry import register


@register
class EnvironmentAirConnector(Connector):
    """Air quality station readings (空气质量)."""

    code = "environment.air"
    version = "1.0"
    department = "environment"
    resources = ("air-quality",)
    header_aliases = {
        "station_id": ["站点代码", "测点编码"],
        "station_name": ["点位名称", "站点"],
        "observed_at": ["时间", "监测时段"],
        "district": ["区", "所在区"],
        "aqi": ["AQI"],
        "pm25": ["PM2.5浓度", "细颗粒物"],
        "pm10": ["PM10浓度", "可吸入颗粒物"],
        "o3": ["O3", "臭氧浓度"],
    }
    source_units = {"pm25": "mg/m³", "pm10": "mg/m³", "o3": "μg/m³"}
