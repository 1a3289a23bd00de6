"""Stored record values as people read them in the admin.

Records store datetimes in UTC (``"2025-07-01T06:30:00Z"``, see ``hub.records.recordstore``);
DESIGN.md says they are *shown* in Asia/Shanghai (``settings.TIME_ZONE``). Everything
a steward reads in the admin — the upload preview, the record change page — goes
through :func:`display_value`, so they all agree.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog.models import FieldType

LOCAL_DATETIME = "%Y-%m-%d %H:%M:%S"


def local_datetime_text(value: str) -> str:
    """``"2025-07-01T06:30:00Z"`` → ``"2025-07-01 14:30:00"`` in the current time zone.

    Text that is not an ISO 8601 datetime is returned unchanged; a naive one is UTC
    (the store never writes naive times).
    """
    try:
        moment = dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=dt.UTC)
    return timezone.localtime(moment).strftime(LOCAL_DATETIME)


def display_value(value: object, field_type: str) -> str:
    """One stored JSON value of a field of ``field_type`` as text for people.

    Datetimes in local time, booleans as 是/否, null as "", everything else (dates
    ``YYYY-MM-DD``, codes, numbers, geopoints ``"lon,lat"``) as stored.
    """
    if value is None:
        return ""
    if field_type == FieldType.DATETIME and isinstance(value, str):
        return local_datetime_text(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)
