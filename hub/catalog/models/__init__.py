"""Catalog models (数据目录): departments, resources and their fields, code lists, task failures."""

from hub.catalog.models.codelists import CodeItem, CodeList
from hub.catalog.models.departments import Department
from hub.catalog.models.resources import (
    DataResource,
    Domain,
    FieldSpec,
    FieldType,
    Grade,
    MaskingRule,
    OpenType,
    ResourceFormat,
    ResourceStatus,
    SharingType,
    UpdateCycle,
)
from hub.catalog.models.tasks import TaskFailure

__all__ = [
    "CodeItem",
    "CodeList",
    "DataResource",
    "Department",
    "Domain",
    "FieldSpec",
    "FieldType",
    "Grade",
    "MaskingRule",
    "OpenType",
    "ResourceFormat",
    "ResourceStatus",
    "SharingType",
    "TaskFailure",
    "UpdateCycle",
]
