"""Objections in the admin: a reader files on the add page, the provider answers on the
change page, the objector reads the notification; refusals are form errors or 403."""

from __future__ import annotations

import pytest
from django.utils import translation

from governance.models import Notification, Objection
from hub.records.models import Record
from permissions.models import AuditEvent
from tests.governance.conftest import CLEAR_PHONE, DUE

pytestmark = pytest.mark.django_db

ADD = "/admin/governance/objection/add/"


def filing(world, **extra) -> dict:
    return {
        "department": world["departments"]["cityops"].pk,
        "resource": world["resource"].pk,
        "scope": "field",
        "record_key": "F1",
        "field_name": "caller_phone",
        "reason": "报警电话与接警记录不符",
        "evidence": "",
        **extra,
    }


def test_file_and_answer_in_the_admin(world, client):
    client.force_login(world["users"]["cityops"])
    assert client.get(ADD).status_code == 200
    response = client.post(ADD, filing(world))
    assert response.status_code == 302, response.content.decode()[-3000:]
    objection = Objection.objects.get()
    assert objection.due_at == DUE and objection.department.code == "cityops"
    # The objector sees it, without the answer form, and cannot post an answer.
    change = f"/admin/governance/objection/{objection.pk}/change/"
    page = client.get(change).content.decode()
    assert "报警电话与接警记录不符" in page and 'name="decision"' not in page
    assert CLEAR_PHONE not in page
    assert client.post(change, {"decision": "reject", "answer_text": "x"}).status_code == 403
    # A department without it: 404.
    client.force_login(world["users"]["emergency"])
    assert client.get(change).status_code == 404
    # The provider answers with a value.
    client.force_login(world["users"]["fire"])
    assert 'name="decision"' in client.get(change).content.decode()
    response = client.post(
        change, {"decision": "value", "new_value": '"13800000000"', "answer_text": "已核对"}
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    objection.refresh_from_db()
    assert (objection.status, objection.corrected_field) == ("corrected", "caller_phone")
    assert Record.objects.get(key="F1").data["caller_phone"] == "13800000000"
    assert AuditEvent.objects.get(action="objection_correct").detail["objection"] == objection.pk
    # The objector's notifications list shows the rendered message.
    client.force_login(world["users"]["cityops"])
    with translation.override("zh-hans"):
        page = client.get("/admin/governance/notification/").content.decode()
    assert f"数据异议 #{objection.pk}（fire-incidents）已由提供部门更正。" in page
    mine = Notification.objects.restrict(world["users"]["cityops"], "view")
    response = client.post(
        "/admin/governance/notification/",
        {"action": "mark_read", "_selected_action": [n.pk for n in mine]},
    )
    assert response.status_code == 302
    assert not mine.filter(read=False).exists()


def test_admin_refusals_are_form_errors(world, client):
    client.force_login(world["users"]["cityops"])
    # A record the reader does not see (unknown key): a form error, nothing written.
    response = client.post(ADD, filing(world, record_key="NOPE"))
    assert response.status_code == 200
    assert "没有找到可提出异议的数据。" in response.content.decode()
    # The provider rejecting without a reason: a form error.
    assert client.post(ADD, filing(world)).status_code == 302
    objection = Objection.objects.get()
    client.force_login(world["users"]["fire"])
    change = f"/admin/governance/objection/{objection.pk}/change/"
    response = client.post(change, {"decision": "reject", "answer_text": " "})
    assert response.status_code == 200
    assert "驳回必须说明理由。" in response.content.decode()
    objection.refresh_from_db()
    assert objection.status == "open"
    assert not AuditEvent.objects.filter(action="objection_reject").exists()
