"""Headless Chromium opens the 考核 page as 大数据中心 staff: the ranking, a department's
breakdown, the trend chart; then downloads the XLSX report and reads it back.
Screenshot in test-artifacts/assessment-page.png."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from tests.e2e.browser import admin_login, chromium_page, shot
from tests.governance.assessment_world import NOW, PERIOD, build

pytestmark = pytest.mark.browser


def test_assessment_page_and_report(live_server, time_machine, catalog, make_user):
    from openpyxl import load_workbook
    from playwright.sync_api import expect

    from governance.assessment import selectors
    from governance.assessment.periods import parse_period

    real_now = dt.datetime.now(dt.UTC)
    time_machine.move_to(NOW, tick=False)
    users = build(time_machine, catalog, make_user)
    # Back to the real clock: the browser drops session cookies that expired by its clock.
    time_machine.move_to(real_now, tick=True)
    table = selectors.assess(user=users["authority"], period=parse_period(PERIOD))
    scores = {row.code: row.score for row in table.rows}
    assert scores["housing"] == 90.0  # nothing of housing's depends on the clock
    with chromium_page(width=1500, height=1400) as page:
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        admin_login(page, live_server.url, users["authority"].username)
        page.goto(f"{live_server.url}/governance/assessment/?period={PERIOD}")
        expect(page.locator("body")).to_have_attribute("data-loaded", "true")
        assert errors == []  # echarts served from static (npm), the script ran
        first = page.locator("#ranking > tbody > tr[data-department]").first
        expect(first).to_have_attribute("data-department", "housing")
        expect(first.locator("td.score")).to_have_text("90.0")
        water = page.locator('#ranking > tbody > tr[data-department="water"]')
        expect(water.locator("td.score")).to_have_text(str(scores["water"]))
        water.click()
        breakdown = page.locator('tr.breakdown[data-for="water"]')
        expect(breakdown).to_be_visible()
        expect(breakdown.locator('table[data-indicator="freshness"]')).to_contain_text("65.6%")
        trend = page.evaluate(
            """() => { const o = echarts.getInstanceByDom(document.getElementById('trend'))
                 .getOption(); return [o.xAxis[0].data, o.series.length,
                 o.series.find(s => s.name === '上海市水务局').data]; }"""
        )
        periods, series, water_scores = trend
        assert periods == ["2025-10", "2025-11", "2025-12", "2026-01", "2026-02", "2026-03"]
        assert series == len(table.rows)
        assert water_scores[-1] == scores["water"]
        shot(page, "assessment-page")
        with page.expect_download() as info:
            page.click("#export")
        download = info.value
        assert download.suggested_filename == "assessment-2026-03.xlsx"
        book = load_workbook(io.BytesIO(download.path().read_bytes()))
    assert book.sheetnames[0] == "汇总" and book.sheetnames[-1] == "说明"
    lines = {row[1]: row for row in book["汇总"].iter_rows(min_row=4, values_only=True)}
    assert lines["housing"][0] == 1 and lines["housing"][3] == 90.0
    assert lines["water"][3] == scores["water"]
