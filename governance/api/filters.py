"""FilterSets of the governance API (on top of what the caller may see)."""

from __future__ import annotations

import django_filters

from governance.models import Notification, Objection, ObjectionScope, ObjectionStatus


class ObjectionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ObjectionStatus.choices)
    scope = django_filters.ChoiceFilter(choices=ObjectionScope.choices)
    resource = django_filters.CharFilter(
        field_name="resource__code", help_text="Resource code (数据资源)"
    )
    department = django_filters.CharFilter(
        field_name="department__code", help_text="Objecting department code (提出部门)"
    )
    overdue = django_filters.BooleanFilter()

    class Meta:
        model = Objection
        fields = ["status", "scope", "resource", "department", "overdue"]


class NotificationFilterSet(django_filters.FilterSet):
    read = django_filters.BooleanFilter()

    class Meta:
        model = Notification
        fields = ["read"]
