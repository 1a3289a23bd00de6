"""A data need (需求清单) through the real hub pages, in three departments' browsers.

应急管理局 (emergency) staff file a need for road ponding data; the 大数据中心 (bigdata, the
共享主管部门) sees the catalog's suggestion (水务局, 道路积水监测数据) and routes it; 水务局
(water) staff link their resource, which files an access request for emergency; emergency
then finds that request in 我的共享申请. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import admin_login, chromium, new_page, shot

pytestmark = pytest.mark.browser


def test_file_route_link_opens_an_access_request(live_server, catalog, make_user):
    from playwright.sync_api import expect

    from governance.needs.models import DataNeed
    from permissions.models import AccessRequest

    for department in ("emergency", "bigdata", "water"):
        make_user(department, username=f"{department}-staff")
    base = live_server.url

    with chromium() as browser:
        filer = new_page(browser)
        admin_login(filer, base, "emergency-staff")
        filer.goto(f"{base}/governance/needs/new/")
        expect(filer.locator("#language-nav")).to_be_visible()
        filer.fill("#id_title", "道路积水实时数据")
        filer.fill("#id_description", "汛期各区道路积水深度，用于调度排水抢险力量")
        filer.fill("#id_purpose", "防汛应急指挥")
        filer.fill("#id_legal_basis", "《上海市防汛条例》")
        filer.fill("#id_fields", "积水深度、road_name")
        filer.fill("#id_keywords", "积水、防汛")
        filer.locator("#row-districts label", has_text="黄浦区").click()
        filer.select_option("#id_update_cycle", value="realtime")
        filer.click("#need-form input[type=submit]")
        expect(filer.locator("ul.messagelist")).to_contain_text("已提交数据需求")
        expect(filer.locator("#need-status")).to_have_text("已提交")
        shot(filer, "need-1-filed")

        authority = new_page(browser)
        admin_login(authority, base, "bigdata-staff")
        authority.goto(f"{base}/governance/needs/?status=filed")
        authority.locator("#need-list a", has_text="道路积水实时数据").click()
        expect(authority.locator("#need-suggestions")).to_contain_text("道路积水监测数据")
        # The best suggestion is preselected; the router ticks the candidate resource.
        expect(authority.locator("#id_route-provider")).to_have_value("water")
        authority.locator("#need-route label", has_text="road-ponding").click()
        shot(authority, "need-2-route")
        authority.click("#submit-route")
        expect(authority.locator("#need-status")).to_have_text("已分派")
        expect(authority.locator("#need-provider")).to_contain_text("水务局")

        provider = new_page(browser)
        admin_login(provider, base, "water-staff")
        provider.goto(f"{base}/governance/needs/")
        provider.locator("#need-list a", has_text="道路积水实时数据").click()
        expect(provider.locator("#id_link-resource")).to_have_value("road-ponding")
        provider.fill("#id_link-note", "已有积水监测数据，请按共享申请授权")
        provider.click("#submit-link")
        expect(provider.locator("ul.messagelist")).to_contain_text("共享申请")
        expect(provider.locator("#need-answer")).to_have_text("关联已有资源")
        shot(provider, "need-3-linked")

        filer.goto(f"{base}/access/")
        expect(filer.locator("body")).to_contain_text("道路积水监测数据")
        shot(filer, "need-4-access-request")

    need = DataNeed.objects.get()
    request = AccessRequest.objects.get()
    assert (need.status, need.answer, need.access_request_id) == ("answered", "linked", request.pk)
    assert (request.requester.code, request.resource.code, request.status) == (
        "emergency",
        "road-ponding",
        "pending",
    )
    assert sorted(request.fields) == ["depth", "road_name"]
    assert request.districts == ["310101"]
