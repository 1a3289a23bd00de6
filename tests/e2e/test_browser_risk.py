"""Headless Chromium opens /risk/: the district map coloured by index, a district's
breakdown and trend; screenshot in test-artifacts/risk-page.png."""

from __future__ import annotations

import io

import pytest

from tests.e2e.browser import chromium_page, shot

pytestmark = pytest.mark.browser


def test_risk_page_map_breakdown_and_trend(live_server, catalog, make_user):
    from playwright.sync_api import expect

    from operations import demo as ops_demo
    from risk import demo as risk_demo

    ops_demo.load(io.StringIO())
    risk_demo.load(io.StringIO())
    make_user("water", username="risk-viewer")
    with chromium_page(width=1500, height=1300) as page:
        page.goto(f"{live_server.url}/risk/")
        page.fill("#id_username", "risk-viewer")
        page.fill("#id_password", "pw-for-tests")
        page.click("input[type=submit]")
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
        districts = page.evaluate(
            """() => echarts.getInstanceByDom(document.getElementById('map'))
                 .getOption().series[0].data.map(d => [d.name, d.value, d.itemStyle.areaColor])"""
        )
        assert len(districts) == 16
        colours = {name: colour for name, _value, colour in districts}
        assert all(colour.startswith("#") for colour in colours.values())
        # The first row (highest index) has its trend drawn; clicking opens its breakdown.
        first = page.locator("#scores > tbody > tr[data-district]").first
        code = first.get_attribute("data-district")
        expect(page.locator("body")).to_have_attribute("data-trend", code)
        first.click()
        breakdown = page.locator(f'tr.breakdown[data-for="{code}"]')
        expect(breakdown).to_be_visible()
        expect(breakdown).to_contain_text("应急避难场所可容纳人数")
        expect(page.locator("#legend")).to_contain_text("很高")
        shot(page, "risk-page")
