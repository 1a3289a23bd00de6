"""Admin actions of the sharing workflow: approve, refuse with reason, revoke; audit read-only."""

from __future__ import annotations

import datetime as dt

import pytest

from permissions import services
from permissions.models import AccessGrant, AccessRequest, AuditEvent, RequestStatus
from tests.permissions.conftest import WEEK

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/permissions/accessrequest/"


@pytest.fixture
def pending(catalog, make_user):
    return services.request_access(
        user=make_user("cityops"),
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"]["fire-incidents"],
        purpose="联动",
    )


def test_provider_approves_in_admin(pending, make_user, client):
    client.force_login(make_user(superuser=True, username="root"))
    response = client.post(CHANGELIST, {"action": "approve", "_selected_action": [pending.pk]})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == RequestStatus.APPROVED
    assert AccessGrant.objects.get(request=pending).department.code == "cityops"


def test_refusal_asks_for_reason_then_refuses(pending, make_user, client):
    client.force_login(make_user(superuser=True, username="root"))
    response = client.post(CHANGELIST, {"action": "refuse", "_selected_action": [pending.pk]})
    assert response.status_code == 200
    assert 'name="reason"' in response.content.decode()
    assert AccessRequest.objects.get(pk=pending.pk).status == RequestStatus.PENDING
    response = client.post(
        CHANGELIST,
        {"action": "refuse", "_selected_action": [pending.pk], "reason": "不符合条件"},
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.refusal_reason) == (RequestStatus.REFUSED, "不符合条件")


def test_revoke_grant_in_admin(catalog, grant, make_user, client):
    active = grant(catalog["resources"]["fire-incidents"], "cityops")
    client.force_login(make_user(superuser=True, username="root"))
    response = client.post(
        "/admin/permissions/accessgrant/", {"action": "revoke", "_selected_action": [active.pk]}
    )
    assert response.status_code == 302
    active.refresh_from_db()
    assert active.revoked_at is not None


def test_audit_admin_is_read_only(db, make_user, client):
    from permissions.audit import log_event

    event = log_event(actor=None, action="test")
    client.force_login(make_user(superuser=True, username="root"))
    assert client.get("/admin/permissions/auditevent/").status_code == 200
    assert client.get("/admin/permissions/auditevent/add/").status_code == 403
    response = client.post(f"/admin/permissions/auditevent/{event.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert AuditEvent.objects.count() == 1


@pytest.mark.time_machine(WEEK["sat"][0], tick=False)
def test_request_filed_in_admin_goes_through_service(catalog, make_user, client):
    from django.contrib.auth.models import Permission

    staff = make_user("cityops")
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["add_accessrequest", "view_accessrequest"])
    )
    client.force_login(staff)
    form = client.get("/admin/permissions/accessrequest/add/").content.decode()
    assert "fire-incidents" in form
    assert "public-security-incidents" not in form  # 不予共享: not even listed
    response = client.post(
        "/admin/permissions/accessrequest/add/",
        {
            "resource": catalog["resources"]["fire-incidents"].pk,
            "requester": catalog["departments"]["cityops"].pk,
            "purpose": "联动",
            "fields": '["incident_id"]',
            "districts": "[]",
            "duration_days": 30,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    created = AccessRequest.objects.get()
    assert created.status == RequestStatus.PENDING
    saturday, due = WEEK["sat"]
    assert created.due_at == dt.datetime.combine(due, saturday.timetz())  # 10 working days
    assert AuditEvent.objects.filter(action="request").count() == 1
