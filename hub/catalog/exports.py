"""Standard renderings of the catalog: Frictionless Table Schema and DCAT JSON-LD."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from hub.catalog.models import DataResource, FieldSpec, FieldType, SharingType, UpdateCycle

# Markers for a missing value met in department spreadsheets.
MISSING_VALUES = ["", "—", "-", "/", "暂无", "无", "NULL", "null", "N/A"]

TABLE_SCHEMA_TYPES = {
    FieldType.STRING: "string",
    FieldType.INTEGER: "integer",
    FieldType.NUMBER: "number",
    FieldType.BOOLEAN: "boolean",
    FieldType.DATE: "date",
    FieldType.DATETIME: "datetime",
    FieldType.GEOPOINT: "geopoint",
    FieldType.CODE: "string",
}

FREQUENCY_URIS = {
    UpdateCycle.REALTIME: "http://publications.europa.eu/resource/authority/frequency/CONT",
    UpdateCycle.HOURLY: "http://publications.europa.eu/resource/authority/frequency/HOURLY",
    UpdateCycle.DAILY: "http://publications.europa.eu/resource/authority/frequency/DAILY",
    UpdateCycle.WEEKLY: "http://publications.europa.eu/resource/authority/frequency/WEEKLY",
    UpdateCycle.MONTHLY: "http://publications.europa.eu/resource/authority/frequency/MONTHLY",
    UpdateCycle.YEARLY: "http://publications.europa.eu/resource/authority/frequency/ANNUAL",
}

ACCESS_RIGHTS_URIS = {
    SharingType.UNCONDITIONAL: "http://publications.europa.eu/resource/authority/access-right/PUBLIC",
    SharingType.CONDITIONAL: "http://publications.europa.eu/resource/authority/access-right/RESTRICTED",
    SharingType.NONE: "http://publications.europa.eu/resource/authority/access-right/NON_PUBLIC",
}


def field_allowed_codes(field: FieldSpec) -> list[str]:
    """The codes a code field accepts: its enum, else the items of its code list."""
    if field.enum:
        return [str(value) for value in field.enum]
    if field.code_list_id:
        return [item.code for item in field.code_list.items.all()]
    return []


def table_schema_field(field: FieldSpec) -> dict[str, Any]:
    """One Frictionless Table Schema field descriptor."""
    descriptor: dict[str, Any] = {
        "name": field.name,
        "title": field.label,
        "type": TABLE_SCHEMA_TYPES[field.field_type],
    }
    if field.description:
        descriptor["description"] = field.description
    if field.unit:
        descriptor["unit"] = field.unit
    if field.field_type in (FieldType.DATETIME, FieldType.GEOPOINT):
        # geopoint "default" is the text "lon, lat"; records store "121.473701,31.230416".
        descriptor["format"] = "default"
    constraints: dict[str, Any] = {}
    if field.required:
        constraints["required"] = True
    if field.min_value is not None:
        constraints["minimum"] = field.min_value
    if field.max_value is not None:
        constraints["maximum"] = field.max_value
    if field.max_length:
        constraints["maxLength"] = field.max_length
    if field.pattern:
        constraints["pattern"] = field.pattern
    if field.field_type == FieldType.CODE:
        codes = field_allowed_codes(field)
        if codes:
            constraints["enum"] = codes
    if constraints:
        descriptor["constraints"] = constraints
    descriptor["grade"] = field.grade
    return descriptor


MASKED_NOTE = "Masked for you (脱敏): text such as 138****5678, not the field's own type."


def masked_schema_field(field: FieldSpec) -> dict[str, Any]:
    """The descriptor of a field the caller receives masked: any text.

    Masked values are text whatever the field's type (``******``, ``138****5678``), so
    type, format and value constraints would reject them; only ``required`` still holds
    (an empty value stays empty). ``masked: true`` is a custom property, which Table
    Schema allows.
    """
    descriptor: dict[str, Any] = {
        "name": field.name,
        "title": field.label,
        "type": "string",
        "masked": True,
        "description": f"{field.description} {MASKED_NOTE}".strip(),
    }
    if field.required:
        descriptor["constraints"] = {"required": True}
    descriptor["grade"] = field.grade
    return descriptor


def table_schema(
    resource: DataResource, fields: Iterable[FieldSpec], *, masked: Collection[str] = ()
) -> dict[str, Any]:
    """A Frictionless Table Schema for ``resource`` restricted to ``fields``.

    ``masked`` names the fields whose values the caller receives masked: they are
    described as masked text, and a primary key over one of them is left out (masked
    values need not be unique).
    """
    fields = list(fields)
    names = {field.name for field in fields}
    schema: dict[str, Any] = {
        "$schema": "https://specs.frictionlessdata.io/schemas/table-schema.json",
        "name": resource.code,
        "title": resource.name,
        "description": resource.summary,
        "fields": [
            masked_schema_field(field) if field.name in masked else table_schema_field(field)
            for field in fields
        ],
        "missingValues": MISSING_VALUES,
    }
    key = list(resource.key_fields)
    if key and all(name in names and name not in masked for name in key):
        schema["primaryKey"] = key
    return schema


DCAT_CONTEXT = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "hub": "urn:citydatahub:",
}


def dcat_dataset(resource: DataResource, url_for: Callable[[str, str], str]) -> dict[str, Any]:
    """One DCAT dataset node; ``url_for(kind, code)`` builds absolute URLs."""
    dataset: dict[str, Any] = {
        "@id": url_for("resource", resource.code),
        "@type": "dcat:Dataset",
        "dct:identifier": resource.code,
        "dct:title": {"@value": resource.name, "@language": "zh-Hans"},
        "dct:description": {"@value": resource.summary, "@language": "zh-Hans"},
        "dct:publisher": {
            "@type": "foaf:Organization",
            "foaf:name": resource.provider.name,
            "dct:identifier": resource.provider.code,
        },
        "dcat:keyword": list(resource.keywords),
        "dcat:theme": resource.get_domain_display(),
        "dct:accrualPeriodicity": {"@id": FREQUENCY_URIS[resource.update_cycle]},
        "dct:accessRights": {"@id": ACCESS_RIGHTS_URIS[resource.sharing_type]},
        "hub:sharingType": resource.get_sharing_type_display(),
        "hub:grade": resource.grade,
        "dct:modified": {"@value": resource.updated_at.isoformat(), "@type": "xsd:dateTime"},
        "dcat:distribution": [
            {
                "@type": "dcat:Distribution",
                "dcat:accessURL": {"@id": url_for("records", resource.code)},
                "dct:format": "application/json",
                "dct:conformsTo": {"@id": url_for("schema", resource.code)},
            }
        ],
    }
    if resource.published_at:
        dataset["dct:issued"] = {"@value": resource.published_at.isoformat(), "@type": "xsd:date"}
    if resource.sharing_conditions:
        dataset["hub:sharingConditions"] = resource.sharing_conditions
    return dataset


def dcat_catalog(
    resources: Iterable[DataResource], url_for: Callable[[str, str], str], title: str
) -> dict[str, Any]:
    """A DCAT catalog of the given (already permission-restricted) resources."""
    return {
        "@context": DCAT_CONTEXT,
        "@id": url_for("catalog", ""),
        "@type": "dcat:Catalog",
        "dct:title": {"@value": title, "@language": "zh-Hans"},
        "dcat:dataset": [dcat_dataset(resource, url_for) for resource in resources],
    }
