"""FilterSets of the catalog API: validated query parameters, documented in the schema.

An invalid value (a domain that does not exist, …) is a 400 naming the parameter, not an
empty list; filters apply on top of what the caller may see (``hub.catalog.selectors``).
"""

from __future__ import annotations

import django_filters
from django.db.models import Q, QuerySet

from hub.catalog.models import DataResource, Domain, SharingType


class ResourceFilterSet(django_filters.FilterSet):
    provider = django_filters.CharFilter(
        field_name="provider__code", help_text="Provider department code (提供方)"
    )
    domain = django_filters.ChoiceFilter(choices=Domain.choices, help_text="Domain (领域)")
    sharing_type = django_filters.ChoiceFilter(choices=SharingType.choices, help_text="共享类型")
    search = django_filters.CharFilter(
        method="search_text", help_text="Search in code, name and summary"
    )

    class Meta:
        model = DataResource
        fields = ["provider", "domain", "sharing_type", "search"]

    def search_text(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            Q(name__icontains=value) | Q(summary__icontains=value) | Q(code__icontains=value)
        )
