"""Parsing of the records API's query parameters: filters and field projection.

Every filter is checked against what the caller may see: projecting or filtering on a
field outside the caller's access is a 400, and masked fields cannot be filtered on, so
equality filters cannot be used as an oracle for masked values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hub.models import FieldType, Record
from permissions.selectors import RecordAccess

EQ_PREFIX = "eq."
RESERVED = {"fields", "format", "cursor", "page_size", "since", "until", "district", "bbox"}


def parse_moment(value: str, name: str, *, end: bool = False) -> dt.datetime:
    """An ISO datetime or date (a date means its start, or its end for ``until``)."""
    moment = parse_datetime(value) if "T" in value or " " in value else None
    if moment is None:
        try:
            day = parse_date(value)
        except ValueError:
            day = None
        if day is None:
            raise ValidationError({name: _("时间格式无效，请使用 ISO 8601。")})
        moment = dt.datetime.combine(day, dt.time.max if end else dt.time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def parse_bbox(value: str) -> tuple[float, float, float, float]:
    """``minlon,minlat,maxlon,maxlat`` in WGS-84."""
    try:
        parts = [float(part) for part in value.split(",")]
    except ValueError:
        parts = []
    if len(parts) != 4 or parts[0] > parts[2] or parts[1] > parts[3]:
        raise ValidationError({"bbox": _("bbox 应为 minlon,minlat,maxlon,maxlat。")})
    return parts[0], parts[1], parts[2], parts[3]


def coerce(value: str, field_type: str) -> Any:
    """Turn a query-string value into the JSON type stored for the field."""
    try:
        if field_type == FieldType.INTEGER:
            return int(value)
        if field_type == FieldType.NUMBER:
            return float(value)
    except ValueError as exc:
        raise ValidationError({"eq": _("数值格式无效：%(v)s") % {"v": value}}) from exc
    if field_type == FieldType.BOOLEAN:
        return value.lower() in {"1", "true", "yes", "是"}
    return value


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
    queryset: QuerySet[Record], params: Mapping[str, str], access: RecordAccess
) -> QuerySet[Record]:
    """Apply time range, district, bbox and field-equality filters to scoped records."""
    if params.get("since"):
        queryset = queryset.filter(observed_at__gte=parse_moment(params["since"], "since"))
    if params.get("until"):
        queryset = queryset.filter(
            observed_at__lte=parse_moment(params["until"], "until", end=True)
        )
    if params.get("district"):
        codes = [code.strip() for code in params["district"].split(",") if code.strip()]
        queryset = queryset.filter(district_code__in=codes)
    if params.get("bbox"):
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
        if name not in types or name in access.maskers:
            raise ValidationError({param: _("不能按该字段筛选。")})
        conditions &= Q(**{f"data__{name}": coerce(value, types[name])})
    return queryset.filter(conditions)
