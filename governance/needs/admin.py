"""Admin of data needs (数据治理 › 数据需求): the list and a read-only page of each need.

Filing, routing, answering and closing happen on the hub pages (``/governance/needs/``),
through ``governance.needs.services``; the admin links there.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from governance.needs.models import DataNeed
from hub.catalog.admin_base import RestrictedModelAdmin


@admin.register(DataNeed)
class DataNeedAdmin(RestrictedModelAdmin):
    list_display = (
        "id",
        "title",
        "department",
        "provider",
        "status",
        "answer",
        "due_at",
        "overdue",
        "created_at",
    )
    list_filter = ("status", "answer", "overdue")
    list_select_related = ("department", "provider")
    search_fields = ("title", "description")
    fields = readonly_fields = (
        "hub_page",
        "title",
        "description",
        "purpose",
        "legal_basis",
        "fields",
        "keywords",
        "districts",
        "update_cycle",
        "department",
        "filed_by",
        "status",
        "provider",
        "candidates",
        "routed_by",
        "routed_at",
        "route_note",
        "due_at",
        "overdue",
        "overdue_at",
        "answer",
        "answer_note",
        "answered_by",
        "answered_at",
        "resource",
        "access_request",
        "commit_date",
        "closed_by",
        "closed_at",
        "close_note",
        "created_at",
    )

    @admin.display(description=_("办理"))
    def hub_page(self, obj: DataNeed) -> str:
        url = reverse("governance:need", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("在需求清单中办理"))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        # Read-only here: the services run from the hub pages.
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
