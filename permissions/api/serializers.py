"""Serializers of the access request API."""

from __future__ import annotations

from rest_framework import serializers

from permissions.models import AccessRequest


class AccessRequestSerializer(serializers.ModelSerializer):
    """An access request (共享申请) as seen by requester and provider."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    requester = serializers.SlugRelatedField(slug_field="code", read_only=True)
    grant_expires_at = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "resource",
            "requester",
            "purpose",
            "fields",
            "districts",
            "duration_days",
            "status",
            "due_at",
            "overdue",
            "decided_at",
            "refusal_reason",
            "created_at",
            "grant_expires_at",
        ]
        read_only_fields = fields

    def get_grant_expires_at(self, obj: AccessRequest) -> str | None:
        grant = getattr(obj, "grant", None)
        return grant.expires_at.isoformat() if grant else None


class DuplicateRequestSerializer(serializers.Serializer):
    """409 answer to a request the department has already filed and is still pending."""

    detail = serializers.CharField()
    existing = serializers.IntegerField(help_text="Id of the pending request")


class AccessRequestCreateSerializer(serializers.Serializer):
    """Input of a new access request."""

    resource = serializers.SlugField(max_length=64)
    requester = serializers.SlugField(
        max_length=32, required=False, help_text="Department code; default: your department"
    )
    purpose = serializers.CharField(max_length=2000)
    fields = serializers.ListField(child=serializers.SlugField(max_length=64), required=False)
    districts = serializers.ListField(child=serializers.CharField(max_length=12), required=False)
    duration_days = serializers.IntegerField(min_value=1, max_value=1095, default=365)


class ApproveSerializer(serializers.Serializer):
    """Approval input: masked fields the grantee may read in clear; ``fields`` and
    ``districts`` (GB/T 2260 codes) approve in part, within what was asked."""

    clear_fields = serializers.ListField(child=serializers.SlugField(max_length=64), required=False)
    fields = serializers.ListField(
        child=serializers.SlugField(max_length=64), required=False, max_length=500
    )
    districts = serializers.ListField(
        child=serializers.CharField(max_length=12), required=False, max_length=500
    )


class RefuseSerializer(serializers.Serializer):
    """Refusal input: the reason is required."""

    reason = serializers.CharField(max_length=2000)
