"""Catalog models: departments, resources and their fields, code lists, batches, records."""

from hub.models.batches import BatchSource, BatchStatus, Record, UploadBatch
from hub.models.codelists import CodeItem, CodeList
from hub.models.departments import Department
from hub.models.fingerprints import RowFingerprints
from hub.models.resources import (
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
from hub.models.tasks import TaskFailure

__all__ = [
    "BatchSource",
    "BatchStatus",
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
    "Record",
    "ResourceFormat",
    "ResourceStatus",
    "RowFingerprints",
    "SharingType",
    "TaskFailure",
    "UpdateCycle",
    "UploadBatch",
]
