"""The schema a parse works against: FieldSpecs, code-list matchers and header spellings,
loaded from the database once per file."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.base import Connector
from connectors.normalisers.codes import CodeMatcher
from connectors.normalisers.districts import matcher_for_code_list
from connectors.normalisers.headers import HeaderIndex
from connectors.normalisers.rules import FieldRules, compile_rules
from connectors.normalisers.units import canonical_unit


@dataclass
class FieldInfo:
    """The parts of a FieldSpec the normalisers and validators need."""

    name: str
    label: str
    field_type: str
    unit: str = ""  # canonical unit symbol ("" when dimensionless or not a number)
    required: bool = False
    min_value: float | None = None
    max_value: float | None = None
    max_length: int | None = None
    pattern: str = ""
    matcher: CodeMatcher | None = None  # for enum / code list fields
    allowed: list[str] = field(default_factory=list)  # enum values or codes, for messages


@dataclass
class Schema:
    """Fields in schema order plus the header index, for one resource and connector."""

    resource_code: str
    fields: list[FieldInfo]
    headers: HeaderIndex
    latitude_field: str = ""
    longitude_field: str = ""
    # Profile rules on raw cells (value maps, district naming, lookups), by field.
    rules: dict[str, FieldRules] = field(default_factory=dict)

    def by_name(self) -> dict[str, FieldInfo]:
        """Fields keyed by canonical name."""
        return {info.name: info for info in self.fields}


def load_schema(resource, connector: Connector) -> Schema:
    """Read the resource's FieldSpecs, code lists and admin header aliases."""
    from connectors.models import HeaderAlias

    specs = list(resource.fields.select_related("code_list").order_by("order", "id"))
    admin_aliases: dict[str, list[str]] = {}
    for field_name, alias in HeaderAlias.objects.filter(resource=resource).values_list(
        "field_name", "alias"
    ):
        admin_aliases.setdefault(field_name, []).append(alias)
    fields: list[FieldInfo] = []
    spellings: dict[str, list[str]] = {}
    for spec in specs:
        matcher = None
        allowed: list[str] = []
        value_aliases = connector.value_aliases.get(spec.name, {})
        if spec.code_list_id:
            matcher = matcher_for_code_list(spec.code_list)
            for spelling, code in value_aliases.items():
                matcher.exact.setdefault(spelling, code)
            allowed = sorted(matcher.codes)
        elif spec.enum:
            matcher = CodeMatcher.from_enum([str(v) for v in spec.enum], value_aliases)
            allowed = [str(v) for v in spec.enum]
        unit = canonical_unit(spec.unit) if spec.unit else ""
        fields.append(
            FieldInfo(
                name=spec.name,
                label=spec.label,
                field_type=spec.field_type,
                unit=unit if unit is not None else spec.unit,
                required=spec.required,
                min_value=spec.min_value,
                max_value=spec.max_value,
                max_length=spec.max_length,
                pattern=spec.pattern,
                matcher=matcher,
                allowed=allowed,
            )
        )
        spellings[spec.name] = [
            spec.label,
            spec.name,
            *connector.header_aliases.get(spec.name, []),
            *admin_aliases.get(spec.name, []),
        ]
    # A geopoint field named as both latitude and longitude field carries both
    # coordinates itself (converted by the geopoint normaliser): no separate columns.
    paired = bool(resource.latitude_field) and resource.latitude_field == resource.longitude_field
    return Schema(
        resource_code=resource.code,
        fields=fields,
        headers=HeaderIndex(
            spellings,
            pair=None
            if paired or not resource.latitude_field
            else (
                resource.latitude_field,
                resource.longitude_field,
            ),
        ),
        latitude_field="" if paired else resource.latitude_field,
        longitude_field="" if paired else resource.longitude_field,
        rules=compile_rules(resource, connector, specs),
    )
