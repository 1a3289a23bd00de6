"""Declare how a resource's records map onto operations entities."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from hub.catalog.models import DataResource
from operations.models import ResourceMapping

# The demo resources' mappings (also a reference for staff editing them in the admin).
DEFAULT_MAPPINGS: dict[str, dict[str, Any]] = {
    "gas-pipeline-pressure": {
        "entity": "reading",
        "point_field": "point_id",
        "metrics": ["pressure", "temperature"],
    },
    "road-ponding": {
        "entity": "reading",
        "point_field": "point_id",
        "point_name_field": "road_name",
        "metrics": ["depth"],
    },
    "rainfall-stations": {
        "entity": "reading",
        "point_field": "station_id",
        "point_name_field": "station_name",
        "metrics": ["rainfall_1h", "rainfall_24h"],
    },
    "water-supply-pressure": {
        "entity": "reading",
        "point_field": "station_id",
        "metrics": ["pressure", "turbidity"],
    },
    "bridge-structural-health": {
        "entity": "reading",
        "point_field": "sensor_id",
        "metrics": ["strain", "deflection", "frequency"],
    },
    "weather-warnings": {
        "entity": "event",
        "event_type_field": "warning_type",
        "event_level_field": "level",
        "event_end_field": "lifted_at",
    },
    "fire-incidents": {"entity": "event", "event_type_field": "incident_type"},
}


@transaction.atomic
def upsert_mapping(*, resource: DataResource, entity: str, **attributes: Any) -> ResourceMapping:
    """Create or update the mapping of one resource; validated like the admin form."""
    mapping = ResourceMapping.objects.filter(resource=resource).first() or ResourceMapping(
        resource=resource
    )
    mapping.entity = entity
    for name in (
        "point_field",
        "point_name_field",
        "event_type_field",
        "event_level_field",
        "event_end_field",
    ):
        setattr(mapping, name, attributes.get(name, ""))
    mapping.metrics = list(attributes.get("metrics", []))
    mapping.is_active = attributes.get("is_active", True)
    mapping.full_clean()
    mapping.save()
    return mapping


def ensure_default_mappings() -> list[ResourceMapping]:
    """Create the mappings of the demo resources that exist."""
    resources = DataResource.objects.filter(code__in=DEFAULT_MAPPINGS)
    return [upsert_mapping(resource=r, **DEFAULT_MAPPINGS[r.code]) for r in resources]
