"""Access in two clicks, in a real browser (issue 14 item 2), and the English switch.

城运中心 staff open 住建委's gas-leak alarms, click 申请共享, tick four fields and two
districts (names shown, codes stored) and submit; 住建委 staff open their queue and approve
in part (one district, no phone numbers); the requester's list shows what was approved and
a link to the data, and the records API then answers exactly the approved fields and
districts. Then the language switcher turns the admin and /ops/ into English and back.
Screenshots of each step go to docs/screenshots/access-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.browser import admin_login, chromium, new_page

pytestmark = pytest.mark.browser

RESOURCE = "gas-leak-alarms"
SCREENSHOTS = ROOT / "docs" / "screenshots"
ALARMS = [
    {
        "alarm_id": f"GA{index:03d}",
        "occurred_at": f"2025-07-01 {9 + index}:00:00",
        "district": district,
        "address": "某路1号",
        "concentration": 10 + index,
        "user_name": "张伟",
        "phone": "13812345678",
    }
    for index, district in enumerate(["徐汇区", "徐汇区", "浦东新区", "黄浦区"])
]
ASKED_FIELDS = ["alarm_id", "occurred_at", "district", "phone"]


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} looks empty"
    return path


@pytest.fixture
def alarms(catalog):
    from connectors import services
    from connectors.pipeline.load import run_batch
    from hub.records.models import BatchStatus

    batch = services.ingest_records(
        resource=catalog["resources"][RESOURCE],
        department=catalog["departments"]["housing"],
        records=ALARMS,
    ).batch
    batch.refresh_from_db()
    if batch.status == BatchStatus.RECEIVED:
        batch = run_batch(batch_id=batch.pk)
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, len(ALARMS)), batch.errors
    return batch


def test_request_with_pickers_partial_approval_then_exact_reads(
    live_server, catalog, alarms, make_user
):
    from playwright.sync_api import expect

    from permissions.models import AccessGrant, AccessRequest, RequestStatus

    make_user("cityops", username="cityops-staff")
    make_user("housing", username="housing-staff")
    resource = catalog["resources"][RESOURCE]
    records_url = f"{live_server.url}/api/v1/resources/{RESOURCE}/records/"

    with chromium() as browser:
        requester = new_page(browser)
        admin_login(requester, live_server.url, "cityops-staff")
        assert requester.request.get(records_url).status == 404

        # Click 1: 申请共享 on the resource page.
        requester.goto(f"{live_server.url}/admin/catalog/dataresource/{resource.pk}/change/")
        requester.click("a.request-access")
        expect(requester).to_have_url(f"{live_server.url}/access/request/{RESOURCE}/")
        form = requester.locator("#access-request-form")
        expect(form).to_contain_text("联系电话 (phone)")
        expect(form).to_contain_text("浦东新区")
        for name in ASKED_FIELDS:
            form.locator(f"input[name=fields][value={name}]").check()
        # The district picker shows names; the values are GB/T 2260 codes.
        form.get_by_label("徐汇区").check()
        form.get_by_label("浦东新区").check()
        requester.fill("#id_purpose", "燃气泄漏事故联动处置")
        requester.select_option("#id_duration_days", "90")
        shot(requester, "access-01-request-pickers")
        # Click 2: submit.
        requester.click("#access-request-form input[type=submit]")
        expect(requester).to_have_url(f"{live_server.url}/access/")
        row = requester.locator("#my-requests tbody tr").first
        expect(row).to_contain_text("待审批")
        expect(row).to_contain_text("徐汇区、浦东新区")
        shot(requester, "access-02-my-requests-pending")

        # 住建委 approves in part: 徐汇区 only, without phone numbers.
        provider = new_page(browser)
        admin_login(provider, live_server.url, "housing-staff")
        provider.goto(f"{live_server.url}/access/queue/")
        pending = provider.locator("#pending-requests tbody tr", has_text="城市运行管理中心")
        expect(pending).to_contain_text("待审批")
        shot(provider, "access-03-provider-queue")
        pending.locator("a.decide-link").click()
        decision = provider.locator("#decision-form")
        decision.locator("input[name=fields][value=phone]").uncheck()
        decision.locator("input[name=districts][value='310115']").uncheck()
        shot(provider, "access-04-partial-approval")
        decision.locator("input[type=submit]").click()
        expect(provider.locator("ul.messagelist")).to_contain_text("已批准 #")
        decided = provider.locator("#decided-requests tbody tr", has_text="城市运行管理中心")
        expect(decided).to_contain_text("已批准")
        expect(decided.locator(".granted-districts")).to_contain_text("徐汇区")

        # The requester sees what was approved and the link to the data.
        requester.goto(f"{live_server.url}/access/")
        row = requester.locator("#my-requests tbody tr").first
        expect(row).to_contain_text("已批准")
        expect(row.locator(".granted-districts")).to_have_text("批准：徐汇区")
        expect(row.locator(".granted-fields")).to_contain_text("alarm_id, district, occurred_at")
        expect(row.locator("a.data-link")).to_be_visible()
        shot(requester, "access-05-approved-with-link")

        # Exactly the approved fields and districts.
        body = requester.request.get(records_url, headers={"Accept": "application/json"})
        assert body.status == 200, body.text()
        rows = body.json()["results"]
        assert sorted(r["alarm_id"] for r in rows) == ["GA000", "GA001"]
        assert {r["district"] for r in rows} == {"310104"}
        for r in rows:
            assert "phone" not in r and "user_name" not in r and "concentration" not in r
            assert {"alarm_id", "occurred_at", "district"} <= set(r)
        requester.locator("#my-requests a.data-link").first.click()
        expect(requester.locator("body")).to_contain_text("GA000")
        expect(requester.locator("body")).not_to_contain_text("GA002")
        shot(requester, "access-06-approved-data")

    # (The ORM is not used inside Playwright's block: it runs an event loop.)
    filed = AccessRequest.objects.get()
    assert filed.fields == ASKED_FIELDS
    assert filed.districts == ["310104", "310115"]
    grant = AccessGrant.objects.get(request=filed)
    assert (grant.fields, grant.districts) == (["alarm_id", "district", "occurred_at"], ["310104"])
    assert filed.status == RequestStatus.APPROVED


def test_resubmit_is_refused_then_the_requester_withdraws(live_server, catalog, make_user):
    """The back button and a second submit file nothing new; 撤回 withdraws the request."""
    from playwright.sync_api import expect

    from permissions.models import AccessRequest, RequestStatus

    make_user("cityops", username="cityops-staff")
    with chromium() as browser:
        requester = new_page(browser)
        admin_login(requester, live_server.url, "cityops-staff")
        requester.goto(f"{live_server.url}/access/request/{RESOURCE}/")
        requester.fill("#id_purpose", "燃气泄漏事故联动处置")
        requester.click("#access-request-form input[type=submit]")
        expect(requester).to_have_url(f"{live_server.url}/access/")
        pk = requester.locator("#my-requests tbody tr").first.get_attribute("data-request")
        requester.go_back()
        requester.fill("#id_purpose", "燃气泄漏事故联动处置")
        requester.click("#access-request-form input[type=submit]")
        expect(requester).to_have_url(f"{live_server.url}/access/#request-{pk}")
        expect(requester.locator("ul.messagelist")).to_contain_text(f"已有待审批的共享申请 #{pk}")
        expect(requester.locator("#my-requests tbody tr")).to_have_count(1)

        row = requester.locator(f"#request-{pk}")
        row.locator("button.withdraw-button").click()
        expect(requester.locator("ul.messagelist")).to_contain_text(f"已撤回 #{pk}")
        expect(row.locator("td.status")).to_contain_text("已撤回")
        expect(row.locator("button.withdraw-button")).to_have_count(0)
        shot(requester, "access-07-withdrawn")

    (filed,) = AccessRequest.objects.all()
    assert (filed.pk, filed.status) == (int(pk), RequestStatus.WITHDRAWN)


def test_english_switch_on_admin_and_ops(live_server, catalog, make_user):
    from playwright.sync_api import expect

    make_user("cityops", username="cityops-staff")
    with chromium() as browser:
        page = new_page(browser)
        admin_login(page, live_server.url, "cityops-staff")
        expect(page.locator("#content h1")).to_have_text("管理首页")
        page.select_option("#language-select", "en")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.locator("#content h1")).to_have_text("Administration home")
        shot(page, "access-07-admin-english")

        page.goto(f"{live_server.url}/ops/")
        expect(page.locator("header h1")).to_contain_text("City Operations Overview")
        page.select_option("#language-select", "zh-hans")
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator("header h1")).to_contain_text("城市运行态势")
        page.select_option("#language-select", "en")
        expect(page.locator("header h1")).to_contain_text("City Operations Overview")
        shot(page, "access-08-ops-english")

        page.goto(f"{live_server.url}/access/")
        expect(page.locator("#content h1")).to_have_text("My sharing requests")
