"""Reads of the ingest side: batches a caller may see, and their plain summaries."""

from __future__ import annotations

from django.db.models import QuerySet

from hub.catalog.models import DataResource
from hub.catalog.restricted import VIEW
from hub.catalog.stored_text import localized
from hub.records.models import UploadBatch
from hub.records.notices import rendered
from permissions.selectors import UPLOAD_RECORDS, UserLike


def visible_batches(user: UserLike) -> QuerySet[UploadBatch]:
    """Batches the user may see (the provider, managers, the uploader; others 404)."""
    return UploadBatch.objects.restrict(user, VIEW).select_related("resource", "department")


def uploadable_resource(user: UserLike, code: str) -> DataResource | None:
    """The resource with ``code`` if the user may upload to it (else None: answer 404).

    A request with a push-scoped API key uploads to its own department's resources
    although its service user has no steward role: the policy knows the key's scope.
    """
    return (
        DataResource.objects.restrict(user, UPLOAD_RECORDS)
        .select_related("provider")
        .filter(code=code)
        .first()
    )


def batch_summary(
    batch: UploadBatch, *, duplicate_of: int | None = None, duplicate_message: str = ""
) -> dict:
    """The JSON summary of a batch shared by the CLI, the API and the admin; an upload
    that was a no-op passes the ``UploadResult``'s duplicate_of and message."""
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
        "message": localized(batch.message),
        "errors": [
            {
                "row": e.get("row"),
                "column": e.get("column", ""),
                "message": localized(e.get("message", "")),
            }
            for e in batch.errors
        ],
        "warnings": [
            {"column": w["column"], "message": w["message"], "code": w["code"]}
            for w in rendered(batch.warnings)
        ],
        "timings": batch.timings,
        "accept_valid_rows": batch.accept_valid_rows,
        "correction_of": batch.correction_of_id,
        "corrections": sorted(batch.corrections.values_list("id", flat=True)),
    }
    if duplicate_of:
        summary["duplicate_of"] = duplicate_of
        summary["message"] = duplicate_message or summary["message"]
    return summary
