"""Serializers of the data-needs API (``/api/v1/needs/``)."""

from __future__ import annotations

from rest_framework import serializers

from governance.needs.models import DataNeed, NeedAnswer
from hub.catalog.models import UpdateCycle


class StringOnly:
    """Refuse a JSON number or boolean where text is documented (DRF's CharField would
    turn ``0`` into ``"0"``, accepting input the schema says is invalid)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Text(StringOnly, serializers.CharField):
    default_error_messages = {"invalid": "Not a valid string."}


class Code(StringOnly, serializers.SlugField):
    pass


def term() -> Text:
    return Text(max_length=100)


class NeedSerializer(serializers.ModelSerializer):
    """A data need as its filer, its provider and the authority see it."""

    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    provider = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    resource = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    answer = serializers.ChoiceField(choices=NeedAnswer.choices, allow_blank=True, read_only=True)
    fields = serializers.ListField(child=serializers.CharField(), read_only=True)
    keywords = serializers.ListField(child=serializers.CharField(), read_only=True)
    districts = serializers.ListField(child=serializers.CharField(), read_only=True)
    candidates = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = DataNeed
        fields = [
            "id",
            "title",
            "description",
            "purpose",
            "legal_basis",
            "fields",
            "keywords",
            "districts",
            "update_cycle",
            "department",
            "status",
            "provider",
            "candidates",
            "routed_at",
            "route_note",
            "due_at",
            "overdue",
            "answer",
            "answer_note",
            "answered_at",
            "resource",
            "access_request",
            "commit_date",
            "closed_at",
            "close_note",
            "created_at",
        ]
        read_only_fields = fields


class NeedCreateSerializer(serializers.Serializer):
    """A new need: what, why, on what basis, which fields and districts, how fresh."""

    department = Code(
        max_length=32, required=False, help_text="Department code; default: your department"
    )
    title = Text(max_length=200)
    description = Text(max_length=4000)
    purpose = Text(max_length=4000)
    legal_basis = Text(max_length=4000)
    update_cycle = serializers.ChoiceField(choices=UpdateCycle.choices)
    fields = serializers.ListField(child=term(), max_length=50, required=False)
    keywords = serializers.ListField(child=term(), max_length=50, required=False)
    districts = serializers.ListField(
        child=Text(max_length=12),
        max_length=50,
        required=False,
        help_text="GB/T 2260 district codes; empty: the whole city",
    )


class NeedRouteSerializer(serializers.Serializer):
    provider = Code(max_length=32, help_text="Provider department code")
    candidates = serializers.ListField(
        child=Code(max_length=64),
        max_length=50,
        required=False,
        help_text="Codes of the provider's resources suggested to it",
    )
    note = Text(max_length=4000, required=False, allow_blank=True)


class NeedLinkSerializer(serializers.Serializer):
    resource = Code(max_length=64, help_text="Code of the provider's resource")
    fields = serializers.ListField(
        child=Code(max_length=64),
        max_length=200,
        required=False,
        help_text="Field names for the access request; default: those the need names",
    )
    note = Text(max_length=4000, required=False, allow_blank=True)


class NeedCommitSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="Publication date committed to (today or later)")
    note = Text(max_length=4000, required=False, allow_blank=True)


class NeedRefuseSerializer(serializers.Serializer):
    basis = Text(max_length=4000, help_text="Legal or factual basis")


class NeedCloseSerializer(serializers.Serializer):
    note = Text(max_length=4000, required=False, allow_blank=True)


class SuggestedResourceSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.IntegerField()
    terms = serializers.ListField(child=serializers.CharField())


class SuggestionSerializer(serializers.Serializer):
    """A likely provider and its matching resources (catalog search)."""

    provider = serializers.CharField(help_text="Department code")
    provider_name = serializers.CharField()
    score = serializers.IntegerField()
    resources = SuggestedResourceSerializer(many=True)
