"""Query parameters of the risk API, validated (a bad value is a 400 naming it)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.fields import empty

from risk.models import Hazard
from risk.selectors import MAX_HISTORY

DISTRICT_HELP = "GB/T 2260 district code (区划代码)"


class BlankRefused:
    """A query parameter given blank (``?hazard=``) is validated as the blank value it is
    (a 400 naming it), not taken as absent: DRF's form-input rule for optional fields."""

    field_name: str

    def get_value(self, dictionary):
        return dictionary.get(self.field_name, empty)


class QueryChoiceField(BlankRefused, serializers.ChoiceField):
    pass


class QueryRegexField(BlankRefused, serializers.RegexField):
    pass


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
