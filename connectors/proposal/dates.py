"""Date layout and time zone of a date/time column, from its values (and header).

Every candidate layout is tried, strictly, on the sampled distinct values; the one that
reads the largest share wins (ties: the order below, month-first before day-first,
unless a value's first part is above 12). The share reported is what the load reads
with it: the layout, then the built-in parser. Bare numbers (Excel serials, epochs, compact
``202507011430``) need no layout: the built-in parser reads them. Values with an offset
(``+08:00``, ``Z``) carry their zone; a header naming UTC/GMT makes naive times UTC;
otherwise they are Asia/Shanghai ("").
"""

from __future__ import annotations

import re

import pandas as pd

from connectors.normalisers import dates
from connectors.proposal.result import DateGuess

# Layouts the built-in parser reads the same way without being told, then the others;
# tried in this order.
BUILT_IN_LAYOUTS = (
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y.%m.%d %H:%M",
    "%Y.%m.%d",
    "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日%H时%M分",
    "%Y年%m月%d日",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
)
OTHER_LAYOUTS = (
    "%d/%m/%Y %H:%M",
    "%d/%m/%Y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d-%m-%Y %H:%M",
    "%d-%b-%Y %H:%M",
    "%d %b %Y %H:%M",
    "%b %d, %Y %H:%M",
    "%H:%M %d/%m/%Y",
    "%H:%M %Y-%m-%d",
)
LAYOUTS = BUILT_IN_LAYOUTS + OTHER_LAYOUTS
BUILT_IN = frozenset(BUILT_IN_LAYOUTS)
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
_UTC_HEADER = re.compile(r"UTC|GMT|世界时|格林尼治", re.IGNORECASE)
_NUMERIC = re.compile(r"^\d+(?:\.\d+)?$")
MAX_DISTINCT = 500


def _share(values: pd.Series, layout: str) -> float:
    parsed = pd.to_datetime(values, format=layout, errors="coerce")
    return float(parsed.notna().mean())


def guess_dates(field: str, header: str, column: pd.Series) -> DateGuess:
    """Layout, day order and zone of one column (see the module docstring)."""
    text = column.astype(str).str.strip()
    distinct = pd.Series(text[text != ""].unique()[:MAX_DISTINCT], dtype=object)
    timezone = "UTC" if _UTC_HEADER.search(str(header)) else ""
    if distinct.empty:
        return DateGuess(field, "", False, timezone, 0.0)
    example = str(distinct.iloc[0])
    if distinct.str.contains(_OFFSET.pattern).all():
        timezone = ""  # every value states its offset
    numeric = distinct.str.fullmatch(_NUMERIC.pattern).mean()
    if numeric > 0.9:
        _values, _missing, bad = dates.parse_datetimes(distinct, tz=timezone)
        return DateGuess(field, "", False, timezone, round(1 - float(bad.mean()), 3), example)
    best, best_share = "", 0.0
    for layout in LAYOUTS:
        share = _share(distinct, layout)
        if share > best_share:
            best, best_share = layout, share
    if not best:
        _values, _missing, bad = dates.parse_datetimes(distinct, tz=timezone)
        return DateGuess(field, "", False, timezone, round(1 - float(bad.mean()), 3), example)
    day_first = best.startswith("%d") or best.startswith("%H:%M %d")
    layout = "" if best in BUILT_IN else best
    # The share the load reads: the layout first, then the built-in parser, as a column
    # mixing date cells, serials and 中文 text (or full-width digits) is read. The best
    # layout's own share called such a column mostly unreadable.
    _values, _missing, bad = dates.parse_datetimes(
        distinct, day_first=day_first, layouts=(layout,) if layout else (), tz=timezone
    )
    read = max(1 - float(bad.mean()), best_share)
    return DateGuess(field, layout, day_first, timezone, round(read, 3), example)
