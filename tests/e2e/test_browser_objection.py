"""An objection (数据异议) round trip through the real admin pages.

城运中心 (cityops) staff, who read 消防's fire incidents under a grant (the caller's phone
masked), object to a field value on the admin add page; 消防 (fire) staff find it in their
queue with its working-day deadline and correct the value on the change page; the objector
then finds the notification in 消息通知. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re

import pytest

from permissions.workdays import add_working_days
from tests.e2e.browser import admin_login, chromium, new_page, shot
from tests.permissions.conftest import grant, records  # noqa: F401

pytestmark = pytest.mark.browser


def test_objection_round_trip_in_the_admin(live_server, catalog, records, grant, make_user):  # noqa: F811
    from playwright.sync_api import expect

    from governance.models import Objection
    from hub.records.models import Record
    from permissions.models import AuditEvent

    grant(records["fire-incidents"], "cityops", days=30)
    make_user("cityops", username="cityops-staff")
    make_user("fire", username="fire-staff")
    base = live_server.url

    with chromium() as browser:
        objector = new_page(browser)
        admin_login(objector, base, "cityops-staff")
        objector.goto(f"{base}/admin/governance/objection/add/")
        objector.select_option("#id_department", label="上海市城市运行管理中心")
        objector.select_option("#id_resource", label=str(records["fire-incidents"]))
        objector.select_option("#id_scope", value="field")
        objector.fill("#id_record_key", "F2")
        objector.fill("#id_field_name", "caller_phone")
        objector.fill("#id_reason", "报警电话与接警单不符")
        objector.fill("#id_evidence", "接警单编号 JJ-0002")
        objector.click("input[name=_save]")
        expect(objector.locator("ul.messagelist")).to_be_visible()
        expect(objector.locator("#result_list")).to_contain_text("待核查")
        shot(objector, "objection-1-filed")

        provider = new_page(browser)
        admin_login(provider, base, "fire-staff")
        provider.goto(f"{base}/admin/governance/objection/?status__exact=open")
        expect(provider.locator("#result_list")).to_contain_text("caller_phone")
        provider.locator("#result_list tbody tr a").first.click()
        expect(provider.locator("body")).to_contain_text("报警电话与接警单不符")
        provider.select_option("#id_decision", value="value")
        provider.fill("#id_new_value", '"13900002222"')
        provider.fill("#id_answer_text", "已核对接警单，更正")
        shot(provider, "objection-2-answer")
        provider.click("input[name=_save]")
        expect(provider.locator("ul.messagelist")).to_be_visible()
        provider.goto(f"{base}/admin/governance/objection/?status__exact=corrected")
        expect(provider.locator("#result_list")).to_contain_text("caller_phone")

        objector.goto(f"{base}/admin/governance/notification/")
        expect(objector.locator("#result_list")).to_contain_text(
            re.compile(r"数据异议 #\d+（fire-incidents）已由提供部门更正。")
        )
        # The objector never sees the corrected clear value.
        objector.goto(f"{base}/admin/governance/objection/")
        objector.locator("#result_list tbody tr a").first.click()
        expect(objector.locator("body")).to_contain_text("已更正")
        assert "13900002222" not in objector.content()
        shot(objector, "objection-3-notified")

    objection = Objection.objects.get()
    # Five working days after filing (created_at is stamped a moment after the deadline).
    expected = add_working_days(objection.created_at, 5)
    assert abs((objection.due_at - expected).total_seconds()) < 1
    assert (objection.status, objection.corrected_field) == ("corrected", "caller_phone")
    assert Record.objects.get(key="F2").data["caller_phone"] == "13900002222"
    event = AuditEvent.objects.get(action="objection_correct")
    assert (event.detail["objection"], event.detail["new"]) == (objection.pk, "13900002222")
