"""FilterSets of the governance API (on top of what the caller may see)."""

from __future__ import annotations

import django_filters

from governance.models import Notification, Objection, ObjectionScope, ObjectionStatus

BOOLEAN = [("true", "true"), ("false", "false")]


def _boolean(queryset, name: str, value: str):
    return queryset.filter(**{name: value == "true"})


def boolean_filter(help_text: str) -> django_filters.ChoiceFilter:
    """``true`` or ``false`` only (a string enum in the schema): anything else is a 400
    naming the parameter (django-filter's BooleanFilter ignores an unknown value)."""
    return django_filters.ChoiceFilter(choices=BOOLEAN, method=_boolean, help_text=help_text)


class ObjectionFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ObjectionStatus.choices)
    scope = django_filters.ChoiceFilter(choices=ObjectionScope.choices)
    resource = django_filters.CharFilter(
        field_name="resource__code", help_text="Resource code (数据资源)"
    )
    department = django_filters.CharFilter(
        field_name="department__code", help_text="Objecting department code (提出部门)"
    )
    overdue = boolean_filter("Past the answer deadline (true | false)")

    class Meta:
        model = Objection
        fields = ["status", "scope", "resource", "department", "overdue"]


class NotificationFilterSet(django_filters.FilterSet):
    read = boolean_filter("Already read (true | false)")

    class Meta:
        model = Notification
        fields = ["read"]
