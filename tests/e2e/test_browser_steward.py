"""A housing (住建委) data steward uploads gas-pipeline pressures through the real admin pages.

Headless Chromium logs in on the admin login page, opens the resource, downloads its XLSX
template, uploads a messy XLSX (title row, kPa, Chinese dates, district names, bad rows),
checks the normalised preview, which refuses an all-or-nothing confirm of rows it knows
are wrong, loads the valid rows instead, follows the result page until the batch is final,
downloads the error report (every row, bad ones marked); then uploads a clean file and
sees every row inserted.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.e2e.browser import admin_login, chromium_page, shot

pytestmark = pytest.mark.browser

RESOURCE = "gas-pipeline-pressure"
HEADERS = ["监测点编号", "采集时间", "所属区", "管网压力(kPa)", "温度(℃)", "压力级制"]


def _messy_xlsx(path: Path, rows: list[list]) -> Path:
    """A spreadsheet as stewards send them: a title row and a blank row above the header."""
    book = Workbook()
    sheet = book.active
    sheet.title = "日报"
    sheet.append(["2025年7月燃气管网压力监测日报"])
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


# Spreadsheet rows 4..8; rows 6 and 8 are bad (pressure "abc", an impossible date).
MESSY_ROWS = [
    ["GP000101", "2025年7月1日 14时30分", "浦东新区", "302.5kPa", "21.5", "中压"],
    ["GP000102", "2025-07-01 14:45", "黄浦", "２７９．４", "—", "低压"],
    ["GP000103", "2025-07-01 15:00", "徐汇区", "abc", "22", "中压B"],
    ["GP000104", "2025-07-01 15:15", "静安区", "350", "暂无", "中压A"],
    ["GP000105", "2025/13/45", "长宁区", "246.6", "28.5", "中压"],
]
CLEAN_ROWS = [
    ["GP000201", "2025年7月2日 08时00分", "闵行区", "310", "20", "中压"],
    ["GP000202", "2025-07-02 08:15", "宝山区", "1.2MPa", "20.5", "次高压"],
    ["GP000203", "2025-07-02 08:30", "嘉定", "2.8", "21", "低压"],
]


def _cells(path: Path) -> list[list]:
    sheet = load_workbook(path, read_only=True).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _upload(page, path: Path):
    from playwright.sync_api import expect

    page.set_input_files("#id_file", str(path))
    page.click("#upload-form input[type=submit]")
    expect(page.locator("#preview-table")).to_be_visible()


def _confirm_and_wait(page, final_status: str) -> None:
    from playwright.sync_api import expect

    page.click("input[name=confirm]")
    # The result page polls the batch API; wait until it shows the final status.
    expect(page.locator("#batch-status")).to_have_text(final_status, timeout=60_000)


def test_steward_uploads_messy_then_clean_file(live_server, catalog, make_user, tmp_path):
    from playwright.sync_api import expect

    from hub.records.models import BatchStatus, Record, UploadBatch

    make_user("housing", steward=True, username="housing-steward")
    messy = _messy_xlsx(tmp_path / "燃气压力日报-7月1日.xlsx", MESSY_ROWS)
    clean = _messy_xlsx(tmp_path / "燃气压力日报-7月2日.xlsx", CLEAN_ROWS)

    with chromium_page() as page:
        admin_login(page, live_server.url, "housing-steward")
        shot(page, "steward-01-admin-index")

        # The catalog list: the steward opens the gas pipeline pressure resource.
        page.goto(f"{live_server.url}/admin/catalog/dataresource/?q={RESOURCE}")
        expect(page.locator("#result_list")).to_contain_text("燃气管网压力监测数据")
        page.click(f"#result_list a:text-is('{RESOURCE}')")
        expect(page.locator("#content")).to_contain_text("燃气管网压力监测数据")
        page.click(".object-tools a:text-is('上传数据')")
        expect(page.locator("#upload-form")).to_be_visible()
        assert page.url.endswith(f"/admin/connectors/upload/{RESOURCE}/")
        shot(page, "steward-02-upload-form")

        # The XLSX template: a real workbook with the Chinese labels of the fields.
        with page.expect_download() as info:
            page.click("text=下载 Excel 模板")
        template = tmp_path / "template.xlsx"
        info.value.save_as(template)
        assert template.read_bytes()[:2] == b"PK"
        text = "\n".join(str(c) for row in _cells(template) for c in row if c is not None)
        for label in ("监测点编号", "监测时间", "所属区", "管网压力", "压力级制"):
            assert label in text, label

        # The messy file: the preview shows values as they will be stored.
        _upload(page, messy)
        table = page.locator("#preview-table")
        expect(table.locator("thead")).to_contain_text("管网压力")
        first = table.locator("tbody tr").nth(0)
        expect(first.locator("td").nth(0)).to_have_text("4")  # spreadsheet row number
        expect(first).to_contain_text("GP000101")
        # 2025年7月1日 14时30分: stored in UTC, shown in Asia/Shanghai.
        expect(first.locator("td").nth(2)).to_have_text("2025-07-01 14:30:00")
        expect(first).to_contain_text("0.3025")  # 302.5 kPa -> MPa
        # 浦东新区: stored as its GB/T 2260 code, shown by name (the code as the title).
        expect(first.locator("td").nth(3)).to_have_text("浦东新区")
        expect(first.locator("td").nth(3)).to_have_attribute("title", "310115")
        expect(table.locator("tbody tr").nth(1)).to_contain_text("0.2794")  # full-width digits
        bad = table.locator("tbody tr.row-bad")
        expect(bad).to_have_count(2)
        expect(bad.nth(0).locator("td").nth(0)).to_have_text("6")
        expect(bad.nth(0).locator("td.bad")).to_have_count(1)
        expect(bad.nth(1).locator("td").nth(0)).to_have_text("8")
        shot(page, "steward-03-preview-messy")

        # Known bad rows: no 确认入库 (the batch could only be rejected); load valid rows.
        expect(page.locator("input[name=confirm]")).to_have_count(0)
        expect(page.locator("#confirm-refused")).to_contain_text("预览中已有 2 行有错误")
        page.click("#accept-valid-rows")
        expect(page.locator("#batch-status")).to_have_text("部分入库", timeout=60_000)
        counts = page.locator("#batch-counts")
        expect(counts.locator("[data-count=rows_read]")).to_have_text("5")
        expect(counts.locator("[data-count=inserted]")).to_have_text("3")
        expect(counts.locator("[data-count=rejected]")).to_have_text("2")
        errors = page.locator("#batch-errors li")
        expect(errors).to_have_count(2)
        # The list, redrawn by the page's script, keeps the translated wording.
        expect(errors.nth(0)).to_contain_text("第 6 行 [管网压力(kPa)]：")
        expect(errors.nth(0)).to_contain_text("abc")
        expect(errors.nth(1)).to_contain_text("第 8 行 [采集时间]：")
        expect(page.locator("#batch-report")).to_be_visible()
        shot(page, "steward-04-result-rejected")
        with page.expect_download() as info:
            page.click("#batch-report-link")
        report = tmp_path / "report.xlsx"
        info.value.save_as(report)
        rows = _cells(report)
        header = rows[0]
        assert header[0] == "源文件行号" and header[-1] == "错误说明"
        by_row = {row[0]: row for row in rows[1:]}
        assert sorted(by_row) == [4, 5, 6, 7, 8]  # every row of the file
        assert by_row[4][-1] is None and by_row[4][1] == "GP000101"
        pressure_column = HEADERS.index("管网压力(kPa)") + 1
        assert by_row[6][pressure_column] == "abc" and "管网压力(kPa)" in by_row[6][-1]
        assert "采集时间" in by_row[8][-1]

        # A clean file: every row is inserted.
        page.goto(f"{live_server.url}/admin/connectors/upload/{RESOURCE}/")
        _upload(page, clean)
        expect(page.locator("#preview-table tbody tr.row-bad")).to_have_count(0)
        expect(page.locator("#preview-table tbody tr").nth(1)).to_contain_text("1.2")
        _confirm_and_wait(page, "已入库")
        expect(counts.locator("[data-count=rows_read]")).to_have_text(str(len(CLEAN_ROWS)))
        expect(counts.locator("[data-count=inserted]")).to_have_text(str(len(CLEAN_ROWS)))
        expect(counts.locator("[data-count=rejected]")).to_have_text("0")
        expect(page.locator("#batch-report")).to_be_hidden()
        shot(page, "steward-05-result-loaded")

    batch = UploadBatch.objects.filter(resource__code=RESOURCE).latest("id")
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, len(CLEAN_ROWS))
    records = Record.objects.filter(resource__code=RESOURCE)
    pressures = {r.key.split("|")[0]: r.data["pressure"] for r in records}
    # The three valid messy rows and the clean rows; the two bad rows wait for correction.
    assert pressures == {
        "GP000101": 0.3025,
        "GP000102": 0.2794,
        "GP000104": 0.35,
        "GP000201": 0.31,
        "GP000202": 1.2,
        "GP000203": 0.0028,
    }


def test_upload_page_of_another_department_is_404(live_server, catalog, make_user):
    """A water steward cannot reach the housing upload page (hidden is 404)."""
    make_user("water", steward=True, username="water-steward")
    with chromium_page() as page:
        admin_login(page, live_server.url, "water-steward")
        response = page.goto(f"{live_server.url}/admin/connectors/upload/{RESOURCE}/")
        assert response.status == 404
        response = page.goto(f"{live_server.url}/admin/connectors/upload/road-ponding/")
        assert response.status == 200


@pytest.mark.broker
def test_steward_upload_runs_on_a_real_worker(
    live_server, catalog, make_user, celery_worker_process, tmp_path
):
    """Same pages on PostgreSQL with a real Celery worker: the result page polls until the
    worker has loaded the batch (status received/parsing first, then 已入库)."""
    from playwright.sync_api import expect

    from hub.records.models import BatchStatus, UploadBatch

    make_user("housing", steward=True, username="housing-steward")
    clean = _messy_xlsx(tmp_path / "燃气压力日报-worker.xlsx", CLEAN_ROWS)
    with chromium_page() as page:
        admin_login(page, live_server.url, "housing-steward")
        page.goto(f"{live_server.url}/admin/connectors/upload/{RESOURCE}/")
        _upload(page, clean)
        expect(page.locator("#preview-table tbody tr")).to_have_count(len(CLEAN_ROWS))
        _confirm_and_wait(page, "已入库")
        counts = page.locator("#batch-counts")
        expect(counts.locator("[data-count=inserted]")).to_have_text(str(len(CLEAN_ROWS)))
        expect(counts.locator("[data-count=rejected]")).to_have_text("0")
        shot(page, "steward-06-worker-loaded")
    batch = UploadBatch.objects.get(resource__code=RESOURCE)
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, len(CLEAN_ROWS))
    # The load ran in the worker process, not in-process.
    log = celery_worker_process.log.read_text(errors="replace")
    assert "connectors.tasks.ingest_batch" in log and "succeeded" in log
