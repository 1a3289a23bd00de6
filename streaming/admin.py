"""Admin of the push path: receipts (read-only) and per-key push rates (推送限流)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from hub.catalog.admin_base import RestrictedModelAdmin
from streaming import services
from streaming.models import PushQuota, PushReceipt


@admin.register(PushReceipt)
class PushReceiptAdmin(RestrictedModelAdmin):
    """Receipts change only through the push path: read-only here."""

    list_display = ("id", "resource", "department", "status", "row_count", "batch", "created_at")
    list_filter = ("status", "resource")
    list_select_related = ("resource", "department")
    exclude = ("records",)
    readonly_fields = (
        "resource", "department", "pushed_by", "api_key_prefix", "idempotency_key", "sha256",
        "row_count", "status", "solo", "batch", "batch_row", "attempts", "errors", "message",
        "created_at", "claimed_at", "finished_at",
    )  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PushQuota)
class PushQuotaAdmin(RestrictedModelAdmin):
    """The push rate of one API key; saved through the audited service."""

    list_display = ("api_key", "rate")
    fields = ("api_key", "rate")

    def save_model(self, request, obj, form, change) -> None:
        try:
            saved = services.set_push_rate(user=request.user, api_key=obj.api_key, rate=obj.rate)
        except PermissionError as exc:
            raise PermissionDenied from exc
        obj.pk = saved.pk
