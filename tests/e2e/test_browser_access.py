"""Access to a 有条件共享 resource through the real pages: request → approve → masked records.

城运中心 (cityops) staff file an access request for 住建委's gas-leak alarms on the admin
add page; 住建委 staff approve it with the admin action; the requester then reads the
records API in the same browser session and sees phone numbers, names and addresses
masked. Screenshots of each step go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import admin_login, chromium, new_page, shot

pytestmark = pytest.mark.browser

RESOURCE = "gas-leak-alarms"
ALARMS = [
    {
        "alarm_id": "GA20250701001",
        "occurred_at": "2025-07-01 09:12:00",
        "district": "徐汇区",
        "address": "漕溪北路88号3楼",
        "concentration": 35,
        "user_name": "张伟",
        "phone": "13812345678",
        "latitude": 31.19,
        "longitude": 121.44,
    },
    {
        "alarm_id": "GA20250701002",
        "occurred_at": "2025-07-01 10:40:00",
        "district": "浦东新区",
        "address": "世纪大道100号",
        "concentration": 12,
        "user_name": "李娜",
        "phone": "13987654321",
        "latitude": 31.23,
        "longitude": 121.52,
    },
]


@pytest.fixture
def alarms(catalog):
    """Two gas-leak alarms loaded through the ingest pipeline (tasks run in-process)."""
    from connectors import services
    from hub.records.models import BatchStatus

    batch = services.ingest_records(
        resource=catalog["resources"][RESOURCE],
        department=catalog["departments"]["housing"],
        records=ALARMS,
    ).batch
    batch.refresh_from_db()
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, len(ALARMS)), batch.errors
    return batch


def test_request_approve_then_read_masked_records(live_server, catalog, alarms, make_user):
    from playwright.sync_api import expect

    from permissions.models import AccessGrant, AccessRequest, RequestStatus

    make_user("cityops", username="cityops-staff")
    make_user("housing", username="housing-staff")
    records_url = f"{live_server.url}/api/v1/resources/{RESOURCE}/records/"

    with chromium() as browser:
        requester = new_page(browser)
        admin_login(requester, live_server.url, "cityops-staff")

        # Before any grant the records are hidden (404, not 403).
        assert requester.request.get(records_url).status == 404

        # 城运中心 files the request on the admin add page.
        requester.goto(f"{live_server.url}/admin/permissions/accessrequest/add/")
        resource_options = requester.locator("#id_resource option")
        expect(resource_options.filter(has_text="燃气泄漏报警记录")).to_have_count(1)
        # 不予共享 resources cannot even be requested.
        expect(resource_options.filter(has_text="110 治安警情")).to_have_count(0)
        requester.select_option(
            "#id_resource", label=resource_options.filter(has_text="燃气泄漏报警记录").inner_text()
        )
        requester.select_option("#id_requester", index=1)
        requester.fill("#id_purpose", "燃气泄漏事故联动处置")
        requester.fill("#id_fields", "[]")
        requester.fill("#id_districts", "[]")
        requester.fill("#id_duration_days", "90")
        shot(requester, "access-01-request-form")
        requester.click("input[name=_save]")
        expect(requester.locator("ul.messagelist")).to_contain_text("gas-leak-alarms (待审批)")
        row = requester.locator("#result_list tbody tr")
        expect(row).to_have_count(1)
        expect(row).to_contain_text("待审批")
        shot(requester, "access-02-request-pending")

        # 住建委 (the provider) approves it with the admin action.
        provider = new_page(browser)
        admin_login(provider, live_server.url, "housing-staff")
        provider.goto(f"{live_server.url}/admin/permissions/accessrequest/")
        pending = provider.locator("#result_list tbody tr", has_text="城市运行管理中心")
        expect(pending).to_have_count(1)
        expect(pending).to_contain_text("待审批")
        pending.locator("input.action-select").check()
        provider.select_option("select[name=action]", "approve")
        shot(provider, "access-03-provider-approves")
        provider.click("button[name=index]")
        expect(provider.locator("ul.messagelist")).to_contain_text("已批准 #")
        decided = provider.locator("#result_list tbody tr", has_text="城市运行管理中心")
        expect(decided).to_contain_text("已批准")
        shot(provider, "access-04-approved")

        # The requester now reads the records: personal data is masked.
        response = requester.request.get(records_url, headers={"Accept": "application/json"})
        assert response.status == 200, response.text()
        body = response.json()
        rows = {row["alarm_id"]: row for row in body["results"]}
        assert set(rows) == {"GA20250701001", "GA20250701002"}
        first = rows["GA20250701001"]
        assert first["phone"] == "138****5678"
        assert first["user_name"] == "张*"
        assert first["address"] != "漕溪北路88号3楼" and first["address"].endswith("****")
        assert first["district"] == "310104"
        assert first["concentration"] == 35
        assert rows["GA20250701002"]["phone"] == "139****4321"
        requester.goto(records_url)
        expect(requester.locator("body")).to_contain_text("138****5678")
        expect(requester.locator("body")).not_to_contain_text("13812345678")
        shot(requester, "access-05-masked-records")

    request = AccessRequest.objects.get()
    assert request.status == RequestStatus.APPROVED
    assert request.decided_by.username == "housing-staff"
    grant = AccessGrant.objects.get(request=request)
    assert grant.department.code == "cityops" and grant.clear_fields == []


def test_provider_refuses_with_a_reason(live_server, catalog, make_user):
    """Refusing asks for a reason on an intermediate page; the requester then reads it."""
    from playwright.sync_api import expect

    from permissions import services
    from permissions.models import AccessRequest, RequestStatus

    requester_user = make_user("cityops", username="cityops-staff")
    make_user("housing", username="housing-staff")
    pending = services.request_access(
        user=requester_user,
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"][RESOURCE],
        purpose="日常统计",
    )
    changelist = f"{live_server.url}/admin/permissions/accessrequest/"

    with chromium() as browser:
        provider = new_page(browser)
        admin_login(provider, live_server.url, "housing-staff")
        provider.goto(changelist)
        provider.locator(f"input.action-select[value='{pending.pk}']").check()
        provider.select_option("select[name=action]", "refuse")
        provider.click("button[name=index]")
        reason = provider.locator("textarea[name=reason]")
        expect(reason).to_be_visible()
        expect(provider.locator("#content")).to_contain_text("拒绝以下共享申请")
        reason.fill("用途不属于应急处置，不符合共享条件。")
        shot(provider, "access-06-refusal-reason")
        provider.click("input[name=confirm]")
        expect(provider.locator("ul.messagelist")).to_contain_text(f"已拒绝 #{pending.pk}")
        row = provider.locator("#result_list tbody tr", has_text="城市运行管理中心")
        expect(row).to_contain_text("已拒绝")

        requester = new_page(browser)
        admin_login(requester, live_server.url, "cityops-staff")
        requester.goto(f"{changelist}{pending.pk}/change/")
        expect(requester.locator("#content")).to_contain_text(
            "用途不属于应急处置，不符合共享条件。"
        )
        expect(requester.locator("#content")).to_contain_text("housing-staff")
        shot(requester, "access-07-refused-seen-by-requester")
        records = f"{live_server.url}/api/v1/resources/{RESOURCE}/records/"
        assert requester.request.get(records).status == 404

    refused = AccessRequest.objects.get(pk=pending.pk)
    assert refused.status == RequestStatus.REFUSED
    assert refused.refusal_reason == "用途不属于应急处置，不符合共享条件。"
