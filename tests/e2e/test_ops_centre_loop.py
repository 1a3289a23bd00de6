"""The ops centre acts, in Chromium, on the real pages: the ops centre dispatches an order
to 水务局, 水务局 accepts and resolves it with feedback, the ops centre (another department)
verifies it, and the order's timeline shows the whole loop with Shanghai times. Then the
大屏: clock, ticker, legend, point markers, drill-down, refreshed without a reload.
Screenshots: docs/screenshots/ops-*.png."""

from __future__ import annotations

import io
import re

import pytest

from tests.conftest import ROOT
from tests.e2e.browser import PASSWORD, chromium, new_page

pytestmark = pytest.mark.browser
SHOTS = ROOT / "docs" / "screenshots"


def login(page, base_url: str, username: str, next_url: str) -> None:
    page.goto(f"{base_url}/admin/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 10_000, path


def close_alert(alert_id: int) -> None:
    """Close the alert behind the screen's back. The in-memory SQLite of the live server
    answers "table is locked" (no busy wait) while a poll writes its audit event: retry."""
    from django.db import OperationalError

    from operations.models import Alert

    for attempt in range(50):
        try:
            Alert.objects.filter(pk=alert_id).update(state="closed")
            return
        except OperationalError:
            if attempt == 49:
                raise


def test_dispatch_resolve_verify_and_big_screen(live_server, catalog, make_user, monkeypatch):
    from playwright.sync_api import expect

    # Playwright's sync API runs an event loop in this thread; the test's own ORM reads
    # (checking what the pages did) are synchronous and safe here.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    from operations import demo
    from operations.models import WorkOrder, WorkOrderState

    demo.load(io.StringIO())
    for department in ("cityops", "water"):
        make_user(department, username=f"{department}-user")
    order = WorkOrder.objects.get(alert__resource__code="bridge-structural-health")
    order_url = f"/ops/orders/{order.pk}/"

    expect.set_options(timeout=30_000)
    errors: list[str] = []
    with chromium() as browser:
        ops = new_page(browser, width=1400, height=1000)
        ops.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        ops.on("pageerror", lambda e: errors.append(str(e)))
        login(ops, live_server.url, "cityops-user", "/ops/")
        expect(ops.locator("body")).to_have_attribute("data-loaded", "true")
        assert not errors, errors
        # The ops centre sees the red bridge alert of 住建委 (no grant needed) and its order.
        expect(ops.locator("#alerts")).to_contain_text("桥梁结构异常")
        ops.locator(f"#orders a[href='{order_url}']").click()
        expect(ops.locator("#order-state")).to_have_text("已派单")
        ops.select_option(".move-dispatch select", label="水务局")
        ops.fill(".move-dispatch input[name=feedback]", "请水务局排查南浦大桥附近供水管线")
        ops.click(".move-dispatch button")
        expect(ops.locator(".messages .success")).to_contain_text("派单 完成")
        expect(ops.locator("#order-department")).to_have_text("水务局")
        shot(ops, "ops-1-dispatched")

        water = new_page(browser, width=1400, height=1000)
        login(water, live_server.url, "water-user", order_url)
        expect(water.locator("#order-state")).to_have_text("已派单")
        expect(water.locator(".move-dispatch")).to_have_count(0)  # only the ops centre dispatches
        water.click(".move-accept button")
        expect(water.locator("#order-state")).to_have_text("已签收")
        water.click(".move-start button")
        expect(water.locator("#order-state")).to_have_text("处置中")
        water.fill(".move-resolve textarea", "已关闭阀门并完成抢修，压力恢复正常")
        water.click(".move-resolve button")
        expect(water.locator("#order-state")).to_have_text("已办结")
        # Separation of duties: the resolving department is offered no check.
        expect(water.locator(".move-verify")).to_have_count(0)
        shot(water, "ops-2-resolved")
        water.close()

        ops.goto(f"{live_server.url}{order_url}")
        ops.click(".move-verify button")
        expect(ops.locator("#order-state")).to_have_text("已核查")
        timeline = ops.locator("#timeline")
        for text in ("监测", "研判", "预警", "处置", "派单 → 水务局", "已签收", "已办结", "已核查"):
            expect(timeline).to_contain_text(text)
        expect(timeline).to_contain_text("已关闭阀门并完成抢修，压力恢复正常")
        expect(timeline).to_contain_text("water-user")
        expect(timeline).to_contain_text("cityops-user")
        order.refresh_from_db()
        assert order.state == WorkOrderState.VERIFIED
        from django.utils import timezone

        verified = timezone.localtime(order.verified_at).strftime("%Y-%m-%d %H:%M")
        expect(timeline).to_contain_text(verified)  # Shanghai time, rendered by the server
        shot(ops, "ops-3-timeline")
        ops.close()

        # The same order in English: states, steps and levels translated, same Shanghai times.
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        english = context.new_page()
        login(english, live_server.url, "cityops-user", order_url)
        expect(english.locator("#order-state")).to_have_text("Verified")
        for text in ("Monitoring", "Analysis", "Alert", "Response", "Dispatch → ", "Resolved"):
            expect(english.locator("#timeline")).to_contain_text(text)
        expect(english.locator("#timeline")).to_contain_text(verified)
        shot(english, "ops-6-timeline-en")
        context.close()

        # The 大屏 at 16:9.
        screen = new_page(browser, width=1600, height=900)
        login(screen, live_server.url, "cityops-user", "/ops/screen/")
        expect(screen.locator("body")).to_have_attribute("data-loaded", "true")
        expect(screen.locator("#ticker")).to_contain_text("桥梁结构异常")
        expect(screen.locator("#legend")).to_contain_text("红色（I级）")
        clock = screen.locator("#clock").inner_text()
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", clock)
        now = timezone.localtime()
        assert clock[:10] == f"{now:%Y-%m-%d}"
        box = screen.locator("#screen").bounding_box()
        assert abs(box["width"] / box["height"] - 16 / 9) < 0.02
        markers = screen.evaluate(
            """() => {
              const map = echarts.getInstanceByDom(document.getElementById('map'));
              const scatter = map.getOption().series.find(s => s.type === 'effectScatter');
              return scatter.data.map(d => d.value[2]);
            }"""
        )
        assert len(markers) >= 10 and 4 in markers
        shot(screen, "ops-4-screen")
        # Drill down: click 黄浦区 on the map (its label position), then back to the city.
        screen.evaluate("() => OPS.drill('310101')")
        expect(screen.locator("#map-title")).to_have_text("黄浦区")
        expect(screen.locator("body")).to_have_attribute("data-district", "310101")
        count = int(screen.locator("#points-count").inner_text())
        assert 0 < count < len(markers)
        shot(screen, "ops-5-screen-district")
        screen.click("#map-back")
        expect(screen.locator("#map-title")).to_have_text("全市")
        # Refreshed without a reload: the alert closes on the server, the next poll shows it.
        screen.goto(f"{live_server.url}/ops/screen/?refresh=2")
        expect(screen.locator("#ticker")).to_contain_text("桥梁结构异常")
        screen.evaluate("() => { window.notReloaded = true; }")

        close_alert(order.alert_id)
        expect(screen.locator("#ticker")).not_to_contain_text("桥梁结构异常")
        assert screen.evaluate("() => window.notReloaded === true")
