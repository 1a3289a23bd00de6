"""Admin of the push path: receipts (read-only) and per-key push rates (推送限流)."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied

from hub.catalog.admin_base import ReadOnlyAdminMixin, RestrictedModelAdmin
from streaming import services
from streaming.models import PushQuota, PushReceipt


@admin.register(PushReceipt)
class PushReceiptAdmin(ReadOnlyAdminMixin, RestrictedModelAdmin):
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
