"""Admin of the risk index: indicators edited by operators through the audited services;
snapshots and scores read-only."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from hub.catalog.admin_base import RestrictedInline, RestrictedModelAdmin
from risk import services
from risk.models import RiskIndicator, RiskScore, RiskSnapshot
from risk.policies import is_operator


@admin.register(RiskIndicator)
class RiskIndicatorAdmin(RestrictedModelAdmin):
    list_display = (
        "code",
        "name",
        "dimension",
        "hazard",
        "resource",
        "field",
        "aggregation",
        "direction",
        "weight",
        "is_active",
    )
    list_filter = ("dimension", "hazard", "source_kind", "is_active")
    search_fields = ("code", "name", "field")
    fieldsets = (
        (None, {"fields": ("code", "name", "description", "dimension", "hazard", "is_active")}),
        (
            _("数据来源"),
            {
                "fields": (
                    "source_kind",
                    "resource",
                    "field",
                    "aggregation",
                    "match_values",
                    "window_hours",
                )
            },
        ),
        (_("计分"), {"fields": ("direction", "weight", "lower_bound", "upper_bound")}),
    )
    actions = ["recompute"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and is_operator(request.user)

    def save_model(self, request: HttpRequest, obj, form, change: bool) -> None:
        if not change:
            services.create_indicator(user=request.user, indicator=obj)
            return
        names = [n for n in form.changed_data if n in services.INDICATOR_FIELDS]
        if names:
            services.update_indicator(
                user=request.user,
                indicator=obj,
                changes={name: getattr(obj, name) for name in names},
            )

    def delete_model(self, request: HttpRequest, obj) -> None:
        services.delete_indicator(user=request.user, indicator=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        with transaction.atomic():
            for obj in queryset.order_by("pk"):
                services.delete_indicator(user=request.user, indicator=obj)

    @admin.action(description=_("立即重新计算风险指数"))
    def recompute(self, request: HttpRequest, queryset) -> None:
        if not is_operator(request.user):
            raise PermissionDenied
        result = services.compute_snapshot(trigger="manual")
        self.message_user(
            request,
            _("已计算风险指数（第 %(id)d 次计算）。") % {"id": result.snapshot.pk},
            messages.SUCCESS,
        )


class RiskScoreInline(RestrictedInline):
    model = RiskScore
    fields = (
        "district_name",
        "hazard",
        "hazard_exposure",
        "vulnerability",
        "coping",
        "risk",
        "risk_class",
        "stale_indicators",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(RiskSnapshot)
class RiskSnapshotAdmin(RestrictedModelAdmin):
    list_display = ("computed_at", "trigger", "computed_as", "indicators", "districts")
    list_filter = ("trigger",)
    readonly_fields = [f.name for f in RiskSnapshot._meta.fields]
    inlines = [RiskScoreInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
