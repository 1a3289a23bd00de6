"""Admin pages of the catalog (数据目录), Chinese first."""

from __future__ import annotations

from django.contrib import admin
from django.db import transaction
from django.db.models import Prefetch
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hub.admin_base import RestrictedInline, RestrictedModelAdmin
from hub.admin_writes import CatalogWritesMixin
from hub.display import display_value
from hub.models import (
    CodeItem,
    CodeList,
    DataResource,
    Department,
    FieldSpec,
    Record,
    TaskFailure,
    UploadBatch,
)
from hub.recordstore import RecordStore
from hub.restricted import VIEW

# Records and batches shown raw (unmasked, unscoped): the provider and managers only.
VIEW_RECORDS_CLEAR = "view_records_clear"

admin.site.site_header = _("城市数据中枢 · 一网统管")
admin.site.site_title = _("城市数据中枢")
admin.site.index_title = _("管理首页")


@admin.register(Department)
class DepartmentAdmin(RestrictedModelAdmin):
    list_display = ("code", "name", "short_name", "is_active")
    search_fields = ("code", "name", "short_name")
    list_filter = ("is_active",)


class CodeItemInline(RestrictedInline):
    model = CodeItem
    extra = 0


@admin.register(CodeList)
class CodeListAdmin(RestrictedModelAdmin):
    list_display = ("code", "name", "version", "standard")
    search_fields = ("code", "name")
    inlines = [CodeItemInline]


class FieldSpecInline(RestrictedInline):
    model = FieldSpec
    extra = 0
    fields = (
        "order",
        "name",
        "label",
        "field_type",
        "unit",
        "required",
        "min_value",
        "max_value",
        "pattern",
        "enum",
        "code_list",
        "grade",
        "masking",
    )


@admin.register(DataResource)
class DataResourceAdmin(CatalogWritesMixin, RestrictedModelAdmin):
    """Resources and their fields; every save and delete is a checked, audited service call."""

    list_display = (
        "code",
        "name",
        "provider",
        "domain",
        "sharing_type",
        "update_cycle",
        "grade",
        "status",
        "last_loaded_at",
    )
    list_filter = ("sharing_type", "domain", "status", "update_cycle", "grade", "provider")
    search_fields = ("code", "name", "summary")
    readonly_fields = ("grade", "last_loaded_at", "created_at", "updated_at")
    list_select_related = ("provider",)
    inlines = [FieldSpecInline]
    fieldsets = (
        (None, {"fields": ("code", "name", "summary", "provider", "domain", "keywords")}),
        (
            _("共享与开放"),
            {"fields": ("sharing_type", "sharing_conditions", "legal_basis", "open_type")},
        ),
        (
            _("更新与发布"),
            {"fields": ("format", "update_cycle", "status", "published_at", "last_loaded_at")},
        ),
        (
            _("结构"),
            {
                "fields": (
                    "key_fields",
                    "time_field",
                    "district_field",
                    "latitude_field",
                    "longitude_field",
                    "grade",
                )
            },
        ),
    )


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

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

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
        return ["data_display" if name == "data" else name for name in self._field_names()]

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


@admin.register(TaskFailure)
class TaskFailureAdmin(RestrictedModelAdmin):
    """Failed background tasks, for operators (superusers and those given the view right)."""

    list_display = ("occurred_at", "task_name", "exception_type", "will_retry", "hostname")
    list_filter = ("task_name", "will_retry")
    search_fields = ("task_name", "task_id", "message")
    date_hierarchy = "occurred_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
