"""A value corrected in place (``services.correct_value``), checked and stored as ingest would.

The corrected record goes through the push path's parse (``parse_records`` with the
generic connector: the published Table Schema, as pushed records) and its store-row
builder (``prepare_rows``): the new value is normalised and validated against its
FieldSpec (type, enum or code list, min/max, length, pattern), and the columns derived
from it (observed_at, district_code, latitude, longitude) are computed the same way.
Fields other than the corrected one keep their stored values.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from connectors.base import InputError
from connectors.pipeline.parsing import parse_records
from connectors.profiles.registry import GenericConnector
from hub.catalog.models import DataResource
from hub.records.keys import ISO_UTC
from hub.records.models import Record
from hub.records.recordstore import prepare_rows

# A corrected value is typed by a person; a field without its own maximum length takes
# the objection's other texts' bound (note, evidence).
MAX_VALUE_CHARS = 4000


@dataclass(frozen=True)
class Correction:
    """The stored (canonical) new value and the record columns derived from it."""

    value: Any
    derived: dict[str, Any] = field(default_factory=dict)


def _derived_sources(resource: DataResource) -> dict[str, str]:
    """Record column -> the field it is derived from (``prepare_rows``)."""
    return {
        column: name
        for column, name in (
            ("observed_at", resource.time_field),
            ("district_code", resource.district_field),
            ("latitude", resource.latitude_field),
            ("longitude", resource.longitude_field),
        )
        if name
    }


def corrected(*, resource: DataResource, record: Record, name: str, value: Any) -> Correction:
    """The checked new value of field ``name`` of ``record``; ValidationError naming
    ``value`` (or ``field_name``) when it cannot be stored."""
    if name in (resource.key_fields or []):
        # The key identifies the record (and its readings, objections, lineage).
        raise ValidationError(
            {
                "field_name": _("字段 %(name)s 属于记录主键，不能就地更正，请以新批次更正。")
                % {"name": name}
            }
        )
    spec = resource.fields.get(name=name)
    limit = spec.max_length or MAX_VALUE_CHARS
    if value is not None and len(str(value)) > limit:
        raise ValidationError(
            {"value": _("更正值超过最大长度 %(limit)d 个字符。") % {"limit": limit}}
        )
    try:
        parsed = parse_records(
            records=[{**record.data, name: value}],
            resource=resource,
            connector=GenericConnector(),
        )
    except InputError as exc:
        raise ValidationError({"value": exc.message}) from exc
    problems = [error.message for error in parsed.errors if error.field == name]
    if problems:
        raise ValidationError({"value": problems})
    row = prepare_rows(resource=resource, frame=parsed.frame, source_rows=[record.source_row or 0])
    stored = json.loads(row["data"][0])[name]
    derived = {
        column: row[column][0]
        for column, source in _derived_sources(resource).items()
        if source == name
    }
    if "observed_at" in derived:
        moment = derived["observed_at"]
        derived["observed_at"] = (
            dt.datetime.strptime(moment, ISO_UTC).replace(tzinfo=dt.UTC) if moment else None
        )
    if "district_code" in derived:
        derived["district_code"] = derived["district_code"] or ""
    return Correction(value=stored, derived=derived)
