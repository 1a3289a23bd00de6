"""The permission policy of records and upload batches: what ``restrict`` returns.

Registered when the records app is ready. Records follow their resource's record access
(provider, 无条件共享, grants) with the row scope of district-limited grants; batches carry
raw source rows, so only the provider, the resource's managers and the uploader see them;
records merged by the canonical-key migration, like raw records.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from hub.catalog.models import DataResource
from hub.catalog.restricted import CHANGE, DELETE, VIEW, register_policy
from hub.records.models import Record, RecordMerge, UploadBatch
from permissions.policies import ASSESS, NOTHING, active_user, assessed, unknown
from permissions.record_access import record_access, row_scope_filter, scope_records
from permissions.selectors import (
    MANAGE_RESOURCE,
    UPLOAD_RECORDS,
    VIEW_RECORDS,
    VIEW_RECORDS_CLEAR,
    UserLike,
    resource_filter,
)


def _record_policy(
    queryset: QuerySet, user: UserLike, action: str, resource: DataResource | None = None
) -> QuerySet:
    """Records: ``view`` is the records a caller reads, row scope included; raw (unmasked,
    unscoped) rows are ``view_records_clear``; deleting needs ``manage_resource`` or the
    provider's clear access.

    With ``resource`` (the records facade), the records of that one resource under the
    caller's ``record_access`` (its row scope; nothing when the caller has no access):
    the same rule, decided once for the resource instead of per row.
    """
    if resource is not None and action in (VIEW, VIEW_RECORDS):
        access = record_access(user, resource)
        if access is None:
            return queryset.none()
        return scope_records(queryset.filter(resource=resource), access)
    if action in (VIEW, VIEW_RECORDS):
        return queryset.filter(row_scope_filter(user))
    if action in (CHANGE, DELETE):
        # Records change only through loads; the admin's read-only page is the raw view.
        return queryset.filter(resource_filter(user, VIEW_RECORDS_CLEAR, prefix="resource__"))
    if action in (VIEW_RECORDS_CLEAR, MANAGE_RESOURCE, UPLOAD_RECORDS):
        return queryset.filter(resource_filter(user, action, prefix="resource__"))
    raise unknown(Record, action)


def _batch_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Batches carry raw source rows (error values, the stored file): the provider and
    managers of the resource see them, and whoever uploaded the batch (they sent it)."""
    if not active_user(user):
        return queryset.filter(NOTHING)
    if action == ASSESS:
        return assessed(queryset, user)  # counted, never listed (docs/GOVERNANCE.md 考核)
    clear = resource_filter(user, VIEW_RECORDS_CLEAR, prefix="resource__")
    if action in (VIEW, VIEW_RECORDS_CLEAR):
        if user.is_superuser:
            return queryset
        return queryset.filter(clear | Q(uploaded_by_id=user.pk))
    if action in (CHANGE, DELETE):
        return queryset.filter(clear)
    raise unknown(UploadBatch, action)


def _merge_policy(queryset: QuerySet, user: UserLike, action: str) -> QuerySet:
    """Merged records hold raw record data: those who read the resource's records clear."""
    if action in (VIEW, VIEW_RECORDS_CLEAR):
        return queryset.filter(resource_filter(user, VIEW_RECORDS_CLEAR, prefix="resource__"))
    raise unknown(RecordMerge, action)


def register() -> None:
    register_policy(Record, _record_policy)
    register_policy(UploadBatch, _batch_policy)
    register_policy(RecordMerge, _merge_policy)
