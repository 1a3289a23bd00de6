"""The people-facing pages in English carry no Chinese outside data values.

Each journey's pages (explorer, access requests and the provider's queue, the work-order
page, needs, risk) are fetched in English for the demo city, as the ops centre and as a
provider. Chinese on the page is allowed only where it is data the hub stores (resource
and department names, districts, rule names, keywords): every CJK run left after removing
scripts and tags must occur in some stored value. Template punctuation (full-width
brackets, the enumeration comma) and untranslated strings fail.
"""

from __future__ import annotations

import io
import json
import re

import pytest
from django.apps import apps
from django.db import models

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+")
# Runs of punctuation only (、；（）) sit between non-Chinese text: template text, never data.
PUNCTUATION = re.compile(r"[\u3000-\u303f\uff00-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65]+")
HIDDEN = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S)


@pytest.fixture
def demo_city(catalog, tmp_path, monkeypatch):
    from operations import demo as ops_demo
    from permissions import demo as access_demo

    monkeypatch.setattr("hub.demo.LOGINS_FILE", tmp_path / "logins.json")
    out = io.StringIO()
    from hub.demo import load_users

    load_users()
    access_demo.load(out)
    ops_demo.load(out)


def stored_text() -> str:
    """Every stored text value, one per line: what a page may show in Chinese as data."""
    parts = []
    for model in apps.get_models():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))
        ]
        if not names:
            continue
        for row in model._base_manager.values_list(*names):
            for value in row:
                if isinstance(value, (dict, list)):
                    parts.extend(re.findall(r'"([^"]*)"', json.dumps(value, ensure_ascii=False)))
                elif value:
                    parts.append(str(value))
    return "\n".join(parts)


def chinese_outside_data(html: str, data: str) -> set[str]:
    runs = CJK.findall(HIDDEN.sub(" ", html))
    return {run for run in runs if PUNCTUATION.fullmatch(run) or run not in data}


def pages_for(user) -> list[str]:
    from operations.models import WorkOrder

    if user.is_superuser:
        return ["/governance/assessment/", "/admin/permissions/partnerapikey/"]
    orders = WorkOrder.objects.restrict(user, "view").order_by("pk")
    return [
        "/explorer/",
        "/explorer/gas-pipeline-pressure/",
        "/explorer/road-ponding/",
        "/access/",
        "/access/queue/",
        "/access/request/road-ponding/",
        "/governance/needs/",
        "/risk/",
        "/ops/",
        *[f"/ops/orders/{order.pk}/" for order in orders],
    ]


@pytest.mark.parametrize("username", ["cityops-staff", "housing-staff", "admin"])
def test_english_pages_show_chinese_only_in_data(demo_city, client, username):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    data = stored_text()
    found = {}
    for url in pages_for(user):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="en"' in html, url
        extra = chinese_outside_data(html, data)
        if extra:
            found[url] = sorted(extra)
    assert found == {}


def test_english_need_routing_page_shows_chinese_only_in_data(demo_city, client):
    """The ops centre routes a need: its suggestions read "resource (code): terms"."""
    from django.contrib.auth import get_user_model

    from hub.catalog.models import Department

    users = get_user_model().objects
    client.force_login(users.get(username="cityops-staff"))
    created = client.post(
        "/governance/needs/new/",
        {
            "department": Department.objects.get(code="cityops").pk,
            "title": "Bridge deflection",
            "description": "Deflection readings of the bridges",
            "purpose": "Bridge safety",
            "fields": "挠度",
            "keywords": "桥梁",
            "update_cycle": "daily",
            "legal_basis": "三定职责",
        },
    )
    assert created.status_code == 302
    client.get(created["Location"])  # shows (and so consumes) the filer's flash message
    client.force_login(users.get(username="admin"))
    response = client.get(created["Location"], HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert 'id="need-suggestions"' in html
    assert chinese_outside_data(html, stored_text()) == set()
