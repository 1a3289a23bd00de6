"""Every upload, every load outcome and every refused upload joins the audit chain."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from permissions.models import AuditEvent
from tests.ingest.helpers import gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"


def _upload(client, text: str):
    file = SimpleUploadedFile("gas.csv", text.encode("utf-8"), content_type="text/csv")
    return client.post(UPLOAD, {"file": file}, format="multipart")


def test_upload_and_load_are_audited(api_client, steward, gas):
    api_client.force_authenticate(steward)
    text = gas_csv(5)
    batch = _upload(api_client, text).json()
    assert batch["status"] == "loaded"
    events = list(
        AuditEvent.objects.order_by("sequence").values(
            "action", "actor", "resource_code", "rows", "outcome", "detail"
        )
    )
    upload, load = [e for e in events if e["action"] in ("upload", "load")]
    assert (upload["action"], upload["actor"], upload["resource_code"], upload["outcome"]) == (
        "upload",
        steward.username,
        "gas-pipeline-pressure",
        "ok",
    )
    assert upload["detail"]["batch"] == batch["id"]
    assert upload["detail"]["duplicate_of"] is None
    assert (load["action"], load["rows"]) == ("load", 5)
    assert load["detail"] == {
        "batch": batch["id"],
        "status": "loaded",
        "rows_read": 5,
        "inserted": 5,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }

    # The identical file is a no-op, audited as such.
    again = _upload(api_client, text)
    assert again.status_code == 200
    last = AuditEvent.objects.order_by("-sequence").first()
    assert (last.action, last.detail["duplicate_of"]) == ("upload", batch["id"])


def test_refused_upload_is_audited_as_denied(api_client, make_user, gas):
    outsider = make_user("water", steward=True)
    api_client.force_authenticate(outsider)
    assert _upload(api_client, gas_csv(2)).status_code == 404
    event = AuditEvent.objects.get(action="upload")
    assert (event.actor, event.outcome, event.resource_code) == (
        outsider.username,
        "denied",
        "gas-pipeline-pressure",
    )


def test_chain_still_verifies_after_uploads(api_client, steward, gas, capsys):
    api_client.force_authenticate(steward)
    _upload(api_client, gas_csv(3))
    call_command("verify_audit")
    assert capsys.readouterr().out == "audit chain intact: 2 events\n"  # upload + load
