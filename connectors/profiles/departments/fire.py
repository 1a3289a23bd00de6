"""消防救援 incidents: semicolon-separated UTF-8 (with BOM) CSV from the dispatch system.

Quirks: ";" as the delimiter, BD-09 coordinates (the dispatch map is Baidu's),
full-width digits typed on Chinese input methods.
"""

from connectors.base import Connector
from connectors.profiles.registry import register


@register
class FireIncidentConnector(Connector):
    """Fire and rescue incidents (警情)."""

    code = "fire.incidents"
    version = "1.0"
    department = "fire"
    resources = ("fire-incidents",)
    header_aliases = {
        "incident_id": ["警情编号", "案件编号"],
        "reported_at": ["报警时间", "立案时间"],
        "district": ["辖区", "行政区"],
        "incident_type": ["警情类别", "类型"],
        "address": ["地址", "案发地址"],
        "casualties": ["伤亡", "伤亡人数(人)"],
        "caller_phone": ["报警电话"],
        "latitude": ["纬度(BD09)", "百度纬度"],
        "longitude": ["经度(BD09)", "百度经度"],
    }
    source_crs = "bd09"
    value_aliases = {"incident_type": {"火警": "火灾", "抢险": "抢险救援", "救助": "社会救助"}}
