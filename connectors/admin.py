"""Admin for header aliases: stewards teach the hub new header spellings."""

from __future__ import annotations

from django.contrib import admin

from connectors.models import HeaderAlias


@admin.register(HeaderAlias)
class HeaderAliasAdmin(admin.ModelAdmin):
    """List, search and add header aliases; the creator is recorded automatically."""

    list_display = ("alias", "field_name", "resource", "created_by", "created_at")
    list_filter = ("resource",)
    search_fields = ("alias", "field_name", "resource__code", "resource__name")
    autocomplete_fields = ("resource",)
    readonly_fields = ("created_by", "created_at")

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
