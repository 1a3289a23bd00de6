"""/risk/ names its indicators (not their codes) in the viewer's language, joined with
that language's list separator."""

from __future__ import annotations

import io
import re

import pytest

from tests.hub.test_english_ui import english_catalog

__all__ = ["english_catalog"]  # the fixture, re-used

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_of(catalog, make_user, client):
    from operations import demo as ops_demo
    from risk import demo as risk_demo

    ops_demo.load(io.StringIO())
    risk_demo.load(io.StringIO())
    client.force_login(make_user("cityops", username="risk-viewer"))

    def page(language: str) -> str:
        response = client.get("/risk/", HTTP_ACCEPT_LANGUAGE=language)
        assert response.status_code == 200
        return response.content.decode()

    return page


def unavailable(html: str) -> str:
    (note,) = re.findall(r'<p class="stale-note">[^<]*(?:：|: )([^<]*)</p>', html)[-1:]
    return note


def test_unavailable_indicators_are_named_in_chinese(page_of):
    from risk.models import RiskSnapshot

    codes = RiskSnapshot.objects.latest("computed_at").unavailable_indicators
    assert "bridge-deflection-max" in codes and "hospital-beds" in codes
    note = unavailable(page_of("zh-hans"))
    assert "桥梁24小时最大挠度" in note.split("、") and "医疗机构开放床位" in note.split("、")
    assert "bridge-deflection-max" not in note


def test_unavailable_indicators_are_named_in_english(page_of):
    html = page_of("en")
    note = unavailable(html)
    names = note.split(", ")
    assert "Bridge 24-hour peak deflection" in names and "Open hospital beds" in names
    assert "、" not in note and "hospital-beds" not in note
    # The breakdown's names too.
    assert "<td>Open gas alerts</td>" in html and "<td>燃气在办预警</td>" not in html
