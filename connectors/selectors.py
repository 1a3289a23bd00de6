"""Reads of the ingest side: batches a caller may see, and their plain summaries."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.models import DataResource, UploadBatch
from permissions.selectors import UPLOAD_RECORDS, VIEW_RECORDS, UserLike, resource_filter


def visible_batches(user: UserLike) -> QuerySet[UploadBatch]:
    """Batches of resources whose records the user may view (others answer 404)."""
    return UploadBatch.objects.select_related("resource", "department").filter(
        resource_filter(user, VIEW_RECORDS, prefix="resource__")
    )


def uploadable_resource(user: UserLike, code: str) -> DataResource | None:
    """The resource with ``code`` if the user may upload to it (else None: answer 404)."""
    return (
        DataResource.objects.select_related("provider")
        .filter(resource_filter(user, UPLOAD_RECORDS), code=code)
        .first()
    )


def batch_summary(batch: UploadBatch) -> dict:
    """The JSON summary of a batch shared by the CLI, the API and the admin."""
    duplicate_of = getattr(batch, "duplicate_of", None)
    summary = {
        "batch": batch.pk,
        "resource": batch.resource.code,
        "status": batch.status,
        "source": batch.source,
        "original_filename": batch.original_filename,
        "rows_read": batch.rows_read,
        "inserted": batch.inserted,
        "updated": batch.updated,
        "unchanged": batch.unchanged,
        "rejected": batch.rejected,
        "message": batch.message,
        "errors": [
            {"row": e.get("row"), "column": e.get("column", ""), "message": e.get("message", "")}
            for e in batch.errors
        ],
        "timings": batch.timings,
    }
    if duplicate_of:
        summary["duplicate_of"] = duplicate_of
        summary["message"] = getattr(batch, "duplicate_message", "") or summary["message"]
    return summary
