"""Request states on the /access/ pages and API: duplicates refused, withdrawal (撤回),
已超期 computed when the page is drawn, and grants that ended (已过期 / 已撤销)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from permissions import request_checks, services
from permissions.models import AccessRequest, AuditEvent, RequestStatus
from tests.hub.test_english_ui import english_catalog
from tests.permissions.test_access_pages import RESOURCE, client_for, file_request, people

__all__ = ["english_catalog", "people"]  # the fixtures, re-used


def form_data(catalog) -> dict:
    return {
        "requester": str(catalog["departments"]["cityops"].pk),
        "fields": ["alarm_id"],
        "districts": ["310101"],
        "purpose": "燃气泄漏联动处置",
        "duration_days": "90",
    }


def test_second_submit_redirects_to_the_pending_request(people, catalog):
    client = client_for(people["requester"])
    first = client.post(f"/access/request/{RESOURCE}/", form_data(catalog), follow=True)
    assert first.redirect_chain == [("/access/", 302)]
    existing = AccessRequest.objects.get()
    again = client.post(f"/access/request/{RESOURCE}/", form_data(catalog), follow=True)
    assert again.redirect_chain == [(f"/access/#request-{existing.pk}", 302)]
    assert AccessRequest.objects.count() == 1
    messages = [str(m) for m in again.context["messages"]]
    assert messages == [f"本部门已有待审批的共享申请 #{existing.pk}，请勿重复提交。"]


def test_service_refuses_a_duplicate_but_not_after_a_decision(people, catalog):
    first = file_request(people, catalog)
    with pytest.raises(request_checks.DuplicateRequest) as error:
        file_request(people, catalog, districts=["310115"])
    assert error.value.existing == first
    services.refuse_request(user=people["provider"], access_request=first, reason="不符合条件")
    second = file_request(people, catalog)
    assert second.pk != first.pk and second.status == RequestStatus.PENDING


def test_api_duplicate_is_409_naming_the_existing_request(people, catalog, api_client):
    api_client.force_authenticate(people["requester"])
    body = {"resource": RESOURCE, "requester": "cityops", "purpose": "联动处置"}
    first = api_client.post("/api/v1/access-requests/", body, format="json")
    assert first.status_code == 201
    again = api_client.post("/api/v1/access-requests/", body, format="json")
    assert again.status_code == 409
    assert again.json()["existing"] == first.json()["id"]
    assert AccessRequest.objects.count() == 1


def test_requester_withdraws_a_pending_request(people, catalog):
    pending = file_request(people, catalog)
    client = client_for(people["requester"])
    mine = client.get("/access/").content.decode()
    assert f'action="/access/{pending.pk}/withdraw/"' in mine
    response = client.post(f"/access/{pending.pk}/withdraw/")
    assert (response.status_code, response["Location"]) == (302, f"/access/#request-{pending.pk}")
    pending.refresh_from_db()
    assert pending.status == RequestStatus.WITHDRAWN
    assert pending.decided_by is None and pending.decided_at is not None
    event = AuditEvent.objects.get(action="withdraw")
    assert (event.actor, event.detail) == (
        "ops-staff",
        {"request": pending.pk, "requester": "cityops"},
    )
    mine = client.get("/access/").content.decode()
    assert "已撤回" in mine and "/withdraw/" not in mine
    # Withdrawn leaves the provider's queue of pending requests.
    queue = client_for(people["provider"]).get("/access/queue/").context["pending"]
    assert queue == []


def test_withdraw_twice_says_already_handled(people, catalog):
    pending = file_request(people, catalog)
    client = client_for(people["requester"])
    client.post(f"/access/{pending.pk}/withdraw/")
    again = client.post(f"/access/{pending.pk}/withdraw/", follow=True)
    assert [str(m) for m in again.context["messages"]][-1] == "该申请已处理。"
    assert AuditEvent.objects.filter(action="withdraw").count() == 1


def test_only_the_requesting_department_withdraws(people, catalog):
    pending = file_request(people, catalog)
    for who in ("provider", "other"):
        assert client_for(people[who]).post(f"/access/{pending.pk}/withdraw/").status_code == 404
    assert client_for(people["requester"]).get(f"/access/{pending.pk}/withdraw/").status_code == 405
    with pytest.raises(PermissionDenied):
        services.withdraw_request(user=people["provider"], access_request=pending)
    with pytest.raises(AccessRequest.DoesNotExist):
        services.withdraw_request(user=people["other"], access_request=pending)
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING
    assert not AuditEvent.objects.filter(action="withdraw").exists()


def test_api_withdraw(people, catalog, api_client):
    pending = file_request(people, catalog)
    url = f"/api/v1/access-requests/{pending.pk}/withdraw/"
    api_client.force_authenticate(people["other"])
    assert api_client.post(url).status_code == 404
    api_client.force_authenticate(people["provider"])
    assert api_client.post(url).status_code == 403
    api_client.force_authenticate(people["requester"])
    response = api_client.post(url)
    assert (response.status_code, response.json()["status"]) == (200, "withdrawn")
    again = api_client.post(url)
    assert again.status_code == 400 and again.json() == ["该申请已处理。"]


def test_withdraw_is_in_the_openapi_schema(db, api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/access-requests/{id}/withdraw/"]["post"]
    assert {"200", "400", "403", "404"} <= set(operation["responses"])
    create = schema["paths"]["/api/v1/access-requests/"]["post"]["responses"]
    assert {"201", "409"} <= set(create) and "200" not in create
    conflict = create["409"]["content"]["application/json"]["schema"]["$ref"]
    assert conflict == "#/components/schemas/DuplicateRequest"


def test_queue_shows_overdue_without_the_beat_task(people, catalog, time_machine):
    pending = file_request(people, catalog)
    assert pending.overdue is False
    time_machine.move_to(pending.due_at + dt.timedelta(minutes=1))
    page = client_for(people["provider"]).get("/access/queue/")
    (row,) = page.context["pending"]
    assert row["overdue"] is True
    assert '<span class="overdue">已超期</span>' in page.content.decode()
    AccessRequest.objects.filter(pk=pending.pk).update(due_at=timezone.now() + dt.timedelta(days=1))
    page = client_for(people["provider"]).get("/access/queue/")
    assert page.context["pending"][0]["overdue"] is False
    assert "已超期" not in page.content.decode().split("待审批</h2>")[1].split("最近处理")[0]


@pytest.mark.parametrize(
    ("end", "label", "english"),
    [("expire", "已过期", "Expired"), ("revoke", "已撤销", "Revoked")],
)
def test_ended_grant_reads_as_ended_with_a_request_again_link(
    people, catalog, time_machine, end, label, english
):
    pending = file_request(people, catalog)
    grant = services.approve_request(user=people["provider"], access_request=pending)
    if end == "expire":
        time_machine.move_to(grant.expires_at + dt.timedelta(days=1))
    else:
        services.revoke_grant(user=people["provider"], grant=grant, reason="停止合作")
    client = client_for(people["requester"])
    response = client.get("/access/")
    (row,) = response.context["rows"]
    assert (row["state_label"], row["data_url"]) == (label, "")
    html = response.content.decode()
    assert f'<td class="status status-{end}d">{label}' in html
    assert "有效至" not in html
    assert f'class="button request-again-link" href="/access/request/{RESOURCE}/"' in html
    english_page = client.get("/access/", headers={"accept-language": "en"})
    assert english_page.context["rows"][0]["state_label"] == english


def test_active_grant_still_reads_approved(people, catalog):
    pending = file_request(people, catalog)
    services.approve_request(user=people["provider"], access_request=pending)
    html = client_for(people["requester"]).get("/access/").content.decode()
    assert '<td class="status status-approved">已批准' in html and "有效至" in html
    assert "request-again-link" not in html


def test_refused_request_cannot_be_withdrawn(people, catalog):
    pending = file_request(people, catalog)
    services.refuse_request(user=people["provider"], access_request=pending, reason="不符合")
    with pytest.raises(ValidationError):
        services.withdraw_request(user=people["requester"], access_request=pending)


def test_admin_add_of_a_duplicate_is_a_form_error_not_a_500(people, catalog):
    pending = file_request(people, catalog)
    response = client_for(people["requester"]).post(
        "/admin/permissions/accessrequest/add/",
        {
            "resource": catalog["resources"][RESOURCE].pk,
            "requester": catalog["departments"]["cityops"].pk,
            "purpose": "联动",
            "fields": "[]",
            "districts": "[]",
            "duration_days": "30",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["resource"]
    assert errors == [f"本部门已有待审批的共享申请 #{pending.pk}，请勿重复提交。"]
    assert AccessRequest.objects.count() == 1


def test_a_non_member_is_refused_before_any_duplicate_is_named(people, catalog):
    file_request(people, catalog)
    with pytest.raises(PermissionDenied):
        services.request_access(
            user=people["provider"],
            requester=catalog["departments"]["cityops"],
            resource=catalog["resources"][RESOURCE],
            purpose="联动处置",
        )


def test_a_request_withdrawn_after_its_deadline_is_not_overdue(people, catalog, time_machine):
    pending = file_request(people, catalog)
    time_machine.move_to(pending.due_at + dt.timedelta(days=1))
    services.withdraw_request(user=people["requester"], access_request=pending)
    page = client_for(people["requester"]).get("/access/")
    (row,) = [r for r in page.context["rows"] if r["request"].pk == pending.pk]
    assert row["overdue"] is False
