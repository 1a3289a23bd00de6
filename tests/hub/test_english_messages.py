"""Messages the hub wrote and stored (batch messages, row errors, hazard names) are shown
in the viewer's language: Chinese as stored, English in English mode."""

from __future__ import annotations

import pytest
from django.utils import translation

from hub.catalog.stored_text import localized, template_of

RESOURCE = "gas-leak-alarms"
ROWS = [
    {
        "alarm_id": "GA1",
        "occurred_at": "2025-07-01 09:12:00",
        "district": "徐汇区",
        "concentration": 35,
    },
    {
        "alarm_id": "GA2",
        "occurred_at": "2025-07-01 10:40:00",
        "district": "火星区",
        "concentration": 12,
    },
]


def test_a_filled_msgid_is_found_with_its_parameters():
    assert template_of("已入库：新增 3，更新 0，未变 1。") == (
        "已入库：新增 %(i)d，更新 %(u)d，未变 %(n)d。",
        {"i": 3, "u": 0, "n": 1},
    )
    with translation.override("en"):
        assert localized("已入库：新增 3，更新 0，未变 1。") == (
            "Loaded: 3 inserted, 0 updated, 1 unchanged."
        )
        assert localized("必填项为空") == "A required value is empty"
        # Not a hub message (an exception's text, a value): shown as stored.
        assert localized("ValueError: 坏数据") == "ValueError: 坏数据"
    with translation.override("zh-hans"):
        assert localized("必填项为空") == "必填项为空"
        # Written in English by an older eager load: shown in Chinese all the same.
        assert localized("Loaded: 3 inserted, 0 updated, 1 unchanged.") == (
            "已入库：新增 3，更新 0，未变 1。"
        )
        assert localized("HTTP 500") == "HTTP 500"


@pytest.fixture(params=["zh-hans", "en"])
def rejected_batch(request, catalog):
    """A rejected batch, loaded while the request language is Chinese or English."""
    from connectors import services
    from connectors.pipeline.load import run_batch

    batch = services.ingest_records(
        resource=catalog["resources"][RESOURCE],
        department=catalog["departments"]["housing"],
        records=ROWS,
    ).batch
    # The load is enqueued on commit, which a test transaction never reaches: run it here,
    # as an eager task runs inside the uploader's request (in their language).
    with translation.override(request.param):
        batch = run_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    assert batch.status == "rejected", batch.message
    return batch


def test_batch_message_and_row_errors_follow_the_viewer_language(
    rejected_batch, make_user, api_client
):
    api_client.force_authenticate(make_user("housing", steward=True))
    url = f"/api/v1/batches/{rejected_batch.pk}/"
    chinese = api_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    english = api_client.get(url, HTTP_ACCEPT_LANGUAGE="en").json()
    assert chinese["message"] == rejected_batch.message
    assert "整批未入库" in chinese["message"]
    assert english["message"] == (
        "Rows with errors: 1 (1 errors in total). Nothing in this batch was loaded."
    )
    assert chinese["errors"][0]["message"] == "无法识别的行政区：'火星区'"
    assert english["errors"][0]["message"] == "Unrecognised administrative division: '火星区'"
    # Stored once, in the source language, whatever language the load ran in.
    rejected_batch.refresh_from_db()
    assert "整批未入库" in rejected_batch.message
    assert rejected_batch.errors[0]["message"] == "无法识别的行政区：'火星区'"


def test_batch_admin_page_in_english(rejected_batch, make_user, client):
    client.force_login(make_user("housing", steward=True))
    url = f"/admin/records/uploadbatch/{rejected_batch.pk}/change/"
    english = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Nothing in this batch was loaded." in english
    assert "Unrecognised administrative division: &#x27;火星区&#x27;" in english
    chinese = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "整批未入库" in chinese and "无法识别的行政区" in chinese
