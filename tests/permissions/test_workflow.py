"""Access requests, grants, expiry, revocation, API keys and working days."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from hub.catalog.models import Department
from permissions import api_key_services, services
from permissions.models import AccessGrant, AccessRequest, AuditEvent, PartnerApiKey
from permissions.workdays import add_working_days
from tests.permissions.conftest import WEEK

pytestmark = pytest.mark.django_db

RECORDS = "/api/v1/resources/fire-incidents/records/"


def test_request_approve_read_revoke_over_rest(records, make_user, api_client):
    requester, provider = make_user("cityops"), make_user("fire")
    api_client.force_authenticate(requester)
    assert api_client.get(RECORDS).status_code == 404
    response = api_client.post(
        "/api/v1/access-requests/",
        {
            "resource": "fire-incidents",
            "purpose": "联动处置",
            "fields": ["incident_id", "district", "caller_phone"],
            "districts": ["310104"],
            "duration_days": 30,
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    request_id = response.json()["id"]
    assert response.json()["status"] == "pending"
    # The requester cannot approve their own request.
    assert api_client.post(f"/api/v1/access-requests/{request_id}/approve/").status_code == 403
    api_client.force_authenticate(provider)
    response = api_client.post(
        f"/api/v1/access-requests/{request_id}/approve/",
        {"clear_fields": ["caller_phone"]},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    api_client.force_authenticate(requester)
    body = api_client.get(RECORDS).json()
    assert body["fields"] == ["incident_id", "district", "caller_phone"]
    assert body["results"] == [
        {"incident_id": "F2", "district": "310104", "caller_phone": "13900001111"}
    ]
    grant = AccessGrant.objects.get(request_id=request_id)
    services.revoke_grant(user=provider, grant=grant, reason="test")
    assert api_client.get(RECORDS).status_code == 404
    actions = list(AuditEvent.objects.order_by("sequence").values_list("action", "outcome"))
    assert ("request", "ok") in actions
    assert ("approve", "ok") in actions
    assert ("grant", "ok") in actions
    assert ("revoke", "ok") in actions
    assert actions[-1] == ("read", "denied")


def test_refusal_needs_reason(catalog, make_user, api_client):
    access_request = services.request_access(
        user=make_user("cityops"),
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"]["fire-incidents"],
        purpose="x",
    )
    api_client.force_authenticate(make_user("fire"))
    url = f"/api/v1/access-requests/{access_request.pk}/refuse/"
    assert api_client.post(url, {"reason": ""}, format="json").status_code == 400
    response = api_client.post(url, {"reason": "超出职责范围"}, format="json")
    assert response.status_code == 200
    assert response.json()["refusal_reason"] == "超出职责范围"
    assert AuditEvent.objects.filter(action="refuse").count() == 1


def test_no_request_on_unshared_resource(catalog, make_user, api_client):
    api_client.force_authenticate(make_user("cityops"))
    response = api_client.post(
        "/api/v1/access-requests/",
        {"resource": "public-security-incidents", "purpose": "x"},
        format="json",
    )
    assert response.status_code == 404


def test_expired_grant_stops_on_next_request_and_task_tidies(records, grant, make_user, api_client):
    active = grant(records["fire-incidents"], "cityops")
    api_client.force_authenticate(make_user("cityops"))
    assert api_client.get(RECORDS).status_code == 200
    AccessGrant.objects.filter(pk=active.pk).update(expires_at=timezone.now())
    assert api_client.get(RECORDS).status_code == 404
    from permissions.tasks import revoke_expired_grants

    assert revoke_expired_grants.delay().get() == 1
    active.refresh_from_db()
    assert active.revoked_at is not None
    from permissions.models import ResourceGroupPermission

    assert not ResourceGroupPermission.objects.filter(
        group=catalog_group("cityops"), content_object=records["fire-incidents"]
    ).exists()


def catalog_group(code: str):
    return Department.objects.get(code=code).group


def test_revoked_key_fails_on_next_request(records, key_client):
    client, api_key = key_client("bigdata")
    assert client.get("/api/v1/resources/road-ponding/records/").status_code == 200
    api_key_services.revoke_api_key(user=None, api_key=api_key)
    assert client.get("/api/v1/resources/road-ponding/records/").status_code == 401


def test_expired_key_is_refused(records, key_client):
    client, _ = key_client("bigdata", expires_at=timezone.now() - dt.timedelta(minutes=1))
    assert client.get("/api/v1/resources/").status_code == 401


def test_create_api_key_command_prints_once_and_stores_hash(catalog):
    out = StringIO()
    call_command("create_api_key", "--department", "bigdata", "--name", "大屏", stdout=out)
    key = out.getvalue().split("store it now): ")[1].strip()
    stored = PartnerApiKey.objects.get()
    assert key.startswith(stored.prefix + ".")
    assert key not in stored.hashed_key and key.split(".")[1] not in stored.id
    assert PartnerApiKey.objects.get_from_key(key) == stored
    assert stored.user.username == "svc-bigdata"
    assert stored.user.groups.filter(pk=catalog_group("bigdata").pk).exists()


def test_per_key_throttle(records, key_client, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"api_key": "3/min", "user": "9/min"})
    first, _ = key_client("bigdata")
    second, _ = key_client("bigdata")
    statuses = [first.get("/api/v1/resources/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert second.get("/api/v1/resources/").status_code == 200


def test_working_days_skip_weekends_and_holidays():
    friday = dt.datetime(2026, 7, 3, 9, 0, tzinfo=dt.UTC)
    assert add_working_days(friday, 1) == dt.datetime(2026, 7, 6, 9, 0, tzinfo=dt.UTC)
    assert add_working_days(friday, 10).date() == dt.date(2026, 7, 17)
    with override_settings(HUB_HOLIDAYS=["2026-07-06"]):
        assert add_working_days(friday, 1).date() == dt.date(2026, 7, 7)


@pytest.mark.parametrize("day", list(WEEK))
def test_ten_working_days_from_each_weekday(day):
    start, due = WEEK[day]
    assert add_working_days(start, 10) == dt.datetime.combine(due, start.timetz())
    # A holiday inside the span moves the deadline by one working day.
    with override_settings(HUB_HOLIDAYS=["2026-03-11"]):
        later = add_working_days(start, 10).date()
    assert later == due + dt.timedelta(days=3 if due.weekday() == 4 else 1)


def test_overdue_requests_flagged_and_escalated_once(
    each_weekday, catalog, make_user, time_machine
):
    now, due = each_weekday
    access_request = services.request_access(
        user=make_user("cityops"),
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"]["fire-incidents"],
        purpose="x",
    )
    # 10 working days later, at the same time of day.
    assert access_request.due_at == dt.datetime.combine(due, now.timetz())
    from permissions.tasks import flag_overdue_requests

    assert flag_overdue_requests.delay().get() == 0
    time_machine.move_to(access_request.due_at - dt.timedelta(seconds=1), tick=False)
    assert flag_overdue_requests.delay().get() == 0
    time_machine.move_to(access_request.due_at + dt.timedelta(seconds=1), tick=False)
    assert flag_overdue_requests.delay().get() == 1
    assert flag_overdue_requests.delay().get() == 0
    access_request.refresh_from_db()
    assert access_request.overdue
    assert access_request.escalated_at == access_request.due_at + dt.timedelta(seconds=1)
    assert AuditEvent.objects.filter(action="escalate").count() == 1


def test_beat_schedule_registered():
    from hub.beat import SCHEDULE

    tasks = {task for task, _, _ in SCHEDULE}
    assert {
        "permissions.tasks.revoke_expired_grants",
        "permissions.tasks.flag_overdue_requests",
    } <= tasks


def test_working_days_follow_the_local_calendar_day():
    """Friday 07:00 in Shanghai is Thursday in UTC: one working day later is Monday 07:00
    (counting UTC dates would end on Saturday)."""
    friday_early = dt.datetime(2026, 3, 5, 23, 0, tzinfo=dt.UTC)  # Fri 2026-03-06 07:00 +08
    due = timezone.localtime(add_working_days(friday_early, 1))
    assert (due.date(), due.hour) == (dt.date(2026, 3, 9), 7)


def test_a_provider_cannot_request_its_own_resource(catalog, make_user, api_client):
    """emergency provides emergency-shelters: a request would be approved by itself."""
    api_client.force_authenticate(make_user("emergency"))
    response = api_client.post(
        "/api/v1/access-requests/",
        {"resource": "emergency-shelters", "purpose": "self", "duration_days": 30},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"resource": ["资源 emergency-shelters 由本部门提供，无需申请共享。"]}
    assert not AccessRequest.objects.exists()
    assert not AuditEvent.objects.filter(action="request").exists()


def test_the_request_page_and_admin_refuse_the_providers_own_resource(catalog, make_user, client):
    client.force_login(make_user("fire"))
    page = client.post(
        "/access/request/fire-incidents/",
        {"requester": catalog["departments"]["fire"].pk, "purpose": "self", "duration_days": 30},
    )
    assert page.status_code == 200
    assert "资源 fire-incidents 由本部门提供，无需申请共享。" in page.content.decode()
    admin = client.post(
        "/admin/permissions/accessrequest/add/",
        {
            "resource": catalog["resources"]["fire-incidents"].pk,
            "requester": catalog["departments"]["fire"].pk,
            "purpose": "self",
            "fields": "[]",
            "districts": "[]",
            "duration_days": 30,
        },
    )
    assert admin.status_code == 200
    assert "资源 fire-incidents 由本部门提供，无需申请共享。" in admin.content.decode()
    assert not AccessRequest.objects.exists()


def test_a_member_of_the_requesting_department_cannot_decide(catalog, make_user, api_client):
    """A user in both departments files for one and would approve as the other."""
    from django.contrib.auth.models import Group

    both = make_user("cityops")
    both.groups.add(catalog["departments"]["fire"].group)
    access_request = services.request_access(
        user=both,
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"]["fire-incidents"],
        purpose="联动处置",
    )
    assert Group.objects.filter(user=both).count() == 3  # two departments and a role
    api_client.force_authenticate(both)
    base = f"/api/v1/access-requests/{access_request.pk}/"
    for action, body in (("approve/", {}), ("refuse/", {"reason": "x"})):
        response = api_client.post(base + action, body, format="json")
        assert response.status_code == 403
        assert response.json() == {"detail": "不能审批本部门提出的共享申请。"}
    with pytest.raises(PermissionDenied, match="不能审批本部门提出的共享申请"):
        services.approve_request(user=both, access_request=access_request)
    access_request.refresh_from_db()
    assert (access_request.status, access_request.decided_by) == ("pending", None)
    assert not AccessGrant.objects.exists()
    # Another member of the provider decides it.
    services.approve_request(user=make_user("fire"), access_request=access_request)
    access_request.refresh_from_db()
    assert access_request.status == "approved"


def test_a_legacy_self_request_cannot_be_decided_by_its_provider(catalog, make_user, client):
    """A request stored before providers were refused: its provider's queue offers no
    decision and the service refuses one."""
    access_request = AccessRequest.objects.create(
        resource=catalog["resources"]["fire-incidents"],
        requester=catalog["departments"]["fire"],
        purpose="self",
        due_at=timezone.now() + dt.timedelta(days=14),
    )
    steward = make_user("fire", steward=True)
    client.force_login(steward)
    page = client.get(f"/access/queue/{access_request.pk}/", follow=True)
    assert page.redirect_chain[-1][0] == "/access/queue/"
    assert "不能审批本部门提出的共享申请。" in page.content.decode()
    with pytest.raises(PermissionDenied):
        services.refuse_request(user=steward, access_request=access_request, reason="x")
    access_request.refresh_from_db()
    assert access_request.status == "pending"
