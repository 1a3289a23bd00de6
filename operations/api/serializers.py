"""Serializers of the operations API (read-mostly, for big screens)."""

from __future__ import annotations

from django.db.models import CharField
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from operations.hazards import hazard_label
from operations.models import Alert, AlertTransition, MonitoringPoint, Reading, WorkOrder
from operations.models.workorders import TRANSITIONS
from operations.values import ALERT_TIMES, SOURCES, ValueAccess, alert_message, point_label


class PreparedListSerializer(serializers.ListSerializer):
    """Computes the caller's clearances of every resource on the page at once."""

    def to_representation(self, data):
        rows = data.all() if hasattr(data, "all") else data
        values: ValueAccess | None = self.context.get("values")
        if values is not None:
            rows = list(rows)
            values.prepare({row.resource_id for row in rows})
        return super().to_representation(rows)


class ClearValuesMixin:
    """Blanks the values whose source field the caller does not read in clear
    (``context["values"]``, an ``operations.values.ValueAccess``; without it, nothing is
    shown of them)."""

    def to_representation(self, instance):
        data = super().to_representation(instance)
        values: ValueAccess | None = self.context.get("values")
        for name in SOURCES.get(type(instance), {}):
            if name in data and (values is None or not values.attribute(instance, name)):
                text = isinstance(instance._meta.get_field(name), CharField)
                data[name] = "" if text else None
        return data

    class Meta:
        list_serializer_class = PreparedListSerializer


class PointSerializer(ClearValuesMixin, serializers.ModelSerializer):
    """A monitoring point; coordinates, time, id and name blank where their fields are
    not read in clear."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta(ClearValuesMixin.Meta):
        model = MonitoringPoint
        fields = [
            "id",
            "resource",
            "external_id",
            "name",
            "domain",
            "department",
            "district_code",
            "latitude",
            "longitude",
            "last_observed_at",
        ]


class ReadingSerializer(ClearValuesMixin, serializers.ModelSerializer):
    """One reading of a point, with the metric's label (信息项中文名称); the selector
    leaves out readings of hidden metrics, the time is blank when its field is hidden."""

    label = serializers.SerializerMethodField()

    class Meta(ClearValuesMixin.Meta):
        model = Reading
        fields = ["metric", "label", "value", "unit", "observed_at"]

    def get_label(self, reading: Reading) -> str:
        return self.context.get("labels", {}).get(reading.metric, reading.metric)


class TransitionSerializer(serializers.ModelSerializer):
    """One step of an alert's history; ``value`` and ``at`` as the alert's (``hide_value``,
    ``hide_time``)."""

    class Meta:
        model = AlertTransition
        fields = ["kind", "from_level", "to_level", "value", "at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if self.context.get("hide_value", True):
            data["value"] = None
        if self.context.get("hide_time", True):
            data["at"] = None
        return data


class AlertSerializer(serializers.ModelSerializer):
    """An alert with its work order's code and state; ``value`` is null when the rule's
    metric is not read in clear, ``point_name`` blank when the point's is not."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    level_display = serializers.CharField(source="get_level_display", read_only=True)
    domain_display = serializers.CharField(source="get_domain_display", read_only=True)
    hazard_display = serializers.SerializerMethodField()
    point_name = serializers.SerializerMethodField()
    metric = serializers.SerializerMethodField()
    work_order = serializers.SerializerMethodField()

    class Meta:
        model = Alert
        fields = [
            "id",
            "hazard",
            "hazard_display",
            "level",
            "level_display",
            "state",
            "domain",
            "domain_display",
            "resource",
            "point",
            "point_name",
            "metric",
            "district_code",
            "scope",
            "value",
            "message",
            "opened_at",
            "escalated_at",
            "deescalated_at",
            "closed_at",
            "work_order",
        ]
        list_serializer_class = PreparedListSerializer

    def to_representation(self, alert: Alert):
        data = super().to_representation(alert)
        values: ValueAccess | None = self.context.get("values")
        if values is None or not values.alert_clear(alert):
            data["value"] = None
        if values is not None:
            data["message"] = alert_message(values, alert)
        elif alert.point is not None:
            data["message"] = ""  # the stored message begins with the point's name
        if values is None or not values.alert_district_clear(alert):
            data["district_code"] = ""
            if alert.scope.startswith("district:"):  # a compound alert's scope names it
                data["scope"] = ""
        if values is None or not values.alert_times_clear(alert):
            # The times are its readings' times (``ValueAccess.alert_times_clear``).
            data.update(dict.fromkeys(ALERT_TIMES))
        return data

    def get_hazard_display(self, alert: Alert) -> str:
        """The hazard in the caller's language (``hazard`` is the name as stored)."""
        return hazard_label(alert.hazard)

    def get_point_name(self, alert: Alert) -> str:
        point = alert.point
        values: ValueAccess | None = self.context.get("values")
        if point is None or values is None:
            return ""
        return point_label(values, point)

    def get_metric(self, alert: Alert) -> str:
        return alert.rule.metric if alert.rule else ""

    def get_work_order(self, alert: Alert) -> dict | None:
        order = getattr(alert, "work_order", None)
        return {"id": order.pk, "code": order.code, "state": order.state} if order else None


class AlertDetailSerializer(AlertSerializer):
    """An alert with its full history (the transitions' values as the alert's)."""

    transitions = serializers.SerializerMethodField()

    class Meta(AlertSerializer.Meta):
        fields = [*AlertSerializer.Meta.fields, "transitions"]

    @extend_schema_field(TransitionSerializer(many=True))
    def get_transitions(self, alert: Alert) -> list:
        values: ValueAccess | None = self.context.get("values")
        hide = values is None or not values.alert_clear(alert)
        hide_time = values is None or not values.alert_times_clear(alert)
        context = {"hide_value": hide, "hide_time": hide_time}
        return TransitionSerializer(alert.transitions.all(), many=True, context=context).data


class WorkOrderListSerializer(serializers.ListSerializer):
    """Computes the caller's clearances of the orders' resources at once."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        values: ValueAccess | None = self.context.get("values")
        if values is not None:
            values.prepare({row.alert.resource_id for row in rows})
        return super().to_representation(rows)


class WorkOrderSerializer(serializers.ModelSerializer):
    """A work order with its timeliness; ``district_code`` blank where its alert's is
    (a point alert's district is its point's, blank where that field is not clear)."""

    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department_name = serializers.CharField(source="department.short_name", read_only=True)
    hazard = serializers.CharField(source="alert.hazard", read_only=True)
    hazard_display = serializers.SerializerMethodField()
    level = serializers.IntegerField(source="alert.level", read_only=True)
    district_code = serializers.SerializerMethodField()
    timeliness = serializers.SerializerMethodField()

    class Meta:
        model = WorkOrder
        fields = [
            "id",
            "code",
            "alert",
            "hazard",
            "hazard_display",
            "level",
            "district_code",
            "department",
            "department_name",
            "state",
            "dispatched_at",
            "accept_by",
            "resolve_by",
            "accepted_at",
            "resolved_at",
            "verified_at",
            "closed_at",
            "overdue",
            "timeliness",
            "feedback",
            "history",
        ]
        list_serializer_class = WorkOrderListSerializer

    def to_representation(self, order: WorkOrder):
        data = super().to_representation(order)
        values: ValueAccess | None = self.context.get("values")
        if values is None or not values.alert_district_clear(order.alert):
            data["district_code"] = ""
        return data

    def get_hazard_display(self, order: WorkOrder) -> str:
        """The hazard in the caller's language (``hazard`` is the name as stored)."""
        return hazard_label(order.alert.hazard)

    def get_district_code(self, order: WorkOrder) -> str:
        """The alert's district, blank where it is its point's and that field is hidden."""
        values: ValueAccess | None = self.context.get("values")
        if values is None or not values.alert_district_clear(order.alert):
            return ""
        return order.alert.district_code

    def get_timeliness(self, order: WorkOrder) -> str:
        from operations.selectors import timeliness

        return timeliness(order, self.context["now"])


class TransitionRequestSerializer(serializers.Serializer):
    """Move a work order: target state and optional feedback."""

    to = serializers.ChoiceField(choices=sorted({s for v in TRANSITIONS.values() for s in v}))
    feedback = serializers.CharField(required=False, allow_blank=True, default="")


class DispatchRequestSerializer(serializers.Serializer):
    """派单: the department (code) the ops centre assigns the order to, and a note."""

    department = serializers.SlugField(max_length=32)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class UrgeRequestSerializer(serializers.Serializer):
    """督办: a note for the assigned department."""

    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
