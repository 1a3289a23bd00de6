"""The indicator admin: operators edit through the audited service; others read only."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from risk.models import RiskIndicator

pytestmark = pytest.mark.django_db


def with_risk_permissions(user):
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="risk"))
    return user


def form_data(indicator: RiskIndicator, **changes) -> dict:
    data = {
        "code": indicator.code,
        "name": indicator.name,
        "description": indicator.description,
        "dimension": indicator.dimension,
        "hazard": indicator.hazard,
        "source_kind": indicator.source_kind,
        "resource": indicator.resource_id or "",
        "field": indicator.field,
        "aggregation": indicator.aggregation,
        "match_values": json.dumps(indicator.match_values),
        "window_hours": indicator.window_hours or "",
        "direction": indicator.direction,
        "weight": indicator.weight,
        "lower_bound": "" if indicator.lower_bound is None else indicator.lower_bound,
        "upper_bound": "" if indicator.upper_bound is None else indicator.upper_bound,
    }
    if indicator.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return data


def test_operator_edits_an_indicator_audited(worked, make_user, client):
    from permissions.models import AuditEvent

    operator = with_risk_permissions(make_user("cityops"))
    client.force_login(operator)
    rain = RiskIndicator.objects.get(code="rain")
    url = reverse("admin:risk_riskindicator_change", args=[rain.pk])
    response = client.post(url, form_data(rain, weight="2.5"))
    assert response.status_code == 302, response.content[:2000]
    rain.refresh_from_db()
    assert rain.weight == 2.5
    event = AuditEvent.objects.filter(action="risk_indicator").latest("sequence")
    assert event.actor == operator.username and event.detail["changes"] == {"weight": [1.0, 2.5]}
    # A bad value is a form error, nothing written.
    response = client.post(url, form_data(rain, weight="-1"))
    assert response.status_code == 200
    rain.refresh_from_db()
    assert rain.weight == 2.5


def test_other_departments_read_but_do_not_edit(worked, make_user, client):
    staff = with_risk_permissions(make_user("water"))
    client.force_login(staff)
    rain = RiskIndicator.objects.get(code="rain")
    assert client.get(reverse("admin:risk_riskindicator_changelist")).status_code == 200
    url = reverse("admin:risk_riskindicator_change", args=[rain.pk])
    assert client.post(url, form_data(rain, weight="9")).status_code == 403
    rain.refresh_from_db()
    assert rain.weight == 1.0
    assert client.get(reverse("admin:risk_riskindicator_add")).status_code == 403


def test_recompute_action(worked, make_user, client):
    from risk.models import RiskSnapshot

    client.force_login(with_risk_permissions(make_user("cityops")))
    rain = RiskIndicator.objects.get(code="rain")
    response = client.post(
        reverse("admin:risk_riskindicator_changelist"),
        {"action": "recompute", "_selected_action": [rain.pk]},
    )
    assert response.status_code == 302
    assert RiskSnapshot.objects.filter(trigger="manual").count() == 1
