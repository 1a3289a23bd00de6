"""Serializers of the catalog API."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from hub.catalog.models import DataResource, Department, FieldSpec


class DepartmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Department
        fields = ["code", "name", "short_name", "description"]


class FieldSpecSerializer(serializers.ModelSerializer):
    code_list = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)

    class Meta:
        model = FieldSpec
        fields = [
            "name",
            "label",
            "description",
            "field_type",
            "unit",
            "required",
            "min_value",
            "max_value",
            "max_length",
            "pattern",
            "enum",
            "code_list",
            "grade",
            "masking",
        ]


class DataResourceSerializer(serializers.ModelSerializer):
    provider = DepartmentSerializer(read_only=True)

    class Meta:
        model = DataResource
        fields = [
            "code",
            "name",
            "summary",
            "provider",
            "domain",
            "keywords",
            "format",
            "update_cycle",
            "sharing_type",
            "sharing_conditions",
            "legal_basis",
            "open_type",
            "published_at",
            "status",
            "key_fields",
            "time_field",
            "district_field",
            "latitude_field",
            "longitude_field",
            "grade",
            "last_loaded_at",
        ]


class DataResourceDetailSerializer(DataResourceSerializer):
    """A resource with its schema; the view passes only the fields the caller may see."""

    field_specs = serializers.SerializerMethodField()

    class Meta(DataResourceSerializer.Meta):
        fields = [*DataResourceSerializer.Meta.fields, "field_specs"]

    @extend_schema_field(FieldSpecSerializer(many=True))
    def get_field_specs(self, resource: DataResource) -> list[dict]:
        return FieldSpecSerializer(self.context["visible_fields"], many=True).data
