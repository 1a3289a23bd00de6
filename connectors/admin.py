"""Admin for header aliases: stewards teach the hub new header spellings.

Every queryset goes through the permission policy: a steward sees and edits only the
aliases of resources they may upload to (``resource_filter(..., UPLOAD_RECORDS)``);
others are 404, as elsewhere in the admin.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from connectors.models import HeaderAlias
from hub.models import DataResource
from permissions.selectors import UPLOAD_RECORDS, resource_filter


@admin.register(HeaderAlias)
class HeaderAliasAdmin(admin.ModelAdmin):
    """List, search and add header aliases; the creator is recorded automatically."""

    list_display = ("alias", "field_name", "resource", "created_by", "created_at")
    list_filter = ("resource",)
    search_fields = ("alias", "field_name", "resource__code", "resource__name")
    readonly_fields = ("created_by", "created_at")
    list_select_related = ("resource", "created_by")

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        return queryset.filter(resource_filter(request.user, UPLOAD_RECORDS, prefix="resource__"))

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "resource":
            kwargs["queryset"] = DataResource.objects.filter(
                resource_filter(request.user, UPLOAD_RECORDS)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: HeaderAlias, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
