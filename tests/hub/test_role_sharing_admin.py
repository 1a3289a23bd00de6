"""Department staff reach the sharing workflow in the admin through their role groups.

Regression: the demo role groups had no permission on access requests, so department
staff got 403 on the admin's request pages and a provider could not approve there.
"""

from __future__ import annotations

import pytest

from permissions.models import AccessGrant, AccessRequest, RequestStatus

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/permissions/accessrequest/"


def _file_request(client, catalog, make_user) -> AccessRequest:
    client.force_login(make_user("cityops"))
    assert client.get(f"{CHANGELIST}add/").status_code == 200
    response = client.post(
        f"{CHANGELIST}add/",
        {
            "resource": catalog["resources"]["gas-leak-alarms"].pk,
            "requester": catalog["departments"]["cityops"].pk,
            "purpose": "联动处置",
            "fields": "[]",
            "districts": "[]",
            "duration_days": 30,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return AccessRequest.objects.get()


def test_staff_file_and_provider_staff_approve_in_admin(catalog, make_user, client):
    pending = _file_request(client, catalog, make_user)
    assert pending.status == RequestStatus.PENDING

    client.force_login(make_user("housing"))
    assert str(pending.pk) in client.get(CHANGELIST).content.decode()
    response = client.post(CHANGELIST, {"action": "approve", "_selected_action": [pending.pk]})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == RequestStatus.APPROVED
    assert AccessGrant.objects.get(request=pending).department.code == "cityops"
    assert client.get("/admin/permissions/accessgrant/").status_code == 200


def test_other_departments_neither_see_nor_approve(catalog, make_user, client):
    pending = _file_request(client, catalog, make_user)

    client.force_login(make_user("water"))
    listing = client.get(CHANGELIST)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 0
    client.post(CHANGELIST, {"action": "approve", "_selected_action": [pending.pk]})
    pending.refresh_from_db()
    assert pending.status == RequestStatus.PENDING
    assert client.get(f"{CHANGELIST}{pending.pk}/change/").status_code == 404
