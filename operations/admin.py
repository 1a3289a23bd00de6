"""Admin of the operations view: mappings and rules are data that staff edit here."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from hub.catalog.admin_base import ReadOnlyAdminMixin, RestrictedInline, RestrictedModelAdmin
from hub.catalog.restricted import CHANGE
from operations.admin_writes import ConfigWritesMixin, WorkOrderActionsMixin
from operations.audit import log_ops_centre_read
from operations.hazards import hazard_label
from operations.models import (
    Alert,
    AlertTransition,
    Event,
    MonitoringPoint,
    Reading,
    ResourceMapping,
    Rule,
    SyncRun,
    WorkOrder,
)
from operations.values import ALERT_TIMES, ValueAccess, value_access


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


def request_values(request: HttpRequest, model: type) -> ValueAccess:
    """The viewer's clearances for ``model``, computed once per request."""
    cache = request.__dict__.setdefault("_ops_values", {})
    if model not in cache:
        cache[model] = value_access(user=request.user, model=model)
    return cache[model]


class ClearValuesAdmin(ResourceScopedAdmin):
    """Values whose source field the viewer does not read in clear (``operations.values``)
    are neither shown on the change page and the list nor usable to filter
    (``?latitude__gt=`` is a 400), search or order by: a hidden value must not be
    inferable by bisecting the list."""

    def _values(self, request: HttpRequest) -> ValueAccess:
        return request_values(request, self.model)

    def _hidden(self, request: HttpRequest) -> set[str]:
        """Attributes hidden for some row the viewer may list (once per request)."""
        cache = request.__dict__.setdefault("_ops_hidden", {})
        if self.model not in cache:
            values = self._values(request)
            pairs: list = []
            if not values.wide:
                # Not get_queryset: its ordering asks for what is hidden.
                rows = self.model.objects.restrict(request.user, self.restrict_action).order_by()
                metric = {Alert: "rule__metric", Reading: "metric"}.get(self.model)
                if metric:
                    pairs = list(rows.values_list("resource_id", metric).distinct())
                else:
                    resources = rows.values_list("resource_id", flat=True).distinct()
                    pairs = [(pk, None) for pk in resources]
            hidden = values.hidden_anywhere(pairs)
            if self.model is Alert and not values.wide:
                # A compound alert's times are its events' times too.
                others = rows.exclude(other_resource=None).values_list("other_resource_id")
                values.prepare(pk for (pk,) in others.distinct())
                for (pk,) in others.distinct():
                    hidden_events = values.clearance(pk).hidden(Event)
                    if hidden_events & {"occurred_at", "ended_at"}:
                        hidden |= set(ALERT_TIMES)
                    if "district_code" in hidden_events:  # and its district theirs
                        hidden.add("district_code")
            if self.model is Alert and "district_code" in hidden:
                hidden.add("scope")  # a compound alert's scope is "district:<code>"
            cache[self.model] = hidden
        return cache[self.model]

    def _hidden_of(self, request: HttpRequest, obj) -> set[str]:
        """Attributes of one object hidden from the viewer."""
        values = self._values(request)
        hidden = values.clearance(obj.resource_id).hidden(self.model)
        if isinstance(obj, Alert):
            if not values.alert_clear(obj):
                hidden.add("value")
            hidden -= set(ALERT_TIMES)
            if not values.alert_times_clear(obj):
                hidden |= set(ALERT_TIMES)
            if not values.alert_district_clear(obj) or "district_code" in hidden:
                hidden |= {"district_code", "scope"}
        return hidden

    def get_list_display(self, request: HttpRequest):
        hidden = self._hidden(request)
        return [name for name in super().get_list_display(request) if name not in hidden]

    def get_list_filter(self, request: HttpRequest):
        hidden = self._hidden(request)
        return [
            entry
            for entry in super().get_list_filter(request)
            if (entry[0] if isinstance(entry, tuple) else entry) not in hidden
        ]

    def get_search_fields(self, request: HttpRequest):
        hidden = self._hidden(request)
        return [
            name
            for name in super().get_search_fields(request)
            if name.lstrip("^=@").split("__")[0] not in hidden
        ]

    def get_ordering(self, request: HttpRequest):
        hidden = self._hidden(request)
        ordering = super().get_ordering(request) or self.model._meta.ordering
        kept = [name for name in ordering if name.lstrip("-").split("__")[0] not in hidden]
        return kept or ["-pk"]

    def lookup_allowed(self, lookup, value, request=None) -> bool:
        if request is not None and lookup.split("__")[0] in self._hidden(request):
            return False  # DisallowedModelAdminLookup: 400, whatever the value
        return super().lookup_allowed(lookup, value, request)

    def get_fields(self, request: HttpRequest, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            return fields
        hidden = self._hidden_of(request, obj)
        return [name for name in fields if name not in hidden]


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
class MonitoringPointAdmin(ClearValuesAdmin):
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
class EventAdmin(ClearValuesAdmin):
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

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        if obj is None:
            return fields
        values = request_values(request, Alert)
        hidden = set() if values.alert_clear(obj) else {"value"}  # as the alert's own
        if not values.alert_times_clear(obj):
            hidden.add("at")
        return [name for name in fields if name not in hidden]


@admin.register(Alert)
class AlertAdmin(ClearValuesAdmin):
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


# A run is a record of the worker's sync, written by it alone: its door answers ``view``
# only, so even a superuser's change or delete page is refused, not a 500.
@admin.register(SyncRun)
class SyncRunAdmin(ReadOnlyAdminMixin, ResourceScopedAdmin):
    list_display = ("batch", "state", "attempts", "started_at", "finished_at")
    list_filter = ("state",)
    readonly_fields = [f.name for f in SyncRun._meta.fields]
