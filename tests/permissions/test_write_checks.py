"""Grants and keys: each write checks the caller on the object, writes and audits in one
transaction; a refused write leaves neither the change nor an event (issue 13 item 4)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from hub.catalog.models import Department
from permissions import api_key_services, services
from permissions.models import AccessGrant, AuditEvent, PartnerApiKey

pytestmark = pytest.mark.django_db


def events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


def test_only_the_provider_grants(catalog, make_user):
    fire = catalog["resources"]["fire-incidents"]
    kwargs = {
        "resource": fire,
        "department": Department.objects.get(code="cityops"),
        "expires_at": timezone.now() + dt.timedelta(days=1),
    }
    with pytest.raises(PermissionDenied):
        services.grant_access(user=make_user("water"), **kwargs)
    assert not AccessGrant.objects.exists() and events("grant") == []
    grant = services.grant_access(user=make_user("fire"), **kwargs)
    [event] = events("grant")
    assert event.detail["grant"] == grant.pk and event.actor == "fire-staff"


def test_only_the_provider_revokes_a_grant(catalog, make_user, grant):
    active = grant(catalog["resources"]["fire-incidents"], "cityops")
    with pytest.raises(PermissionDenied):
        services.revoke_grant(user=make_user("cityops"), grant=active, reason="想撤")
    assert AccessGrant.objects.get(pk=active.pk).revoked_at is None
    assert events("revoke") == []
    services.revoke_grant(user=make_user("fire"), grant=active, reason="到期前收回")
    services.revoke_grant(user=make_user("fire", username="fire-2"), grant=active)
    assert AccessGrant.objects.get(pk=active.pk).revoked_at is not None
    assert len(events("revoke")) == 1  # revoking a revoked grant writes nothing


def test_keys_are_revoked_by_their_department_once(catalog, make_user, key_client):
    _client, api_key = key_client("bigdata")
    perm = Permission.objects.get(codename="change_partnerapikey")
    outsider, owner = make_user("water"), make_user("bigdata")
    for user in (outsider, owner):
        user.user_permissions.add(perm)
    outsider, owner = (type(u).objects.get(pk=u.pk) for u in (outsider, owner))
    with pytest.raises(PermissionDenied):
        api_key_services.revoke_api_key(user=outsider, api_key=api_key)
    assert not PartnerApiKey.objects.get(pk=api_key.pk).revoked
    assert events("revoke_key") == []
    api_key_services.revoke_api_key(user=owner, api_key=api_key)
    api_key_services.revoke_api_key(user=owner, api_key=api_key)
    assert PartnerApiKey.objects.get(pk=api_key.pk).revoked
    [event] = events("revoke_key")
    assert event.detail == {"department": "bigdata"} and event.actor == "bigdata-staff"
