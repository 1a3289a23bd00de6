"""住建委 gas network pressure: GBK CSV exported from the gas companies' SCADA.

Quirks: a title row ("2025年7月燃气管网压力监测日报") above the header, pressure in kPa
(said in the header, sometimes also in the cell), GCJ-02 coordinates from the
companies' web maps, times exported as Excel serial numbers.
"""

from connectors.base import Connector
from connectors.profiles.registry import register


@register
class HousingGasConnector(Connector):
    """Gas pipeline pressure readings (燃气管网压力)."""

    code = "housing.gas"
    version = "1.0"
    department = "housing"
    resources = ("gas-pipeline-pressure",)
    header_aliases = {
        "point_id": ["测点编号", "监测点编码", "点位编号"],
        "observed_at": ["采集时间", "数据时间"],
        "district": ["行政区", "区县"],
        "pressure": ["压力", "管道压力", "运行压力"],
        "temperature": ["温度", "燃气温度"],
        "pressure_class": ["压力等级"],
        "latitude": ["纬度(GCJ02)", "Y坐标"],
        "longitude": ["经度(GCJ02)", "X坐标"],
    }
    source_units = {"pressure": "kPa", "temperature": "°C"}
    source_crs = "gcj02"
    value_aliases = {"pressure_class": {"中压": "中压B", "次高": "次高压"}}
