"""Admin pages of upload batches and records (数据记录): raw rows, for the provider."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import Prefetch
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hub.catalog.admin_base import RestrictedModelAdmin
from hub.catalog.display import display_value
from hub.catalog.models import DataResource, FieldSpec
from hub.catalog.restricted import VIEW
from hub.catalog.stored_text import localized, localized_errors
from hub.records.models import Record, RecordMerge, UploadBatch
from hub.records.notices import rendered
from hub.records.recordstore import RecordStore

# Records and batches shown raw (unmasked, unscoped): the provider and managers only.
VIEW_RECORDS_CLEAR = "view_records_clear"


@admin.register(UploadBatch)
class UploadBatchAdmin(RestrictedModelAdmin):
    list_display = (
        "id",
        "resource",
        "department",
        "source",
        "status",
        "rows_read",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "created_at",
    )
    list_filter = ("status", "source", "department", ("resource", admin.RelatedOnlyFieldListFilter))
    search_fields = ("resource__code", "original_filename", "sha256")
    list_select_related = ("resource", "department")
    # Batches carry raw rows (errors): the provider, managers and the uploader see them.

    # Fields shown through a display method: stored messages in the viewer's language.
    DISPLAYED = {
        "warnings": "warnings_display",
        "message": "message_display",
        "errors": "errors_display",
    }

    def get_readonly_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields]
        return [self.DISPLAYED.get(name, name) for name in names]

    @admin.display(description=_("说明"))
    def message_display(self, obj: UploadBatch) -> str:
        """The batch message, stored in the source language, in the viewer's."""
        return localized(obj.message) or "—"

    @admin.display(description=_("错误明细"))
    def errors_display(self, obj: UploadBatch):
        """The first row errors as a table (row, column, message in the viewer's language)."""
        errors = localized_errors(obj.errors[:100] if isinstance(obj.errors, list) else [])
        if not errors:
            return "—"
        return format_html(
            '<table class="batch-errors"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            _("行"),
            _("列"),
            _("说明"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                ((e.get("row", ""), e.get("column", ""), e.get("message", "")) for e in errors),
            ),
        )

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    @admin.display(description=_("提示"))
    def warnings_display(self, obj: UploadBatch):
        """The load's warnings in the viewer's language: column and message."""
        items = rendered(obj.warnings)
        if not items:
            return "—"
        return format_html(
            '<table class="batch-warnings"><thead><tr><th>{}</th><th>{}</th></tr></thead>'
            "<tbody>{}</tbody></table>",
            _("列"),
            _("说明"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td></tr>",
                ((w["column"] or "—", w["message"]) for w in items),
            ),
        )

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Record)
class RecordAdmin(RestrictedModelAdmin):
    list_display = ("resource", "key", "observed_at", "district_code", "batch", "source_row")
    list_filter = (("resource", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("key",)
    list_select_related = ("resource",)
    # The admin shows raw record data: only callers who read it in clear and unscoped
    # (the provider, superusers); everyone else reads masked rows through the API.
    restrict_action = VIEW_RECORDS_CLEAR

    def get_queryset(self, request):
        user = request.user
        return (
            super()
            .get_queryset(request)
            .prefetch_related(
                Prefetch("resource", queryset=DataResource.objects.restrict(user, VIEW)),
                Prefetch("resource__fields", queryset=FieldSpec.objects.restrict(user, VIEW)),
            )
        )

    def get_fields(self, request, obj=None):
        # The raw JSON would show datetimes in UTC; "data_display" shows them locally.
        names = ["data_display" if name == "data" else name for name in self._field_names()]
        if obj is not None:
            # Read here, where the caller is known, through the merged records' door.
            merges = RecordMerge.objects.restrict(request.user, VIEW_RECORDS_CLEAR)
            obj.merges = list(merges.filter(resource_id=obj.resource_id, key=obj.key))
        return [*names, "merged_display"]

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def _field_names(self) -> list[str]:
        return [f.name for f in self.model._meta.fields]

    @admin.display(description=_("数据"))
    def data_display(self, obj: Record):
        """The record's data as a label/value table, values as people read them."""
        data = obj.data if isinstance(obj.data, dict) else {}
        ordered = sorted(obj.resource.fields.all(), key=lambda spec: (spec.order, spec.id))
        specs = [(spec.name, spec.label, spec.field_type) for spec in ordered]
        rows = [(label, display_value(data.get(name), kind)) for name, label, kind in specs]
        known = {name for name, _label, _kind in specs}
        rows += [
            (name, display_value(value, "")) for name, value in data.items() if name not in known
        ]
        return format_html(
            '<table class="record-data"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=_("合并的记录"))
    def merged_display(self, obj: Record):
        """Records merged into this one (same key spelt differently): their lineage."""
        merges = getattr(obj, "merges", [])
        rows = [(m.merged_key, m.batch_id or "—", m.source_row or "—") for m in merges]
        if not rows:
            return "—"
        return format_html(
            '<table class="record-merges"><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            _("原主键"),
            _("原写入批次"),
            _("源文件行号"),
            format_html_join("", "<tr><td>{}</td><td>#{}</td><td>{}</td></tr>", rows),
        )

    def has_add_permission(self, request) -> bool:
        return False

    # Records are deleted by their resource's store: it drops the stale source-row
    # fingerprints first, which also waits for a load of the resource in progress.
    def delete_model(self, request, obj: Record) -> None:
        RecordStore(obj.resource_id).delete(keys=[obj.key])

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for resource_id in sorted(set(queryset.values_list("resource_id", flat=True))):
                RecordStore(resource_id).delete(queryset)
