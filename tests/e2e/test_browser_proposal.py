"""A housing steward's file does not match the gas resource: rejected for its columns, the
result page offers 生成映射建议; the steward reads the proposal, maps the one column it
could not (temperature under "T1"), previews, saves it as a profile; the same file
uploaded again loads through the normal preview and confirm. Screenshots go to
test-artifacts/."""

from __future__ import annotations

import pytest

from tests.connectors.proposal_files import HEADERS, Spec, map_data_or_skip, write_file
from tests.e2e.browser import admin_login, chromium_page, shot

pytestmark = pytest.mark.browser

RESOURCE = "gas-pipeline-pressure"
ODD = {
    "point_id": "监测点编号",
    "observed_at": "采集时刻",
    "district": "所在区",
    "pressure": "管网压力值",
    "temperature": "T1",  # nothing tells it is the temperature: the steward says so
    "latitude": "北纬",
    "longitude": "东经",
}


def test_propose_correct_save_and_reupload(live_server, catalog, make_user, tmp_path):
    from playwright.sync_api import expect

    from connectors.models import ConnectorProfile
    from connectors.normalisers.districts import matcher_for_code_list
    from hub.records.models import BatchStatus, Record, UploadBatch

    map_data_or_skip()
    make_user("housing", steward=True, username="housing-steward")
    gas = catalog["resources"][RESOURCE]
    spec = Spec(headers=ODD, order=list(HEADERS), pressure_unit="kPa", crs="gcj02", rows=60)
    path = tmp_path / "燃气压力-新格式.csv"
    truth = write_file(path, spec, matcher_for_code_list(gas.fields.get(name="district").code_list))

    with chromium_page() as page:
        admin_login(page, live_server.url, "housing-steward")
        page.goto(f"{live_server.url}/admin/connectors/upload/{RESOURCE}/")
        page.set_input_files("#id_file", str(path))
        page.click("#upload-form input[type=submit]")
        # Rejected for its columns: the assistant is offered.
        expect(page.locator("#batch-status")).to_have_text("已拒绝", timeout=60_000)
        expect(page.locator("#batch-message")).to_contain_text("缺少必填列")
        link = page.locator("#batch-propose-link")
        expect(link).to_be_visible()
        shot(page, "proposal-01-rejected")
        link.click()

        # The proposal: six columns mapped, T1 not; GCJ-02 found by the districts.
        mapping = page.locator("#proposal-mapping")
        expect(mapping.locator("select[aria-label='北纬']")).to_have_value("latitude")
        expect(mapping.locator("select[aria-label='管网压力值']")).to_have_value("pressure")
        expect(mapping.locator("select[aria-label='T1']")).to_have_value("")
        expect(page.locator("#proposal-crs")).to_have_value("gcj02")
        expect(page.locator("select[aria-label='管网压力']")).to_have_value("kPa")
        expect(page.locator("#proposal-preview tbody tr")).to_have_count(10)
        shot(page, "proposal-02-proposed")

        # Correct: T1 is the temperature; the preview shows it.
        mapping.locator("select[aria-label='T1']").select_option("temperature")
        page.click("input[name=refresh]")
        expect(mapping.locator("select[aria-label='T1']")).to_have_value("temperature")
        first = page.locator("#proposal-preview tbody tr").nth(0)
        expect(first).to_contain_text(f"{truth['celsius'][0]:.1f}")
        expect(page.locator("#proposal-preview td.errors:not(:empty)")).to_have_count(0)
        shot(page, "proposal-03-corrected")

        page.click("input[name=save]")
        expect(page.locator(".messagelist")).to_contain_text("已保存为接入配置 v1")
        expect(page.locator("#upload-form")).to_be_visible()

        # The same file again: loads with the saved profile.
        page.set_input_files("#id_file", str(path))
        page.click("#upload-form input[type=submit]")
        expect(page.locator("#preview-table tbody tr.row-bad")).to_have_count(0)
        page.click("input[name=confirm]")
        expect(page.locator("#batch-status")).to_have_text("已入库", timeout=60_000)
        expect(page.locator("[data-count=inserted]")).to_have_text("60")
        shot(page, "proposal-04-loaded")

    profile = ConnectorProfile.objects.get(resource=gas)
    assert "T1" in profile.header_aliases["temperature"]
    batch = UploadBatch.objects.filter(resource=gas).latest("id")
    assert (batch.status, batch.profile_version) == (BatchStatus.LOADED, profile.version)
    record = Record.objects.get(resource=gas, key__startswith="GP000001|")
    assert record.data["pressure"] == pytest.approx(truth["mpa"][0])
    assert record.data["temperature"] == pytest.approx(truth["celsius"][0])
    assert (record.latitude, record.longitude) == pytest.approx(
        (truth["lat"][0], truth["lon"][0]), abs=2e-6
    )
