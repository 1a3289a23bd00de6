"""Serializers of the ingest API: batches (with counts, errors, report link) and pushes."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from connectors.pipeline.progress import rows_read_so_far
from hub.catalog.stored_text import localized
from hub.records.models import BatchStatus, UploadBatch
from hub.records.notices import TEMPLATES, rendered


class BatchWarningSerializer(serializers.Serializer):
    """One warning of a load, in the caller's language."""

    code = serializers.CharField(
        help_text="One of: " + ", ".join(sorted(TEMPLATES)) + " (docs/CONNECTORS.md, Warnings)."
    )
    column = serializers.CharField(help_text="The file header it is about; empty for the file.")
    message = serializers.CharField()


class BatchSerializer(serializers.ModelSerializer):
    """An upload batch as the caller sees it; ``duplicate_of`` is set for a no-op upload
    (the view passes the ``UploadResult`` as ``upload`` in the context)."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    errors = serializers.SerializerMethodField()
    warnings = serializers.SerializerMethodField()
    corrections = serializers.SerializerMethodField(
        help_text="Correction batches holding this batch's rejected rows (partial loads)."
    )
    error_report_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    duplicate_of = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField()
    is_final = serializers.BooleanField(read_only=True)
    rows_read = serializers.SerializerMethodField(
        help_text="Rows read; while the batch is being parsed, the rows read so far."
    )

    class Meta:
        model = UploadBatch
        fields = [
            "id",
            "url",
            "resource",
            "department",
            "source",
            "original_filename",
            "sheet",
            "sha256",
            "status",
            "is_final",
            "rows_read",
            "inserted",
            "updated",
            "unchanged",
            "rejected",
            "message",
            "errors",
            "warnings",
            "error_report_url",
            "accept_valid_rows",
            "correction_of",
            "corrections",
            "duplicate_of",
            "connector",
            "connector_version",
            "timings",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_rows_read(self, batch: UploadBatch) -> int:
        if batch.status == BatchStatus.PARSING:
            return rows_read_so_far(batch.pk) or batch.rows_read
        return batch.rows_read

    def get_errors(self, batch: UploadBatch) -> list[dict]:
        return [
            {
                "row": e.get("row"),
                "column": e.get("column", ""),
                "message": localized(e.get("message", "")),
            }
            for e in batch.errors
        ]

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_corrections(self, batch: UploadBatch) -> list[int]:
        return sorted(batch.corrections.values_list("id", flat=True))

    @extend_schema_field(BatchWarningSerializer(many=True))
    def get_warnings(self, batch: UploadBatch) -> list[dict]:
        return rendered(batch.warnings)

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, batch: UploadBatch) -> str:
        return self._absolute(reverse("batch-detail", args=[batch.pk]))

    def get_error_report_url(self, batch: UploadBatch) -> str | None:
        if not batch.error_report:
            return None
        return self._absolute(reverse("batch-error-report", args=[batch.pk]))

    def get_duplicate_of(self, batch: UploadBatch) -> int | None:
        upload = self.context.get("upload")
        return upload.duplicate_of if upload is not None else None

    def get_message(self, batch: UploadBatch) -> str:
        upload = self.context.get("upload")
        # Stored in the source language: shown in the caller's (hub.catalog.stored_text).
        return localized((upload.message if upload is not None else "") or batch.message)


class UploadSerializer(serializers.Serializer):
    """Multipart upload of one file."""

    file = serializers.FileField()
    sheet = serializers.CharField(
        required=False,
        max_length=100,
        help_text="XLSX sheet name or 1-based number; empty: the first sheet with a header.",
    )
    accept_valid_rows = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Load the valid rows and keep the rejected ones as a correction batch; "
        "false: all-or-nothing; absent: the resource's setting.",
    )
    corrects = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Id of the correction batch this corrected file completes "
        "(loaded all-or-nothing).",
    )


class RecordsSerializer(serializers.ListSerializer):
    """A JSON list of records; keys are field names (or Chinese labels)."""

    child = serializers.DictField()
