"""The steward's mapping-assistant page: offered on the result page of a file rejected for
its columns, shown only to the provider department's stewards (others 404), corrections
previewed, saved as an audited profile version."""

from __future__ import annotations

import pytest
from django.urls import reverse

from connectors.models import ConnectorProfile
from hub.records.models import UploadBatch
from permissions.models import AuditEvent
from tests.ingest.test_proposal import ODD, _ingest, _odd_file

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rejected(gas, tmp_path):
    path, _truth = _odd_file(tmp_path, gas)
    summary, _code = _ingest(path)
    assert summary["status"] == "rejected"
    return UploadBatch.objects.get(pk=summary["batch"])


def _url(batch) -> str:
    return reverse("admin:connectors_upload_propose", args=[batch.resource.code, batch.pk])


def test_result_page_offers_the_assistant_to_stewards(client, steward, make_user, rejected):
    result = reverse("admin:connectors_batch_result", args=[rejected.resource.code, rejected.pk])
    client.force_login(steward)
    page = client.get(result).content.decode()
    assert "生成映射建议" in page and _url(rejected) in page
    superuser = make_user(superuser=True, username="root")
    client.force_login(superuser)
    assert _url(rejected) in client.get(result).content.decode()


@pytest.mark.parametrize(
    "who",
    [
        {"department": "housing"},  # provider staff, not a steward
        {"department": "water", "steward": True},  # another department's steward
        {"department": "fire"},
    ],
)
def test_others_get_404(client, make_user, rejected, who):
    client.force_login(make_user(who.pop("department"), **who))
    assert client.get(_url(rejected)).status_code == 404
    assert client.post(_url(rejected), {"save": "1"}).status_code == 404
    assert not ConnectorProfile.objects.exists()


def test_steward_corrects_previews_and_saves(client, steward, rejected):
    client.force_login(steward)
    page = client.get(_url(rejected))
    assert page.status_code == 200
    proposal = page.context["proposal"]
    assert {m.header: m.field for m in proposal.mapping} == {v: k for k, v in ODD.items()}
    assert len(page.context["proposal"].preview) == 10
    form = {f"header-{i}": h for i, h in enumerate(proposal.headers)}
    form.update({f"map-{i}": proposal.field_for(h) for i, h in enumerate(proposal.headers)})
    form.update({"unit-pressure": "kPa", "unit-temperature": "°C", "crs": "gcj02"})
    form.update({"layout-observed_at": "%d/%m/%Y %H:%M", "timezone": ""})
    # Preview a wrong correction: temperature ignored, pressure read as MPa.
    wrong = {**form, "map-4": "", "unit-pressure": "MPa", "refresh": "1"}
    preview = client.post(_url(rejected), wrong)
    assert preview.status_code == 200
    shown = preview.context["proposal"]
    assert "介质温度值" in shown.ignored
    assert any("管网压力" in e for row in shown.preview for e in row["errors"])  # > 1.6 MPa
    assert not ConnectorProfile.objects.exists()
    # A bad layout is refused with its message, nothing saved.
    bad = client.post(_url(rejected), {**form, "layout-observed_at": "DD/MM", "save": "1"})
    assert bad.status_code == 200 and bad.context["errors"]
    assert not ConnectorProfile.objects.exists()
    # Save the right one.
    saved = client.post(_url(rejected), {**form, "save": "1"})
    assert saved.status_code == 302
    assert saved["Location"] == reverse("admin:connectors_upload", args=[rejected.resource.code])
    profile = ConnectorProfile.objects.get()
    assert (profile.version, profile.created_by_id, profile.source_crs) == (1, steward.pk, "gcj02")
    assert profile.source_units["pressure"] == "kPa"
    assert profile.header_signature == proposal.signature
    assert AuditEvent.objects.filter(action="profile", actor_id=steward.pk).count() == 1
    read = AuditEvent.objects.filter(action="read", actor_id=steward.pk).latest("pk")
    assert read.detail["view"] == "proposal" and read.detail["batch"] == rejected.pk
