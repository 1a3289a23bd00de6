"""Stored record values as people read them in the admin.

Records store datetimes in UTC (``"2025-07-01T06:30:00Z"``, see ``hub.records.recordstore``);
DESIGN.md says they are *shown* in Asia/Shanghai (``settings.TIME_ZONE``). Everything
a steward reads in the admin — the upload preview, the record change page — goes
through :func:`display_value`, so they all agree.

Codes are stored as codes (GB/T 2260 ``310115``) and shown by their code list's name
(``浦东新区``); coordinates are stored as computed (a datum shift leaves fifteen decimals)
and shown to six decimals (about 0.1 m), like the stored geopoints. :func:`field_displays`
gathers both per field of a resource, reading code items through their door.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from hub.catalog.models import CodeItem, DataResource, FieldSpec, FieldType
from hub.catalog.restricted import VIEW, UserLike

LOCAL_DATETIME = "%Y-%m-%d %H:%M:%S"
COORDINATE_DECIMALS = 6


@dataclass(frozen=True)
class FieldDisplay:
    """How one field's values are shown: its type, the names of its codes, rounding."""

    field_type: str = ""
    names: dict[str, str] = field(default_factory=dict)
    decimals: int | None = None

    def show(self, value: object) -> str:
        return display_value(value, self.field_type, names=self.names, decimals=self.decimals)


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


def display_value(
    value: object,
    field_type: str,
    *,
    names: dict[str, str] | None = None,
    decimals: int | None = None,
) -> str:
    """One stored JSON value of a field of ``field_type`` as text for people.

    Datetimes in local time, booleans as 是/否, null as "", codes by their name in
    ``names`` when it has one, numbers rounded to ``decimals`` (trailing zeros dropped)
    when given, everything else (dates ``YYYY-MM-DD``, geopoints ``"lon,lat"``) as stored.
    """
    if value is None:
        return ""
    if field_type == FieldType.DATETIME and isinstance(value, str):
        return local_datetime_text(value)
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if names and str(value) in names:
        return names[str(value)]
    if decimals is not None and isinstance(value, float):
        return f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return str(value)


def field_displays(resource: DataResource, user: UserLike) -> dict[str, FieldDisplay]:
    """Per field name of ``resource``: how to show its values to ``user``.

    Code-list fields get their items' names (one query, through ``CodeItem``'s door);
    the resource's latitude and longitude fields are rounded to six decimals.
    """
    fields = FieldSpec.objects.restrict(user, VIEW).filter(resource=resource)
    specs = list(fields.values_list("name", "field_type", "code_list_id"))
    lists = {code_list for _name, _kind, code_list in specs if code_list}
    items: dict[int, dict[str, str]] = {}
    if lists:
        rows = CodeItem.objects.restrict(user, VIEW).filter(code_list_id__in=lists)
        for code_list, code, name in rows.values_list("code_list_id", "code", "name"):
            items.setdefault(code_list, {})[code] = name
    coordinates = {resource.latitude_field, resource.longitude_field} - {""}
    return {
        name: FieldDisplay(
            field_type=kind,
            names=items.get(code_list, {}) if code_list else {},
            decimals=COORDINATE_DECIMALS if name in coordinates else None,
        )
        for name, kind, code_list in specs
    }
