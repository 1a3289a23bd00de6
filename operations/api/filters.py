"""FilterSets and query parameters of the operations API, validated and documented.

Filters narrow what the selectors (``operations.selectors``) let the caller see; an
invalid value (an unknown level, state or domain) is a 400 naming the parameter.
"""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

from hub.catalog.models import Domain
from operations.models import Alert, AlertState, Level, MonitoringPoint, WorkOrder, WorkOrderState

DISTRICT_HELP = "GB/T 2260 district code (区划代码)"
MAX_READINGS = 2000


# Lists of the ops API come in one fixed order (``operations.selectors``), chosen so that
# it tells nothing of a hidden value; a caller's own order or search, on a field a grant
# may hide (an id, a name, a time, a value), is refused rather than silently ignored.
UNSUPPORTED = ("ordering", "search")


def refuse_ordering_and_search(query_params) -> None:
    """A 400 naming ``ordering`` or ``search`` when the request carries either."""
    given = [name for name in UNSUPPORTED if name in query_params]
    if given:
        message = _("不支持此参数：列表按固定顺序返回，不能按字段排序或搜索。")
        raise ValidationError({name: [message] for name in given})


class FixedOrderFilter(BaseFilterBackend):
    """Refuses ``?ordering=`` and ``?search=`` (``refuse_ordering_and_search``)."""

    def filter_queryset(self, request, queryset, view):
        refuse_ordering_and_search(request.query_params)
        return queryset


class ClearDistrictFilter(django_filters.CharFilter):
    """``?district=``: among the resources whose district field the caller reads in clear."""

    def filter(self, queryset, value):
        from operations.selectors import in_clear_district

        if not value:
            return queryset
        return in_clear_district(queryset, user=self.parent.request.user, district=value)


class PointFilterSet(django_filters.FilterSet):
    domain = django_filters.ChoiceFilter(choices=Domain.choices, help_text="Domain (领域)")
    district = ClearDistrictFilter(field_name="district_code", help_text=DISTRICT_HELP)

    class Meta:
        model = MonitoringPoint
        fields = ["domain", "district"]


class AlertFilterSet(django_filters.FilterSet):
    level = django_filters.TypedChoiceFilter(
        choices=Level.choices, coerce=int, help_text="1 蓝 … 4 红"
    )
    domain = django_filters.ChoiceFilter(choices=Domain.choices, help_text="Domain (领域)")
    district = ClearDistrictFilter(field_name="district_code", help_text=DISTRICT_HELP)
    state = django_filters.ChoiceFilter(choices=AlertState.choices, help_text="open | closed")

    class Meta:
        model = Alert
        fields = ["level", "domain", "district", "state"]


class WorkOrderFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=WorkOrderState.choices)
    department = django_filters.CharFilter(
        field_name="department__code", help_text="Department code (处置部门)"
    )

    class Meta:
        model = WorkOrder
        fields = ["state", "department"]


class ReadingsQuerySerializer(serializers.Serializer):
    """Query parameters of a point's readings (a time series, not a paginated list)."""

    metric = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Metric (指标)"
    )
    limit = serializers.IntegerField(
        required=False,
        default=200,
        min_value=1,
        max_value=MAX_READINGS,
        help_text="The latest this many readings (default 200)",
    )
