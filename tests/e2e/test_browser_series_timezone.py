"""The time-series charts of /ops/ and /risk/ and the 更新于 stamp show Asia/Shanghai
times whatever the viewer's PC clock (docs/OPERATIONS.md): a browser in New York."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest

from tests.e2e.browser import PASSWORD, chromium

pytestmark = pytest.mark.browser

# An axis tooltip's first line for the first point, and the axis labels, as shown.
SHOWN = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  chart.dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
  const axis = chart.getModel().getComponent('xAxis', 0).axis;
  return {
    first: chart.getOption().series[0].data[0][0],
    labels: axis.getViewLabels().map(l => l.formattedLabel),
  };
}"""


def new_york_page(browser, url: str, username: str):
    context = browser.new_context(
        viewport={"width": 1500, "height": 1300}, locale="zh-CN", timezone_id="America/New_York"
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    page.goto(url)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    return page


def first_reading(page, url: str) -> str:
    """The first point's ISO time as the server sent it to the chart."""
    return page.evaluate(
        "(url) => fetch(url, {headers: {Accept: 'application/json'}}).then(r => r.json())", url
    )


def test_series_and_stamp_follow_shanghai_in_new_york(live_server, catalog, make_user):
    from django.utils import timezone
    from playwright.sync_api import expect

    from operations import demo as ops_demo
    from risk import demo as risk_demo

    ops_demo.load(io.StringIO())
    risk_demo.load(io.StringIO())
    make_user("cityops", username="tz-viewer")
    with chromium() as browser:
        page = new_york_page(browser, f"{live_server.url}/ops/", "tz-viewer")
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
        assert page.evaluate("() => new Date(0).getTimezoneOffset()") == 300  # New York
        summary = first_reading(page, "/api/v1/ops/summary/")
        assert summary["generated_at"].endswith("+08:00")
        # The stamp shown is the page's earlier read: within a minute of this one, in Shanghai.
        stamp = re.search(r"(\d\d):(\d\d):(\d\d)", page.locator("#updated").inner_text())
        shown_s = int(stamp[1]) * 3600 + int(stamp[2]) * 60 + int(stamp[3])
        hours, minutes, seconds = (int(x) for x in summary["generated_at"][11:19].split(":"))
        assert (hours * 3600 + minutes * 60 + seconds - shown_s) % 86400 < 60

        expect(page.locator("#series[data-point] canvas")).to_have_count(1)
        point = page.locator("#series").get_attribute("data-point")
        rows = first_reading(page, f"/api/v1/ops/points/{point}/readings/?limit=300")
        sent = rows[0]["observed_at"]
        assert sent.endswith("+08:00")
        shown = page.evaluate(SHOWN, "series")
        # The tooltip names the reading's Shanghai time, not New York's 13 hours earlier.
        expect(page.locator("#series")).to_contain_text(sent[:19].replace("T", " "))
        # Hours as HH:MM; a Shanghai midnight inside the series is labelled with its day of
        # the month (ECharts' rich "primary" label), which must be a Shanghai date too.
        days = {str(int(row["observed_at"][8:10])) for row in rows}
        hours = [x for x in shown["labels"] if re.fullmatch(r"\d\d:\d\d", x)]
        midnights = [re.fullmatch(r"\{primary\|(\d{1,2})\}", x) for x in shown["labels"]]
        assert hours and len(hours) + sum(1 for m in midnights if m) == len(shown["labels"])
        assert all(m[1] in days for m in midnights if m)
        first = shown["labels"][0]
        assert first == (sent[11:16] if not midnights[0] else f"{{primary|{int(sent[8:10])}}}")

        page = new_york_page(browser, f"{live_server.url}/risk/", "tz-viewer")
        expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
        code = page.locator("#scores > tbody > tr[data-district]").first.get_attribute(
            "data-district"
        )
        expect(page.locator("body")).to_have_attribute("data-trend", code)
        history = page.evaluate(
            "() => window.RISK.history.replace('000000', document.body.dataset.trend)"
            " + '?hazard=' + window.RISK.hazard"
        )
        sent = first_reading(page, history)["results"][0]["computed_at"]
        local = timezone.localtime(dt.datetime.fromisoformat(sent))
        page.evaluate(SHOWN, "trend")
        expect(page.locator("#trend")).to_contain_text(f"{local:%Y-%m-%d %H:%M}")
