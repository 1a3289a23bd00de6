"""Rows and columns a steward hid in Excel are loaded as usual and said: the notices
``hidden_rows`` and ``hidden_column`` reach the CLI (text and --json) and the batch API in
the caller's language."""

from __future__ import annotations

import json
import re
import zipfile
from io import StringIO

import openpyxl
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import translation

from hub.records.models import Record, UploadBatch
from tests.ingest.helpers import HEADER

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture(autouse=True)
def _chinese_after():
    """Requests in English leave English active in this thread: restore the default."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def gas_xlsx(path, *, hide: bool) -> None:
    """A title row, the header (and a 备注 column) in row 2, ten readings in rows 3-12;
    with ``hide``: the title and rows 5 and 9 hidden, an empty row 20 hidden (it loads
    nothing), 介质温度 (column E) and 备注 (column I, not a field) hidden."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["燃气管网压力监测（内部）"])
    sheet.append([*HEADER.split(","), "备注"])
    for number in range(10):
        reading = [f"GP{number:06d}", "2025-07-01 14:30:00", "黄浦区", 0.35, 21.5, "中压A"]
        sheet.append([*reading, 31.23, 121.47, "x"])
    if hide:
        for row in (1, 5, 9, 20):
            sheet.row_dimensions[row].hidden = True
        sheet.column_dimensions["E"].hidden = True
        sheet.column_dimensions["I"].hidden = True
    book.save(path)


HIDDEN_ROWS = {"code": "hidden_rows", "column": "", "params": {"rows": 2, "first": 5}}
HIDDEN_COLUMN = {"code": "hidden_column", "column": "介质温度", "params": {"letter": "E"}}
ZH_ROWS = "Excel 中隐藏的 2 行已照常导入（第一行：第 5 行）；如这些行不应导入，请删除后重新上传。"
ZH_COLUMN = "该列在 Excel 中是隐藏的（E 列），已照常导入；如该列不应导入，请删除后重新上传。"
EN_ROWS = (
    "2 rows hidden in Excel were imported as usual (first: row 5); "
    "if they should not be imported, delete them and upload again."
)
EN_COLUMN = (
    "This column is hidden in Excel (column E) and was imported as usual; "
    "if it should not be imported, delete it and upload again."
)


def test_hidden_rows_and_columns_in_cli_text_and_json(gas, tmp_path):
    path = tmp_path / "gas.xlsx"
    gas_xlsx(path, hide=True)
    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["inserted"] == 10  # the hidden rows are loaded as usual
    assert summary["warnings"] == [
        {"code": "hidden_rows", "column": "", "message": ZH_ROWS},
        {"code": "ignored_column", "column": "备注", "message": "该列不属于本资源，已忽略。"},
        {"code": "hidden_column", "column": "介质温度", "message": ZH_COLUMN},
    ]
    batch = UploadBatch.objects.get()
    assert [w for w in batch.warnings if w["code"].startswith("hidden")] == [
        HIDDEN_ROWS,
        HIDDEN_COLUMN,
    ]
    hidden = Record.objects.get(data__point_id="GP000002")  # sheet row 5
    assert hidden.source_row == 5 and hidden.data["temperature"] == 21.5

    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, stdout=out)
    text = out.getvalue()
    assert f"  warning: {ZH_ROWS}" in text
    assert f"  warning [介质温度]: {ZH_COLUMN}" in text


def test_hidden_rows_in_the_api_in_english(api_client, steward, gas, tmp_path):
    path = tmp_path / "gas.xlsx"
    gas_xlsx(path, hide=True)
    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.xlsx", path.read_bytes(), content_type=XLSX)
    response = api_client.post(
        UPLOAD, {"file": upload}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "loaded" and body["inserted"] == 10
    english = {w["code"]: w["message"] for w in body["warnings"]}
    assert english["hidden_rows"] == EN_ROWS
    assert english["hidden_column"] == EN_COLUMN
    chinese = api_client.get(body["url"], HTTP_ACCEPT_LANGUAGE="zh-hans").json()["warnings"]
    assert {"code": "hidden_rows", "column": "", "message": ZH_ROWS} in chinese


ZH_DEFAULT = (
    "本工作表的行默认隐藏（Excel 的 zeroHeight 设置或默认行高为 0）：文件中未写出的行在 Excel 中"
    "隐藏，它们不含数据；含数据的行已照常导入，但其中没有自身行高的行在 Excel 或其他软件中可能"
    "不显示，行数无法确切得知。如有不应导入的行，请删除后重新上传。"
)
EN_DEFAULT = (
    "Rows of this sheet are hidden by default (Excel's zeroHeight setting, or a default row "
    "height of 0): rows not written in the file are hidden in Excel and hold no data; the rows "
    "with data were imported as usual, but those without a height of their own may not show "
    "in Excel or other programs, so how many cannot be known exactly. If some rows should not "
    "be imported, delete them and upload again."
)


def zero_height_xlsx(path, *zero_high: int) -> None:
    """The plain file with its rows hidden by default, and the rows ``zero_high`` zero
    high."""
    gas_xlsx(path, hide=False)
    source = zipfile.ZipFile(path)
    parts = {info.filename: source.read(info) for info in source.infolist()}
    source.close()
    xml = parts["xl/worksheets/sheet1.xml"].decode()
    sheet_format = '<sheetFormatPr defaultRowHeight="15" zeroHeight="1"/>'
    xml = re.sub(r"<sheetFormatPr [^>]*/>", sheet_format, xml)
    for number in zero_high:
        xml = xml.replace(f'<row r="{number}">', f'<row r="{number}" ht="0">')
    parts["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name, body in parts.items():
            target.writestr(name, body)


def test_rows_hidden_by_default_in_cli_json_and_api(api_client, steward, gas, tmp_path):
    path = tmp_path / "gas.xlsx"
    zero_height_xlsx(path, 7)  # GP000004
    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["inserted"] == 10  # every row with data, the zero-high one too
    zh_rows = ZH_ROWS.replace("2 行", "1 行").replace("第 5 行", "第 7 行")
    assert summary["warnings"][:2] == [
        {"code": "hidden_rows", "column": "", "message": zh_rows},
        {"code": "hidden_by_default", "column": "", "message": ZH_DEFAULT},
    ]
    batch = UploadBatch.objects.get()
    assert batch.warnings[:2] == [
        {"code": "hidden_rows", "column": "", "params": {"rows": 1, "first": 7}},
        {"code": "hidden_by_default", "column": "", "params": {}},
    ]
    zero_high = Record.objects.get(data__point_id="GP000004")
    assert zero_high.source_row == 7 and zero_high.data["pressure"] == 0.35

    api_client.force_authenticate(steward)
    path = tmp_path / "again.xlsx"
    zero_height_xlsx(path, 8, 10)  # another file: not a no-op upload
    upload = SimpleUploadedFile("gas.xlsx", path.read_bytes(), content_type=XLSX)
    response = api_client.post(
        UPLOAD, {"file": upload}, format="multipart", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 201, response.content
    english = {w["code"]: w["message"] for w in response.json()["warnings"]}
    assert english["hidden_by_default"] == EN_DEFAULT
    assert english["hidden_rows"] == EN_ROWS.replace("row 5", "row 8")


def test_a_file_without_hidden_rows_says_nothing_of_them(gas, tmp_path):
    path = tmp_path / "gas.xlsx"
    gas_xlsx(path, hide=False)
    out = StringIO()
    call_command("ingest", str(path), "--resource", gas.code, "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["inserted"] == 10
    assert [w["code"] for w in summary["warnings"]] == ["ignored_column"]
