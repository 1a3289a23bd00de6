"""Parsing of the records API's query parameters: filters and field projection.

Every parameter is validated (a 400 naming it, never a database error) and checked
against what the caller may read. A filter on a value the caller receives masked or not
at all would tell that value apart (results narrowed by the hidden district, time,
coordinates or field), so such filters are refused: ``eq.<field>`` on a masked or
invisible field, ``district`` when the district field is hidden, ``bbox`` when a
coordinate field is, ``since``/``until`` when the time field is (``hidden_parts``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hub.catalog.models import DataResource, FieldType
from hub.records.models import Record
from permissions.record_access import RecordAccess

EQ_PREFIX = "eq."
RESERVED = {
    "fields",
    "format",
    "cursor",
    "page_size",
    "order",
    "since",
    "until",
    "district",
    "bbox",
}
DISTRICT_CODE = re.compile(r"\d{6,12}")
MAX_DISTRICTS = 100
# JSON numbers compared in the database: 64-bit integers (SQLite's limit), finite floats.
INT_RANGE = (-(2**63), 2**63 - 1)
TRUE_WORDS = {"1", "true", "yes", "是"}
FALSE_WORDS = {"0", "false", "no", "否"}


def invalid_time(name: str) -> ValidationError:
    return ValidationError({name: [_("时间格式无效，请使用 ISO 8601。")]})


def parse_moment(value: str, name: str, *, end: bool = False) -> dt.datetime:
    """An ISO datetime or date (a date means its start, or its end for ``until``), in UTC.

    Any text either parses or is a 400 naming ``name`` (dates out of range included).
    """
    try:
        moment = parse_datetime(value) if "T" in value or " " in value else None
        if moment is None:
            day = parse_date(value)
            if day is None:
                raise invalid_time(name)
            moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
    except (ValueError, OverflowError) as exc:
        raise invalid_time(name) from exc
    try:
        return moment.astimezone(dt.UTC)  # the database compares in UTC
    except OverflowError:
        # Within hours of year 1 or 9999: no record is older or newer than the bound.
        bound = dt.datetime.min if moment.year == dt.MINYEAR else dt.datetime.max
        return bound.replace(tzinfo=dt.UTC)


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` in WGS-84: finite, in range, min ≤ max."""
    try:
        parts = [float(part) for part in value.split(",")]
    except ValueError:
        parts = []
    valid = (
        len(parts) == 4
        and all(math.isfinite(part) for part in parts)
        and -180 <= parts[0] <= parts[2] <= 180
        and -90 <= parts[1] <= parts[3] <= 90
    )
    if not valid:
        raise ValidationError({"bbox": [_("bbox 应为 minlon,minlat,maxlon,maxlat。")]})
    return parts[0], parts[1], parts[2], parts[3]


def parse_districts(value: str) -> list[str]:
    """Comma-separated GB/T 2260 codes (6 to 12 digits), at most MAX_DISTRICTS."""
    codes = [code.strip() for code in value.split(",") if code.strip()]
    if (
        not codes
        or len(codes) > MAX_DISTRICTS
        or not all(DISTRICT_CODE.fullmatch(code) for code in codes)
    ):
        raise ValidationError(
            {"district": [_("district 应为逗号分隔的区划代码（6 到 12 位数字）。")]}
        )
    return codes


def coerce(value: str, field_type: str, param: str = "eq") -> Any:
    """Turn a query-string value into the JSON type stored for the field (or a 400)."""
    invalid = ValidationError({param: [_("数值格式无效：%(v)s") % {"v": value[:50]}]})
    if field_type == FieldType.INTEGER:
        try:
            number = int(value) if len(value) <= 20 else None
        except ValueError as exc:
            raise invalid from exc
        if number is None or not INT_RANGE[0] <= number <= INT_RANGE[1]:
            raise invalid
        return number
    if field_type == FieldType.NUMBER:
        try:
            number = float(value)
        except ValueError as exc:
            raise invalid from exc
        if not math.isfinite(number):  # nan and inf have no JSON form
            raise invalid
        return number
    if field_type == FieldType.BOOLEAN:
        word = value.strip().lower()
        if word not in TRUE_WORDS | FALSE_WORDS:
            raise invalid
        return word in TRUE_WORDS
    return value


@dataclass(frozen=True)
class HiddenParts:
    """What of a resource a caller does not read in clear (masked, or not visible)."""

    fields: frozenset[str]
    key: bool
    time: bool
    district: bool
    coordinates: bool


def hidden_parts(resource: DataResource, access: RecordAccess) -> HiddenParts:
    """The hidden fields, and whether the key, time, district or coordinates depend on one."""
    visible = set(access.field_names) - set(access.maskers)
    hidden = frozenset(spec.name for spec in resource.fields.all() if spec.name not in visible)

    def uses_hidden(*names: str) -> bool:
        return any(name and name in hidden for name in names)

    return HiddenParts(
        fields=hidden,
        key=not resource.key_fields or uses_hidden(*resource.key_fields),
        time=uses_hidden(resource.time_field),
        district=uses_hidden(resource.district_field),
        coordinates=uses_hidden(resource.latitude_field, resource.longitude_field),
    )


def refuse_hidden(param: str, field: str) -> ValidationError:
    return ValidationError(
        {param: [_("字段 %(f)s 对您脱敏或不可见，不能按它筛选或排序。") % {"f": field}]}
    )


def projection(params: Mapping[str, str], access: RecordAccess) -> list[str]:
    """The field names to return: ``fields=a,b`` within the caller's fields, schema order."""
    names = access.field_names
    wanted = params.get("fields")
    if not wanted:
        return names
    requested = [name.strip() for name in wanted.split(",") if name.strip()]
    unknown = sorted(set(requested) - set(names))
    if unknown:
        raise ValidationError(
            {"fields": _("无权访问或不存在的字段：%(n)s") % {"n": ", ".join(unknown)}}
        )
    chosen = set(requested)
    return [name for name in names if name in chosen]


def filter_records(
    queryset: QuerySet[Record],
    params: Mapping[str, str],
    access: RecordAccess,
    resource: DataResource,
    hidden: HiddenParts | None = None,
) -> QuerySet[Record]:
    """Apply time range, district, bbox and field-equality filters to scoped records.

    A filter over a part the caller cannot read in clear is a 400 (``refuse_hidden``).
    """
    hidden = hidden or hidden_parts(resource, access)
    for name, end in (("since", False), ("until", True)):
        if name not in params:
            continue
        if hidden.time:
            raise refuse_hidden(name, resource.time_field)
        moment = parse_moment(params[name], name, end=end)
        lookup = "observed_at__lte" if end else "observed_at__gte"
        queryset = queryset.filter(**{lookup: moment})
    if "district" in params:
        if hidden.district:
            raise refuse_hidden("district", resource.district_field)
        queryset = queryset.filter(district_code__in=parse_districts(params["district"]))
    if "bbox" in params:
        if hidden.coordinates:
            raise refuse_hidden(
                "bbox", f"{resource.longitude_field}/{resource.latitude_field}".strip("/")
            )
        min_lon, min_lat, max_lon, max_lat = parse_bbox(params["bbox"])
        queryset = queryset.filter(
            longitude__gte=min_lon,
            longitude__lte=max_lon,
            latitude__gte=min_lat,
            latitude__lte=max_lat,
        )
    types = {spec.name: spec.field_type for spec in access.fields}
    conditions = Q()
    for param, value in params.items():
        if not param.startswith(EQ_PREFIX):
            continue
        name = param[len(EQ_PREFIX) :]
        if name not in types or name in hidden.fields:
            raise ValidationError({param: [_("不能按该字段筛选。")]})
        conditions &= Q(**{f"data__{name}": coerce(value, types[name], param)})
    return queryset.filter(conditions)
