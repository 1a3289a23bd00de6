"""Serializers of the governance API: objections and notifications."""

from __future__ import annotations

from rest_framework import serializers

from governance.models import Notification, Objection, ObjectionScope


class ObjectionSerializer(serializers.ModelSerializer):
    """An objection (数据异议) as its objector and its provider see it; no data values."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    escalated_to = serializers.SlugRelatedField(slug_field="code", read_only=True)
    has_attachment = serializers.SerializerMethodField()

    class Meta:
        model = Objection
        fields = [
            "id",
            "resource",
            "scope",
            "record_key",
            "field_name",
            "batch",
            "department",
            "reason",
            "evidence",
            "has_attachment",
            "status",
            "due_at",
            "overdue",
            "escalated_at",
            "escalated_to",
            "answer",
            "answered_at",
            "corrected_field",
            "correction_batch",
            "created_at",
        ]
        read_only_fields = fields

    def get_has_attachment(self, obj: Objection) -> bool:
        return bool(obj.attachment)


class ObjectionCreateSerializer(serializers.Serializer):
    """Input of a new objection (JSON, or multipart with an ``attachment``)."""

    resource = serializers.SlugField(max_length=64)
    department = serializers.SlugField(
        max_length=32, required=False, help_text="Department code; default: your department"
    )
    scope = serializers.ChoiceField(choices=ObjectionScope.choices)
    record_key = serializers.CharField(max_length=255, required=False, allow_blank=True)
    field_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    batch = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    reason = serializers.CharField(max_length=4000)
    evidence = serializers.CharField(max_length=4000, required=False, allow_blank=True)
    attachment = serializers.FileField(required=False)


class CorrectSerializer(serializers.Serializer):
    """A correction: ``value`` (with ``field_name`` for a whole-record objection) in place,
    or ``batch``, the id of a new batch of the resource."""

    value = serializers.JSONField(required=False, help_text="New value (a JSON scalar)")
    field_name = serializers.CharField(max_length=64, required=False, allow_blank=True)
    batch = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)
    note = serializers.CharField(max_length=4000, required=False, allow_blank=True)

    def validate(self, attrs):
        if ("value" in attrs) == ("batch" in attrs):
            raise serializers.ValidationError({"value": "give exactly one of value, batch"})
        return attrs


class RejectSerializer(serializers.Serializer):
    """A rejection: the reason is required."""

    reason = serializers.CharField(max_length=4000)


class NotificationSerializer(serializers.ModelSerializer):
    """A notification, its message rendered in the caller's language."""

    message = serializers.CharField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "code", "params", "message", "objection", "read", "created_at"]
        read_only_fields = fields
