"""Staff explore a granted resource in a real browser and download the current filter.

城运中心 (cityops) staff hold a grant on 住建委's gas-leak alarms: they find the resource
in /explorer/, read its metadata and masked grid (district names, local times), filter
by district and download CSV, which holds exactly the filtered rows, masked. Screenshots
go to docs/screenshots/explorer-*.png.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.browser import admin_login, chromium, new_page
from tests.e2e.test_browser_access import ALARMS, RESOURCE

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "docs" / "screenshots"


def save(page, name: str) -> None:
    path = SCREENSHOTS / f"explorer-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} looks empty"


@pytest.fixture
def granted_alarms(catalog):
    """The two alarms loaded through the ingest pipeline, granted to cityops (all rows)."""
    from django.utils import timezone

    from connectors import services
    from hub.records.models import BatchStatus
    from permissions.services import grant_access

    resource = catalog["resources"][RESOURCE]
    batch = services.ingest_records(
        resource=resource, department=catalog["departments"]["housing"], records=ALARMS
    ).batch
    batch.refresh_from_db()
    assert (batch.status, batch.inserted) == (BatchStatus.LOADED, len(ALARMS)), batch.errors
    grant_access(
        user=None,
        resource=resource,
        department=catalog["departments"]["cityops"],
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    return resource


def test_staff_explores_granted_resource_and_downloads_csv(live_server, granted_alarms, make_user):
    from playwright.sync_api import expect

    from permissions.models import AuditEvent

    make_user("cityops", username="cityops-staff")
    with chromium() as browser:
        page = new_page(browser)
        admin_login(page, live_server.url, "cityops-staff")
        page.goto(f"{live_server.url}/explorer/")
        expect(page.locator("#resource_list")).not_to_contain_text("110 治安警情")
        page.fill("#id_q", "燃气")
        page.click("#explorer-search input[type=submit]")
        row = page.locator("#resource_list tbody tr", has_text="燃气泄漏报警记录")
        expect(row).to_contain_text("可读")
        save(page, "01-list")

        row.locator("a").first.click()
        expect(page.locator("#access-status")).to_have_text("可读")
        grid = page.locator("#record-grid")
        expect(grid.locator("tbody tr")).to_have_count(2)
        expect(grid).to_contain_text("138****5678")
        expect(grid).not_to_contain_text("13812345678")
        expect(grid).to_contain_text("徐汇区")
        expect(grid).to_contain_text("2025-07-01 09:12:00")  # entered in local time
        expect(page.locator("#upload-link")).to_have_count(0)
        expect(page.locator("#request-access")).to_have_count(0)
        expect(page.locator("#api-command")).to_contain_text(
            f"/api/v1/resources/{RESOURCE}/records/"
        )
        save(page, "02-resource")

        page.select_option("#id_district", label="浦东新区")
        page.click("#grid-filters input[type=submit]")
        expect(grid.locator("tbody tr")).to_have_count(1)
        expect(grid).to_contain_text("GA20250701002")
        expect(page.locator("#api-command")).to_contain_text("district=310115")
        save(page, "03-filtered")

        with page.expect_download() as info:
            page.click("#download-csv")
        download = info.value
        assert download.suggested_filename == f"{RESOURCE}.csv"
        text = Path(download.path()).read_text(encoding="utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][0] == "报警编号"
    assert [row[0] for row in rows[1:]] == ["GA20250701002"]
    assert "139****4321" in rows[1] and "13987654321" not in rows[1]
    export = AuditEvent.objects.get(action="export")
    assert (export.actor, export.rows, export.resource_code) == ("cityops-staff", 1, RESOURCE)
    assert AuditEvent.objects.filter(action="read", actor="cityops-staff", rows=2).exists()
