"""FilterSet of the access-request list: validated parameters, documented in the schema."""

from __future__ import annotations

import django_filters

from permissions.models import AccessRequest, RequestStatus


class AccessRequestFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=RequestStatus.choices, help_text="审批状态")
    resource = django_filters.CharFilter(field_name="resource__code", help_text="Resource code")
    requester = django_filters.CharFilter(
        field_name="requester__code", help_text="Requesting department code (申请部门)"
    )

    class Meta:
        model = AccessRequest
        fields = ["status", "resource", "requester"]
