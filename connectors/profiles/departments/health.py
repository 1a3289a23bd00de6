"""卫健委 emergency capacity: daily CSV from the hospitals' reporting system.

Quirks: day-first dates ("01/07/2025"), thousands separators ("1,234"), hospital codes
under the header "医疗机构代码".
"""

from connectors.base import Connector
from connectors.profiles.registry import register


@register
class HealthCapacityConnector(Connector):
    """Hospital emergency capacity (急诊承载能力)."""

    code = "health.capacity"
    version = "1.0"
    department = "health"
    resources = ("hospital-emergency-capacity",)
    header_aliases = {
        "hospital_id": ["医疗机构代码", "机构编码"],
        "hospital_name": ["医疗机构名称", "医院名称"],
        "report_date": ["日期", "填报日期"],
        "district": ["所在区", "区"],
        "beds_total": ["床位数", "实际开放床位"],
        "beds_free": ["空床数"],
        "er_visits": ["急诊量", "急诊就诊人次"],
    }
    day_first = True
