"""API key scopes: "read" keys read, "push" keys push to their own department's resources."""

from __future__ import annotations

import importlib
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command

from hub.records.models import Record, UploadBatch
from permissions import api_key_services
from permissions.models import AuditEvent, PartnerApiKey, default_api_key_scopes
from tests.ingest.helpers import gas_csv

# Real commits: pushed batches load on commit, in-process.
pytestmark = pytest.mark.django_db(transaction=True)

PUSH = "/api/v1/resources/gas-pipeline-pressure/records/"  # provided by housing
UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
OTHER = "/api/v1/resources/road-ponding/records/"  # provided by water, 无条件共享
RECORD = {
    "point_id": "GP000123",
    "observed_at": "2025-07-01T14:30:00+08:00",
    "district": "310101",
    "pressure": 0.35,
}


def push(client, url: str = PUSH, records=None, **headers):
    return client.post(url, records or [RECORD], format="json", headers=headers)


def test_read_key_reads_but_cannot_push(catalog, key_client):
    client, api_key = key_client("housing")
    assert api_key.scopes == ["read"]
    assert client.get("/api/v1/resources/").status_code == 200
    assert client.get(PUSH).status_code == 200
    response = push(client)
    assert response.status_code == 403
    assert "push" in response.json()["detail"]
    upload = client.post(
        UPLOAD, {"file": SimpleUploadedFile("gas.csv", gas_csv(3).encode())}, format="multipart"
    )
    assert upload.status_code == 403
    assert not UploadBatch.objects.exists()


def test_push_key_pushes_to_its_own_department(catalog, key_client):
    client, api_key = key_client("housing", scopes=["push"])
    response = push(client, **{"Idempotency-Key": "scada-1"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "loaded" and body["inserted"] == 1
    batch = UploadBatch.objects.get(pk=body["id"])
    assert batch.api_key_prefix == api_key.prefix
    assert batch.department.code == "housing"
    assert batch.uploaded_by.username == "svc-housing"
    assert Record.objects.get().data["pressure"] == 0.35
    event = AuditEvent.objects.get(action="upload")
    assert (event.api_key_prefix, event.actor, event.resource_code, event.outcome) == (
        api_key.prefix,
        "svc-housing",
        "gas-pipeline-pressure",
        "ok",
    )
    assert event.detail["batch"] == batch.pk
    # Files too; still no steward role on the service user.
    upload = client.post(
        UPLOAD, {"file": SimpleUploadedFile("gas.csv", gas_csv(3).encode())}, format="multipart"
    )
    assert upload.status_code == 201, upload.content
    assert upload.json()["inserted"] == 3
    api_key.user.refresh_from_db()
    assert not api_key.user.has_perm("catalog.upload_records")
    # Without "read" the key cannot read, not even its own batch.
    refused = client.get(f"/api/v1/batches/{batch.pk}/")
    assert refused.status_code == 403 and "read" in refused.json()["detail"]
    assert client.get(PUSH).status_code == 403


def test_push_key_on_another_departments_resource_is_404(catalog, key_client):
    client, api_key = key_client("housing", scopes=["read", "push"])
    assert client.get(OTHER).status_code == 200  # readable: 无条件共享
    assert push(client, OTHER).status_code == 404
    assert push(client, "/api/v1/resources/no-such-resource/records/").status_code == 404
    assert not UploadBatch.objects.exists()
    denied = AuditEvent.objects.filter(action="upload", outcome="denied")
    assert sorted(denied.values_list("resource_code", "api_key_prefix")) == [
        ("no-such-resource", api_key.prefix),
        ("road-ponding", api_key.prefix),
    ]


def test_read_and_push_key_pushes_and_polls(catalog, key_client):
    client, api_key = key_client("housing", scopes=["read", "push"])
    assert api_key.scopes == ["push", "read"]
    response = push(client)
    assert response.status_code == 201, response.content
    detail = client.get(f"/api/v1/batches/{response.json()['id']}/")
    assert detail.status_code == 200 and detail.json()["status"] == "loaded"
    records = client.get(PUSH).json()["results"]
    assert [r["point_id"] for r in records] == ["GP000123"]


def test_read_key_files_access_requests(catalog, key_client):
    """The access-request workflow writes no data: "read" is enough."""
    client, _ = key_client("cityops")
    response = client.post(
        "/api/v1/access-requests/",
        {"resource": "fire-incidents", "purpose": "联动处置", "fields": ["incident_id"]},
        format="json",
    )
    assert response.status_code == 201, response.content
    push_only, _ = key_client("cityops", scopes=["push"])
    assert push_only.get("/api/v1/access-requests/").status_code == 403


def test_session_users_are_not_affected(catalog, make_user, api_client):
    api_client.force_authenticate(make_user("housing", steward=True))
    assert push(api_client).status_code == 201
    api_client.force_authenticate(make_user("water"))  # staff of another department
    assert push(api_client).status_code == 404


def test_create_api_key_command_scopes(catalog):
    out = StringIO()
    call_command(
        "create_api_key",
        "--department",
        "housing",
        "--name",
        "SCADA",
        "--scope",
        "read",
        "--scope",
        "push",
        stdout=out,
    )
    assert "scopes: push read\n" in out.getvalue()
    key = PartnerApiKey.objects.get(name="SCADA")
    assert key.scopes == ["push", "read"]
    event = AuditEvent.objects.get(action="create_key")
    assert event.detail["scopes"] == ["push", "read"] and event.api_key_prefix == key.prefix
    call_command("create_api_key", "--department", "housing", "--name", "大屏", stdout=StringIO())
    assert PartnerApiKey.objects.get(name="大屏").scopes == ["read"]
    with pytest.raises(CommandError):
        call_command("create_api_key", "--department", "housing", "--name", "x", "--scope", "write")


def test_existing_keys_get_read_scope():
    migration = importlib.import_module("permissions.migrations.0004_api_key_scopes")
    (operation,) = migration.Migration.operations
    assert operation.field.default is default_api_key_scopes
    assert default_api_key_scopes() == ["read"]


def test_scope_change_is_audited_and_applies_next_request(catalog, key_client):
    client, api_key = key_client("housing", scopes=["read", "push"])
    assert push(client).status_code == 201
    change = api_key_services.set_api_key_scopes(user=None, api_key=api_key, scopes=["read"])
    assert (change.before, change.after) == (["push", "read"], ["read"])
    assert push(client).status_code == 403
    event = AuditEvent.objects.get(action="key_scopes")
    assert event.detail == {"before": ["push", "read"], "after": ["read"]}
    assert event.api_key_prefix == api_key.prefix
    # Setting the same scopes again changes nothing and logs nothing.
    assert not api_key_services.set_api_key_scopes(
        user=None, api_key=api_key, scopes=["read"]
    ).changed
    assert AuditEvent.objects.filter(action="key_scopes").count() == 1
    with pytest.raises(ValidationError):
        api_key_services.set_api_key_scopes(user=None, api_key=api_key, scopes=[])


def test_scope_change_needs_the_keys_door(catalog, key_client, make_user):
    _client, api_key = key_client("housing")
    with pytest.raises(PermissionDenied):
        api_key_services.set_api_key_scopes(
            user=make_user("fire"), api_key=api_key, scopes=["push"]
        )
    api_key.refresh_from_db()
    assert api_key.scopes == ["read"]
    assert not AuditEvent.objects.filter(action="key_scopes").exists()


def test_admin_shows_and_changes_scopes(catalog, key_client, make_user, client):
    _reader, reader = key_client("housing")
    _pusher, pusher = key_client("water", scopes=["read", "push"])
    admin_user = make_user(superuser=True, username="root")
    client.force_login(admin_user)
    listing = client.get("/admin/permissions/partnerapikey/").content.decode()
    assert listing.count("读取、推送") == 1 and listing.count(">读取<") == 1
    url = f"/admin/permissions/partnerapikey/{pusher.pk}/change/"
    form = client.get(url).content.decode()
    assert 'name="scopes" value="read" id="id_scopes_0" checked>' in form
    assert 'name="scopes" value="push" id="id_scopes_1" checked>' in form
    assert 'class="readonly"><a href="/admin/catalog/department/' in form  # binding fixed
    response = client.post(url, {"name": pusher.name, "scopes": ["read"], "expiry_date_0": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    pusher.refresh_from_db()
    assert pusher.scopes == ["read"]
    event = AuditEvent.objects.get(action="key_scopes")
    assert (event.actor, event.api_key_prefix) == ("root", pusher.prefix)
    assert event.detail == {"before": ["push", "read"], "after": ["read"]}
    # At least one scope.
    response = client.post(url, {"name": pusher.name, "expiry_date_0": ""})
    assert response.status_code == 200
    reader.refresh_from_db()
    assert reader.scopes == ["read"]
