"""Headless Chromium opens /ops/: logs in, sees the district map and an alert, screenshots."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from tests.conftest import CHROMIUM, ROOT

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def test_dashboard_shows_map_and_alerts(live_server, catalog, make_user):
    from playwright.sync_api import expect, sync_playwright

    from operations import demo

    demo.load(io.StringIO())
    make_user("cityops", username="ops-viewer")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = Path(ARTIFACTS / "ops-dashboard.png")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300}, locale="zh-CN")
            page.goto(f"{live_server.url}/ops/")
            # Not logged in: the admin login page, which returns to /ops/.
            page.fill("#id_username", "ops-viewer")
            page.fill("#id_password", "pw-for-tests")
            page.click("input[type=submit]")
            expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)

            expect(page.locator("#map canvas")).to_have_count(1)
            districts = page.evaluate(
                """() => {
                  const map = echarts.getInstanceByDom(document.getElementById('map'));
                  const option = map.getOption();
                  return option.series[0].data.map(d => [d.name, d.value]);
                }"""
            )
            assert len(districts) == 16
            levels = dict(districts)
            assert levels["浦东新区"] == 4 and levels["崇明区"] == 0
            assert page.evaluate("() => !!echarts.getMap('shanghai')")

            rows = page.locator("#alerts tbody tr.alert-row")
            expect(rows.first).to_be_visible()
            expect(page.locator("#alerts")).to_contain_text("燃气管网超压")
            expect(page.locator("#alerts")).to_contain_text("城市内涝")
            expect(page.locator("#orders")).to_contain_text("GD")
            # The first alert with a point shows its time series.
            expect(page.locator("#series[data-point] canvas")).to_have_count(1)
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert shot.stat().st_size > 10_000
