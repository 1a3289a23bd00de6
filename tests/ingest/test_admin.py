"""The stewards' admin flow: upload → preview (normalised values, errors marked) → confirm."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/admin/connectors/upload/gas-pipeline-pressure/"


def _csv(rows=30, **options):
    return SimpleUploadedFile("gas.csv", gas_csv(rows, **options).encode("utf-8"))


def test_upload_preview_confirm_result(client, steward, gas):
    client.force_login(steward)
    page = client.get(URL)
    assert page.status_code == 200
    assert "上传并预览" in page.content.decode()

    response = client.post(URL, {"file": _csv(30, bad_row=1)})
    batch = UploadBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{URL}{batch.pk}/preview/"
    assert batch.status == BatchStatus.RECEIVED and batch.file.name

    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert preview.status_code == 200
    assert len(preview.context["rows"]) == 20
    first = preview.context["rows"][0]
    # Stored values shown as people read them: the district by name (stored as its
    # GB/T 2260 code, shown as the cell's title), times in Asia/Shanghai, coordinates to
    # six decimals (stored as the GCJ-02 → WGS-84 shift computed them).
    assert [c["value"] for c in first["cells"]] == [
        "GP000000",
        "2025-07-01 14:30:00",
        "黄浦区",
        "0.35",
        "21.5",
        "中压A",
        "31.23192",
        "121.465451",
    ]
    assert [c["stored"] for c in first["cells"]][2::4] == ["310101", "31.23191987362987"]
    assert '<td title="310101">黄浦区</td>' in html
    assert "<td>2025-07-01 14:30:00</td>" in html and "06:30:00Z" not in html
    bad = preview.context["rows"][1]
    assert bad["errors"] and any(c["bad"] for c in bad["cells"])
    assert 'class="bad"' in html
    assert not Record.objects.exists()

    # A row of the preview is bad: an all-or-nothing batch would only be rejected, so
    # there is no 确认入库, the page says why, and a forged confirm is refused.
    assert 'name="confirm"' not in html and 'id="confirm-refused"' in html
    assert "预览中已有 1 行有错误，整批入库必然被拒绝" in html
    refused = client.post(response["Location"], {"confirm": "1"})
    assert refused.status_code == 400
    assert "整批入库必然被拒绝" in refused.content.decode()
    batch.refresh_from_db()
    assert batch.status == BatchStatus.RECEIVED and not batch.accept_valid_rows

    # The offered choice: load the valid rows, keep the bad one as a correction batch.
    confirmed = client.post(response["Location"], {"accept_valid_rows": "1"})
    assert confirmed["Location"] == f"{URL}{batch.pk}/"
    batch.refresh_from_db()
    assert (batch.status, batch.inserted, batch.rejected) == (BatchStatus.PARTIAL, 29, 1)
    assert batch.accept_valid_rows and Record.objects.count() == 29

    result = client.get(confirmed["Location"])
    assert result.status_code == 200
    assert f"/api/v1/batches/{batch.pk}/" in result.content.decode()


def test_confirm_loads_and_result_page_polls(client, steward, gas):
    client.force_login(steward)
    response = client.post(URL, {"file": _csv(25)})
    client.post(response["Location"], {"confirm": "1"})
    batch = UploadBatch.objects.get()
    assert batch.status == BatchStatus.LOADED and batch.inserted == 25
    assert Record.objects.count() == 25
    api = client.get(f"/api/v1/batches/{batch.pk}/")
    assert api.json()["status"] == "loaded"
    # The same file again goes straight to the result of the earlier batch.
    again = client.post(URL, {"file": _csv(25)})
    assert again["Location"] == f"{URL}{batch.pk}/"
    assert UploadBatch.objects.count() == 1


def test_resource_change_page_links_upload(client, steward, gas):
    client.force_login(steward)
    page = client.get(f"/admin/catalog/dataresource/{gas.pk}/change/")
    assert page.status_code == 200
    assert URL in page.content.decode()


def test_others_get_404(client, make_user, gas):
    client.force_login(make_user("water", steward=True))
    assert client.get(URL).status_code == 404
    client.force_login(make_user("housing", steward=False, username="plain-staff"))
    assert client.get(URL).status_code == 404
