"""One door per model for the risk app: every model has a policy, and its pages, API and
admin query the risk models and the catalog only through ``restrict``."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.urls import reverse

from hub.catalog import restricted
from hub.catalog.admin_base import RestrictedAdminMixin, RestrictedInline
from risk.services import compute_snapshot
from tests.permissions.test_one_door import walk, watch  # noqa: F401 - the fixture
from tests.risk.conftest import A

pytestmark = pytest.mark.django_db


def risk_tables() -> dict[str, str]:
    return {
        model._meta.db_table: model._meta.label_lower
        for model in apps.get_models()
        if model._meta.app_label in ("risk", "catalog", "records", "operations")
    }


def test_every_risk_model_has_a_door_and_restricted_admin():
    labels = [m._meta.label_lower for m in apps.get_app_config("risk").get_models()]
    assert set(labels) <= set(restricted.restricted_models())
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label == "risk":
            assert isinstance(model_admin, RestrictedAdminMixin)
            assert all(issubclass(inline, RestrictedInline) for inline in model_admin.inlines)


@pytest.mark.parametrize("caller", ["water", "cityops", "superuser"])
def test_risk_urls_go_through_the_door(worked, make_user, client, watch, caller):  # noqa: F811
    snapshot = compute_snapshot(trigger="test", now=worked.now).snapshot
    watch.tables.update(risk_tables())
    user = make_user(superuser=True) if caller == "superuser" else make_user(caller)
    user.is_staff = True
    user.save()
    client.force_login(user)
    urls = [
        "/risk/",
        "/risk/?hazard=waterlogging",
        "/api/v1/risk/districts/",
        f"/api/v1/risk/districts/?district={A}",
        f"/api/v1/risk/districts/{A}/history/",
        "/api/v1/risk/map/",
        reverse("admin:risk_riskindicator_changelist"),
        reverse("admin:risk_risksnapshot_changelist"),
        reverse("admin:risk_risksnapshot_change", args=[snapshot.pk]),
    ]
    failures = walk(client, watch, urls)
    assert not failures, "\n".join(failures)
