"""交通委 road congestion: CSV export of the traffic platform's API.

Quirks: times as epoch milliseconds, congestion given as a percentage of the full
0–10 index scale ("68%" means index 6.8), speeds in metres per second.
"""

import pandas as pd

from connectors.base import Connector
from connectors.normalisers.headers import fold_header
from connectors.normalisers.numbers import split_numbers
from connectors.profiles.registry import register

_PERCENT_HEADERS = {fold_header(name) for name in ("拥堵程度", "拥堵率", "拥堵程度(%)")}


@register
class TransportCongestionConnector(Connector):
    """Road segment congestion (道路拥堵指数)."""

    code = "transport.congestion"
    version = "1.0"
    department = "transport"
    resources = ("traffic-congestion",)
    header_aliases = {
        "segment_id": ["路段ID", "路段代码"],
        "road_name": ["路名"],
        "observed_at": ["时间戳", "timestamp"],
        "district": ["所在区"],
        "congestion_index": ["拥堵程度", "拥堵率", "拥堵程度(%)", "TPI"],
        "avg_speed": ["平均速度", "速度"],
    }
    source_units = {"avg_speed": "m/s"}

    def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
        """Percent of the full scale -> index points: "68%" -> "6.8" (vectorised)."""
        for position, header in enumerate(raw.columns):
            if fold_header(header) not in _PERCENT_HEADERS:
                continue
            column = raw.iloc[:, position]
            values, units, _missing, bad = split_numbers(column)
            scaled = (values.where(units.isin(["%", ""])) / 10.0).round(6)
            converted = scaled.astype("str")  # vectorised float formatting
            # Cells that did not parse keep their text, so validation names them.
            raw.iloc[:, position] = column.where(scaled.isna() | bad, converted)
        return raw
