"""The steward follows the preview's advice, in headless Chromium (embedded default).

A file whose preview already has a bad row cannot be loaded all-or-nothing; the preview
says to upload it again choosing 只加载有效行. The steward goes back (重新选择文件),
ticks the box and sends the same file: the preview now offers 确认入库（只加载有效行）
and the good rows load, the bad one kept as a correction batch. The same file still
at its preview used to be reused with its old choice: the steward saw the same refusal.
"""

from __future__ import annotations

import pytest

from tests.e2e.browser import admin_login, chromium_page
from tests.e2e.test_browser_uploads import URL, _row, _wait_final, _xlsx

pytestmark = pytest.mark.browser


def test_same_file_again_with_valid_rows_only_loads_the_good_rows(
    live_server, catalog, make_user, settings, tmp_path
):
    from playwright.sync_api import expect

    from hub.records.models import BatchStatus, Record, UploadBatch

    settings.HUB_BACKGROUND_LOADS = True
    make_user("housing", steward=True, username="housing-steward")
    base = live_server.url
    rows = [_row(i) for i in range(3)]
    rows[1][3] = "abc"
    path = _xlsx(tmp_path / "known-bad.xlsx", rows)

    with chromium_page() as page:
        admin_login(page, base, "housing-steward")
        page.goto(f"{base}{URL}")
        page.set_input_files("#id_file", str(path))
        page.click("#upload-form input[type=submit]")
        expect(page.locator("#confirm-refused")).to_contain_text("只加载有效行", timeout=60_000)
        expect(page.locator("input[name=confirm]")).to_have_count(0)

        page.click("#confirm-form a.closelink")  # 重新选择文件
        page.set_input_files("#id_file", str(path))
        page.check("#id_accept_valid_rows")
        page.click("#upload-form input[type=submit]")
        expect(page.locator("#confirm-partial")).to_be_visible(timeout=60_000)
        expect(page.locator("#confirm-refused")).to_have_count(0)
        page.click("input[name=confirm]")
        _wait_final(page, "部分入库")

    batch = UploadBatch.objects.get(correction_of__isnull=True)
    assert (batch.status, batch.inserted, batch.accept_valid_rows) == (
        BatchStatus.PARTIAL,
        2,
        True,
    )
    assert batch.corrections.get().status == BatchStatus.CORRECTION
    assert sorted(Record.objects.values_list("key", flat=True))[0].startswith("GP000300|")
