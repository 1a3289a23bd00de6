"""FilterSets of the governance API (on top of what the caller may see)."""

from __future__ import annotations

import django_filters
from django import forms
from django_filters.fields import ChoiceField

from governance.models import Notification, Objection, ObjectionScope, ObjectionStatus

BOOLEAN = [("true", "true"), ("false", "false")]


def _boolean(queryset, name: str, value: str):
    return queryset.filter(**{name: value == "true"})


class GivenChoiceField(ChoiceField):
    """A choice that, when the parameter is given, must be one of the choices: ``?x=`` is
    a 400 like any other value outside the enum (django-filter skips empty values)."""

    def clean(self, value):
        if value == "":
            raise forms.ValidationError(
                self.error_messages["invalid_choice"],
                code="invalid_choice",
                params={"value": value},
            )
        return super().clean(value)


class StrictChoiceFilter(django_filters.ChoiceFilter):
    field_class = GivenChoiceField


def boolean_filter(help_text: str) -> django_filters.ChoiceFilter:
    """``true`` or ``false`` only (a string enum in the schema): anything else, empty
    included, is a 400 naming the parameter (django-filter's BooleanFilter ignores an
    unknown value)."""
    return StrictChoiceFilter(choices=BOOLEAN, method=_boolean, help_text=help_text)


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
