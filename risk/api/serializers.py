"""Query parameters of the risk API, validated (a bad value is a 400 naming it)."""

from __future__ import annotations

from rest_framework import serializers

from hub.api.query_fields import QueryChoiceField, QueryRegexField
from risk.models import Hazard
from risk.selectors import MAX_HISTORY

DISTRICT_HELP = "GB/T 2260 district code (区划代码)"


class DistrictsQuerySerializer(serializers.Serializer):
    hazard = QueryChoiceField(
        choices=Hazard.choices, required=False, help_text="Hazard (灾种); default every hazard"
    )
    district = QueryRegexField(r"^[0-9]{6,12}$", required=False, help_text=DISTRICT_HELP)


class HistoryQuerySerializer(serializers.Serializer):
    hazard = QueryChoiceField(
        choices=Hazard.choices, required=False, default=Hazard.ALL, help_text="Hazard (灾种)"
    )
    limit = serializers.IntegerField(
        required=False,
        default=100,
        min_value=1,
        max_value=MAX_HISTORY,
        help_text="Snapshots, newest kept",
    )


class MapQuerySerializer(serializers.Serializer):
    hazard = QueryChoiceField(
        choices=Hazard.choices, required=False, default=Hazard.ALL, help_text="Hazard (灾种)"
    )
