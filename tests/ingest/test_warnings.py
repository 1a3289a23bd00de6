"""Nothing silent: a load's warnings (stored as code + column + parameters) reach the CLI
text, its --json, the batch API (in the caller's language) and the admin batch page; a
missing column names the closest file headers; no stray library warnings."""

from __future__ import annotations

import json
import logging
import warnings
from io import StringIO

import pandas as pd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation

from connectors.base import InputError
from connectors.normalisers.schema import FieldInfo
from connectors.normalisers.validation import field_errors, non_capturing
from connectors.profiles.registry import GenericConnector
from hub.records.models import UploadBatch

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
HEADER = "监测点编号,监测时间,所属区,管网压力(MPa),介质温度,备注,压力级制,纬度,经度"


def _csv() -> str:
    # Row 3 has latitude and longitude the wrong way round; row 4 a pressure in kPa.
    return (
        f"{HEADER}\n"
        "GP000001,2025-07-01 14:30:00,黄浦区,0.35,21.5,x,中压A,31.23,121.47\n"
        "GP000002,2025-07-01 14:30:00,黄浦区,0.35,21.5,x,中压A,121.47,31.23\n"
        "GP000003,2025-07-01 14:30:00,黄浦区,350kPa,21.5,x,中压A,31.23,121.47\n"
    )


@pytest.fixture(autouse=True)
def _chinese_after():
    """Requests in English leave English active in this thread: restore the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


EXPECTED_ZH = [
    {"code": "ignored_column", "column": "备注", "message": "该列不属于本资源，已忽略。"},
    {
        "code": "converted_values",
        "column": "管网压力(MPa)",
        "message": "1 个值带有单位 kPa，已换算为 MPa（首个为第 4 行）。",
    },
    {
        "code": "swapped_coordinates",
        "column": "纬度",
        "message": "1 行的纬度与经度填反，已对调（首个为第 3 行）。",
    },
]


def test_warnings_in_the_api_in_the_callers_language(api_client, steward, gas):
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.txt.xlsx", _csv().encode(), content_type="text/csv")
    response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "loaded" and body["inserted"] == 3
    assert body["warnings"] == [
        {
            "code": "extension_mismatch",
            "column": "",
            "message": "文件扩展名为 .xlsx，但内容是 CSV，已按 CSV 读取。",
        },
        *EXPECTED_ZH,
    ]
    # Stored as codes and parameters, not as text of one language.
    stored = UploadBatch.objects.get().warnings
    assert stored[1] == {"code": "ignored_column", "column": "备注", "params": {}}
    english = api_client.get(body["url"], HTTP_ACCEPT_LANGUAGE="en").json()["warnings"]
    assert [w["message"] for w in english] == [
        "The file extension is .xlsx, but the content is CSV; it was read as CSV.",
        "This column is not part of the resource and was ignored.",
        "1 values carried the unit kPa and were converted to MPa (first: row 4).",
        "Latitude and longitude were swapped in 1 rows and were corrected (first: row 3).",
    ]


def test_warnings_in_the_schema(api_client, steward, gas):
    api_client.force_authenticate(steward)
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    batch = schema["components"]["schemas"]["Batch"]["properties"]["warnings"]
    assert batch["type"] == "array"
    warning = schema["components"]["schemas"]["BatchWarning"]["properties"]
    assert set(warning) == {"code", "column", "message"}


def test_warnings_in_cli_text_and_json(gas, tmp_path):
    path = tmp_path / "gas.csv"
    path.write_text(_csv(), encoding="utf-8")
    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["warnings"] == EXPECTED_ZH

    path.write_text(_csv().replace("0.35", "0.36"), encoding="utf-8")
    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, stdout=out)
    text = out.getvalue()
    assert "  warning [备注]: 该列不属于本资源，已忽略。" in text
    assert "  warning [纬度]: 1 行的纬度与经度填反，已对调（首个为第 3 行）。" in text


def test_warnings_on_the_admin_batch_page(client, steward, gas, tmp_path):
    path = tmp_path / "gas.csv"
    path.write_text(_csv(), encoding="utf-8")
    call_command("ingest", str(path), "--resource", gas.code, stdout=StringIO())
    batch = UploadBatch.objects.get()
    client.force_login(steward)
    page = client.get(f"/admin/records/uploadbatch/{batch.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert '<table class="batch-warnings">' in html
    assert "<td>备注</td><td>该列不属于本资源，已忽略。</td>" in html
    english = client.get(
        f"/admin/records/uploadbatch/{batch.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "This column is not part of the resource and was ignored." in english


def test_missing_column_names_the_closest_headers(gas, tmp_path):
    from connectors.pipeline.parsing import parse_file

    path = tmp_path / "gas.csv"
    path.write_text(
        "监测点编号,监测时刻,区县,管网压力(MPa),纬度,经度\n"
        "GP1,2025-07-01 14:30,黄浦区,0.3,31.2,121.4\n",
        encoding="utf-8",
    )
    with translation.override("zh-hans"), pytest.raises(InputError) as info:
        parse_file(path=path, filename="gas.csv", resource=gas, connector=GenericConnector())
    assert info.value.message == (
        "缺少必填列：监测时间、所属区（“监测时间”最接近的文件列：监测时刻、监测点编号；"
        "“所属区”最接近的文件列：区县）"
    )


def test_pattern_with_groups_warns_nothing():
    info = FieldInfo(
        name="point_id", label="编号", field_type="string", required=True, pattern=r"^(GP)\d{6}$"
    )
    values = pd.Series(["GP000001", "XX1"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        problems, failed = field_errors(
            info=info,
            column="编号",
            values=values,
            text=values,
            missing=pd.Series([False, False]),
            bad=pd.Series([False, False]),
            rows=[2, 3],
        )
    assert failed.tolist() == [False, True]
    assert problems[0].row == 3
    assert non_capturing(r"^(GP)\d{6}(?:x)?[(]$") == r"^(?:GP)\d{6}(?:x)?[(]$"


@pytest.mark.skipif(
    not settings.CELERY_TASK_ALWAYS_EAGER, reason="only the embedded default (no broker)"
)
def test_in_process_tasks_build_no_hostless_connection(caplog):
    from hub.celery import app

    caplog.set_level(logging.WARNING, logger="kombu")
    with app.producer_or_acquire() as producer:
        assert producer.connection.hostname == "localhost"
    assert not [r for r in caplog.records if r.name.startswith("kombu")]
