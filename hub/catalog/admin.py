"""Admin pages of the catalog (数据目录), Chinese first."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from hub.catalog.admin_base import RestrictedInline, RestrictedModelAdmin
from hub.catalog.admin_writes import CatalogWritesMixin
from hub.catalog.models import CodeItem, CodeList, DataResource, Department, FieldSpec, TaskFailure

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
                    "accept_valid_rows",
                )
            },
        ),
    )


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
