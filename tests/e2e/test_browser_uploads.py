"""Uploads people trust, in headless Chromium on the embedded default (SQLite, tasks
in-process, loads in a thread of the web process).

A housing steward uploads a spreadsheet whose first rows are already wrong: the preview
shows district names and rounded coordinates, offers no 确认入库 and says why. Then a
30-row file whose bad rows lie beyond the preview: confirmed, rejected as a whole; the
steward downloads the error report (every row, bad cells marked), fixes the two red
cells, uploads the report itself, and the WHOLE file loads: 30 rows stored, values
checked in the database. Screenshots of each step: docs/screenshots/uploads-NN-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from tests.conftest import ROOT
from tests.e2e.browser import admin_login, chromium_page

pytestmark = pytest.mark.browser

RESOURCE = "gas-pipeline-pressure"
URL = f"/admin/connectors/upload/{RESOURCE}/"
SCREENSHOTS = ROOT / "docs" / "screenshots"
HEADERS = [
    *("监测点编号", "采集时间", "所属区", "管网压力(kPa)"),
    *("温度(℃)", "压力级制", "纬度", "经度"),
]
DISTRICTS = ["浦东新区", "黄浦区", "徐汇区", "静安区", "长宁区"]
ROWS = 30
# 0-based data rows made wrong in the 30-row file (spreadsheet rows 28 and 31): both
# beyond the 20 rows the preview checks.
BAD_PRESSURE, BAD_TIME = 24, 27


def shot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} looks empty"
    return path


def _row(i: int) -> list:
    return [
        f"GP{300 + i:06d}",
        f"2025-07-03 {8 + i // 4:02d}:{(i % 4) * 15:02d}",
        DISTRICTS[i % len(DISTRICTS)],
        f"{300 + i}",
        "21.5",
        "中压",
        "31.2304",
        "121.4737",
    ]


def _xlsx(path: Path, rows: list[list]) -> Path:
    """A steward's spreadsheet: a title row and a blank row above the header."""
    book = Workbook()
    sheet = book.active
    sheet.append(["2025年7月3日燃气管网压力监测日报"])
    sheet.append([])
    sheet.append(HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _upload(page, base: str, path: Path) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}{URL}")
    page.set_input_files("#id_file", str(path))
    page.click("#upload-form input[type=submit]")
    expect(page.locator("#preview-table")).to_be_visible(timeout=60_000)


def _wait_final(page, status: str) -> None:
    from playwright.sync_api import expect

    # The confirm answered at once; the result page polls the load running in a thread.
    expect(page.locator("#batch-status")).to_have_text(status, timeout=60_000)
    expect(page.locator("#batch-busy")).to_be_hidden(timeout=60_000)


def test_fixed_error_report_loads_the_whole_file(
    live_server, catalog, make_user, settings, tmp_path
):
    from playwright.sync_api import expect

    from hub.records.models import BatchStatus, Record, UploadBatch

    settings.HUB_BACKGROUND_LOADS = True  # the embedded default: loads outside the request
    make_user("housing", steward=True, username="housing-steward")
    base = live_server.url
    known_bad = [_row(i) for i in range(3)]
    known_bad[1][3] = "abc"
    rows = [_row(i) for i in range(ROWS)]
    rows[BAD_PRESSURE][3] = "abc"
    rows[BAD_TIME][1] = "2025/13/45"

    with chromium_page() as page:
        admin_login(page, base, "housing-steward")
        page.goto(f"{base}{URL}")
        expect(page.locator("#upload-form")).to_be_visible(timeout=60_000)
        shot(page, "uploads-01-upload-form")

        # 1. Errors already in the preview: no 确认入库, the reason, the partial choice.
        _upload(page, base, _xlsx(tmp_path / "known-bad.xlsx", known_bad))
        table = page.locator("#preview-table")
        first = table.locator("tbody tr").nth(0)
        expect(first.locator("td").nth(3)).to_have_text("浦东新区")  # not 310115
        expect(first.locator("td").nth(3)).to_have_attribute("title", "310115")
        expect(first.locator("td").nth(7)).to_have_text("31.232329")  # GCJ-02 → WGS-84, 6 dp
        expect(table.locator("tbody tr.row-bad")).to_have_count(1)
        expect(page.locator("input[name=confirm]")).to_have_count(0)
        expect(page.locator("#confirm-refused")).to_contain_text("整批入库必然被拒绝")
        expect(page.locator("#accept-valid-rows")).to_be_visible()
        shot(page, "uploads-02-preview-refuses-known-errors")

        # 2. Errors beyond the preview: confirmed, then rejected as a whole.
        _upload(page, base, _xlsx(tmp_path / "燃气压力日报-7月3日.xlsx", rows))
        expect(page.locator("#preview-table tbody tr.row-bad")).to_have_count(0)
        expect(page.locator("#content-main")).to_contain_text("预览只校验前 20 行")
        shot(page, "uploads-03-preview-clean-first-rows")
        page.click("input[name=confirm]")
        _wait_final(page, "已拒绝")
        counts = page.locator("#batch-counts")
        expect(counts.locator("[data-count=rows_read]")).to_have_text(str(ROWS))
        expect(counts.locator("[data-count=inserted]")).to_have_text("0")
        expect(counts.locator("[data-count=rejected]")).to_have_text("2")
        expect(page.locator("#batch-report")).to_be_visible(timeout=60_000)
        shot(page, "uploads-04-rejected-with-report")

        # 3. The report: every row, the two bad cells marked, an error column.
        with page.expect_download() as info:
            page.click("#batch-report-link")
        report = tmp_path / "report.xlsx"
        info.value.save_as(report)
        book = load_workbook(report)
        sheet = book.active
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert cells[0] == ["源文件行号", *HEADERS, "错误说明"]
        assert [row[0] for row in cells[1:]] == list(range(4, 4 + ROWS))
        assert [row[0] for row in cells[1:] if row[-1]] == [4 + BAD_PRESSURE, 4 + BAD_TIME]
        assert cells[1][1:-1] == _row(0)  # a good row, unchanged
        pressure = sheet.cell(row=2 + BAD_PRESSURE, column=2 + HEADERS.index("管网压力(kPa)"))
        time_cell = sheet.cell(row=2 + BAD_TIME, column=2 + HEADERS.index("采集时间"))
        assert (pressure.value, time_cell.value) == ("abc", "2025/13/45")
        assert pressure.fill.start_color.rgb == time_cell.fill.start_color.rgb == "FFFFC7CE"

        # 4. The steward fixes the red cells and uploads the report itself.
        pressure.value = "324"
        time_cell.value = "2025-07-03 14:45"
        fixed = tmp_path / "report-fixed.xlsx"
        book.save(fixed)
        _upload(page, base, fixed)
        expect(page.locator("#preview-table tbody tr.row-bad")).to_have_count(0)
        expect(page.locator("#preview-table thead")).not_to_contain_text("源文件行号")
        shot(page, "uploads-05-preview-fixed-report")
        page.click("input[name=confirm]")
        _wait_final(page, "已入库")
        expect(counts.locator("[data-count=rows_read]")).to_have_text(str(ROWS))
        expect(counts.locator("[data-count=inserted]")).to_have_text(str(ROWS))
        expect(counts.locator("[data-count=rejected]")).to_have_text("0")
        warnings = page.locator("#batch-warnings")
        expect(warnings).to_contain_text("[源文件行号] 文件是更正后的错误报告")
        expect(warnings).to_contain_text("[错误说明] 文件是更正后的错误报告")
        shot(page, "uploads-06-whole-file-loaded")

    rejected, batch = UploadBatch.objects.filter(resource__code=RESOURCE).order_by("-id")[:2][::-1]
    assert (rejected.status, rejected.rows_read, rejected.rejected) == (
        BatchStatus.REJECTED,
        ROWS,
        2,
    )
    assert (batch.status, batch.rows_read, batch.inserted) == (BatchStatus.LOADED, ROWS, ROWS)
    records = {r.key.split("|")[0]: r for r in Record.objects.filter(resource__code=RESOURCE)}
    assert sorted(records) == [f"GP{300 + i:06d}" for i in range(ROWS)]
    pressures = {key: record.data["pressure"] for key, record in records.items()}
    assert pressures == {
        f"GP{300 + i:06d}": pytest.approx((324 if i == BAD_PRESSURE else 300 + i) / 1000)
        for i in range(ROWS)
    }
    fixed_time = records[f"GP{300 + BAD_TIME:06d}"].data["observed_at"]
    assert fixed_time == "2025-07-03T06:45:00Z"  # 14:45 in Shanghai
    assert records["GP000300"].data["district"] == "310115"
    assert {record.batch_id for record in records.values()} == {batch.pk}
