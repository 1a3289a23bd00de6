"""Writes to the catalog. Keyword-only, typed and atomic; callers pass plain values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth.models import Group
from django.db import transaction

from hub.catalog.models import (
    CodeItem,
    CodeList,
    DataResource,
    Department,
    FieldSpec,
    ResourceStatus,
)


@transaction.atomic
def upsert_department(
    *, code: str, name: str, short_name: str, description: str = ""
) -> Department:
    """Create or update a department together with its staff group (named after it)."""
    department = Department.objects.filter(code=code).select_related("group").first()
    if department is None:
        group, _ = Group.objects.get_or_create(name=f"dept:{code}")
        department = Department(code=code, group=group)
    department.name = name
    department.short_name = short_name
    department.description = description
    department.full_clean()
    department.save()
    return department


@transaction.atomic
def upsert_code_list(
    *,
    code: str,
    name: str,
    version: str,
    items: Iterable[Mapping[str, Any]],
    standard: str = "",
    description: str = "",
) -> CodeList:
    """Create or update one version of a code list; items not given are removed."""
    code_list, _ = CodeList.objects.update_or_create(
        code=code,
        version=version,
        defaults={"name": name, "standard": standard, "description": description},
    )
    keep: list[str] = []
    for order, item in enumerate(items):
        CodeItem.objects.update_or_create(
            code_list=code_list,
            code=item["code"],
            defaults={
                "name": item["name"],
                "aliases": list(item.get("aliases", [])),
                "parent_code": item.get("parent_code", ""),
                "order": order,
            },
        )
        keep.append(item["code"])
    code_list.items.exclude(code__in=keep).delete()
    return code_list


def latest_code_list(code: str) -> CodeList:
    """The newest version of a code list (versions compare as strings of equal form)."""
    return CodeList.objects.filter(code=code).order_by("-version").first() or _missing(code)


def _missing(code: str) -> CodeList:
    raise CodeList.DoesNotExist(f"code list {code!r} does not exist")


RESOURCE_ATTRIBUTES = (
    "name",
    "summary",
    "domain",
    "keywords",
    "format",
    "update_cycle",
    "sharing_type",
    "sharing_conditions",
    "legal_basis",
    "open_type",
    "published_at",
    "status",
    "key_fields",
    "time_field",
    "district_field",
    "latitude_field",
    "longitude_field",
)


@transaction.atomic
def upsert_resource(
    *, code: str, provider: Department, fields: Iterable[Mapping[str, Any]], **attributes: Any
) -> DataResource:
    """Create or update a resource and its full schema; validation runs on both.

    ``fields`` items use the keys of the fixtures: name, label, type, unit, required, min,
    max, max_length, pattern, enum, code_list (a code list code), grade, masking,
    description. Fields not listed are removed.
    """
    unknown = set(attributes) - set(RESOURCE_ATTRIBUTES)
    if unknown:
        raise TypeError(f"unknown resource attributes: {sorted(unknown)}")
    resource = DataResource.objects.filter(code=code).first() or DataResource(code=code)
    resource.provider = provider
    for name, value in attributes.items():
        setattr(resource, name, value)
    resource.full_clean(exclude=["key_fields"])
    resource.save()
    keep: list[str] = []
    for order, spec in enumerate(fields):
        code_list = latest_code_list(spec["code_list"]) if spec.get("code_list") else None
        field = FieldSpec.objects.filter(resource=resource, name=spec["name"]).first() or FieldSpec(
            resource=resource, name=spec["name"]
        )
        field.label = spec["label"]
        field.field_type = spec["type"]
        field.description = spec.get("description", "")
        field.unit = spec.get("unit", "")
        field.required = bool(spec.get("required", False))
        field.min_value = spec.get("min")
        field.max_value = spec.get("max")
        field.max_length = spec.get("max_length")
        field.pattern = spec.get("pattern", "")
        field.enum = list(spec.get("enum", []))
        field.code_list = code_list
        field.grade = spec.get("grade", 1)
        field.masking = spec.get("masking", "none")
        field.order = order
        field.full_clean()
        field.save()
        keep.append(spec["name"])
    resource.fields.exclude(name__in=keep).delete()
    resource.refresh_grade()
    # Key and location fields can only be checked once the fields exist.
    resource.full_clean()
    return resource


@transaction.atomic
def publish_resource(*, resource: DataResource) -> DataResource:
    """Publish a resource (状态 → 已发布), stamping the publication date once."""
    from django.utils import timezone

    resource.status = ResourceStatus.PUBLISHED
    resource.published_at = resource.published_at or timezone.localdate()
    resource.full_clean()
    resource.save(update_fields=["status", "published_at", "updated_at"])
    return resource
