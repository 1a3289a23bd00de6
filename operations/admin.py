"""Admin of the operations view: mappings and rules are data that staff edit here."""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hub.catalog.admin_base import RestrictedInline, RestrictedModelAdmin
from hub.catalog.restricted import CHANGE
from operations.admin_writes import ConfigWritesMixin, WorkOrderActionsMixin
from operations.audit import log_ops_centre_read
from operations.hazards import hazard_label
from operations.models import (
    Alert,
    AlertTransition,
    Event,
    MonitoringPoint,
    ResourceMapping,
    Rule,
    SyncRun,
    WorkOrder,
)


class ResourceScopedAdmin(RestrictedModelAdmin):
    """Objects derived from records: listed with the records' row scope
    (``Model.objects.restrict``). Pages read by the ops centre under the 一网统管 policy
    append a ``read`` audit event, like /ops/ and the ops API."""

    ops_centre_wide = False  # True where the ops centre sees every department's rows

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        if self.ops_centre_wide and request.method == "GET" and response.status_code == 200:
            log_ops_centre_read(request.user, view=f"admin:{self.opts.model_name}:list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if self.ops_centre_wide and request.method == "GET" and response.status_code == 200:
            log_ops_centre_read(
                request.user,
                view=f"admin:{self.opts.model_name}:view",
                rows=1,
                detail={"id": str(object_id)},
            )
        return response


class ProviderEditableAdmin(ConfigWritesMixin, RestrictedModelAdmin):
    """Rules and mappings: listed with the records; edited by the resource's managers
    (provider department, ``manage_resource`` holders); the resource choices are the
    resources the user manages. Saves and deletes are audited services
    (``ConfigWritesMixin``)."""

    related_actions = {"resource": CHANGE}


@admin.register(ResourceMapping)
class ResourceMappingAdmin(ProviderEditableAdmin):
    list_display = ("resource", "entity", "point_field", "metrics", "is_active", "updated_at")
    list_filter = ("entity", "is_active")
    search_fields = ("resource__code", "resource__name")
    autocomplete_fields = ()
    raw_id_fields = ("resource",)


@admin.register(Rule)
class RuleAdmin(ProviderEditableAdmin):
    related_actions = {"resource": CHANGE, "event_resource": "view_records"}
    list_display = ("name", "kind", "resource", "point", "metric", "level_summary", "is_active")
    list_filter = ("kind", "is_active", "resource")
    search_fields = ("name", "hazard", "metric")
    raw_id_fields = ("point",)
    fieldsets = (
        (None, {"fields": ("name", "kind", "hazard", "resource", "point", "metric", "is_active")}),
        (
            _("分级阈值"),
            {"fields": ("direction", "blue", "yellow", "orange", "red", "consecutive_n")},
        ),
        (_("数据中断与复合规则"), {"fields": ("stale_after_minutes", "level", "threshold")}),
        (_("关联事件"), {"fields": ("event_resource", "event_type", "event_min_level")}),
        (_("处置"), {"fields": ("department",)}),
    )

    @admin.display(description=_("阈值（蓝/黄/橙/红）"))
    def level_summary(self, rule: Rule) -> str:
        return " / ".join(
            "-" if v is None else f"{v:g}" for v in (rule.blue, rule.yellow, rule.orange, rule.red)
        )


@admin.register(MonitoringPoint)
class MonitoringPointAdmin(ResourceScopedAdmin):
    ops_centre_wide = True
    list_display = (
        "external_id",
        "name",
        "resource",
        "domain",
        "district_code",
        "last_observed_at",
    )
    list_filter = ("domain", "district_code")
    search_fields = ("external_id", "name")
    readonly_fields = [f.name for f in MonitoringPoint._meta.fields]


@admin.register(Event)
class EventAdmin(ResourceScopedAdmin):
    list_display = ("event_type", "level", "district_code", "occurred_at", "ended_at", "resource")
    list_filter = ("event_type", "district_code")
    readonly_fields = [f.name for f in Event._meta.fields]


class AlertTransitionInline(RestrictedInline):
    model = AlertTransition
    extra = 0
    can_delete = False
    readonly_fields = ("kind", "from_level", "to_level", "value", "at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Alert)
class AlertAdmin(ResourceScopedAdmin):
    ops_centre_wide = True
    list_display = (
        "hazard_name",
        "level",
        "state",
        "domain",
        "district_code",
        "scope",
        "opened_at",
    )
    list_filter = ("state", "level", "domain", "district_code")
    search_fields = ("hazard", "scope", "message")
    readonly_fields = [f.name for f in Alert._meta.fields]
    inlines = [AlertTransitionInline]

    @admin.display(description=_("风险类型"), ordering="hazard")
    def hazard_name(self, obj: Alert) -> str:
        """The hazard in the viewer's language (as typed when it is not a known name)."""
        return hazard_label(obj.hazard)


@admin.register(WorkOrder)
class WorkOrderAdmin(WorkOrderActionsMixin, ResourceScopedAdmin):
    """Read-only orders; moves (feedback included) are actions: ``WorkOrderActionsMixin``."""

    ops_centre_wide = True

    list_display = ("code", "department", "state", "overdue", "dispatched_at", "resolve_by")
    list_filter = ("state", "overdue", "department")
    search_fields = ("code", "feedback")

    def get_readonly_fields(self, request, obj=None):
        fields = [f for f in super().get_readonly_fields(request, obj) if f != "history"]
        return [*fields, "history_table", "ops_page"]

    def get_fields(self, request, obj=None):
        names = [f.name for f in self.model._meta.fields if f.name not in ("id", "history")]
        return [*names, "history_table", "ops_page"]

    @admin.display(description=_("流转记录"))
    def history_table(self, order: WorkOrder) -> str:
        """The order's history as a table: localised steps, people, Asia/Shanghai times."""
        from operations.timeline import order_timeline

        steps = [s for s in order_timeline(user=order._viewer, order=order) if s.stage == "handle"]
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("时间"),
            _("环节"),
            _("部门"),
            _("操作人"),
            _("处置反馈"),
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    f"{s.at:%Y-%m-%d %H:%M:%S}" if s.at else "",
                    s.label,
                    s.department,
                    s.by,
                    s.feedback,
                )
                for s in steps
            ),
        )
        return format_html('<table class="history">{}{}</table>', head, rows)

    @admin.display(description=_("城运中心处置页"))
    def ops_page(self, order: WorkOrder) -> str:
        url = reverse("operations:order", args=[order.pk])
        return format_html('<a href="{}">{}</a>', url, _("查看闭环流程并处置"))

    def get_object(self, request, object_id, from_field=None):
        order = super().get_object(request, object_id, from_field)
        if order is not None:
            order._viewer = request.user  # the history table reads through the doors
        return order


@admin.register(SyncRun)
class SyncRunAdmin(ResourceScopedAdmin):
    list_display = ("batch", "state", "attempts", "started_at", "finished_at")
    list_filter = ("state",)
    readonly_fields = [f.name for f in SyncRun._meta.fields]
