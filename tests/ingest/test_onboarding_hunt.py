"""Files met while hunting the steward's path (proposal → saved profile → load): each is
proposed, saved as the steward would and loaded; the stored values are asserted."""

from __future__ import annotations

import codecs
import datetime as dt

import openpyxl
import pytest

from connectors import services
from connectors.proposal.engine import propose
from connectors.proposal.services import save_proposal
from hub.records.models import BatchStatus, Record

pytestmark = pytest.mark.django_db(transaction=True)


def _onboard(catalog, make_user, path, code: str, department: str):
    resource = catalog["resources"][code]
    provider = catalog["departments"][department]
    proposal = propose(path=path, filename=path.name, resource=resource, department=provider)
    steward = make_user(department, steward=True)
    save_proposal(user=steward, resource=resource, proposal=proposal, filename=path.name)
    upload = services.create_batch(
        resource=resource,
        department=provider,
        file=path,
        original_filename=path.name,
        accept_valid_rows=True,
    )
    batch = services.run_batch(batch_id=upload.batch.pk)
    records = Record.objects.filter(batch=batch).order_by("source_row")
    return proposal, batch, {r.source_row: r.data for r in records}


def test_degrees_minutes_seconds_and_accounting_negatives(catalog, make_user, tmp_path):
    # UTF-16 tab-separated, coordinates in DMS, a temperature "（２）" in full width.
    text = (
        "监测点编号\t监测时间\t所属区\t管网压力(kPa)\t介质温度(℃)\t纬度(WGS84)\t经度(WGS84)\r\n"
        "GP000001\t2025-07-01 15:30\t黄浦区\t350\t21.5\t31°13′48″\t121°28′12″\r\n"
        "GP000002\t2025-07-01 15:30\t徐汇区\t０.３５MPa\t（２）\t31°11'24\"N\t121°26'12\"E\r\n"
    )
    path = tmp_path / "gas_dms.txt"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    _proposal, batch, stored = _onboard(
        catalog, make_user, path, "gas-pipeline-pressure", "housing"
    )
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert (stored[2]["latitude"], stored[2]["longitude"]) == pytest.approx((31.23, 121.47))
    assert (stored[3]["latitude"], stored[3]["longitude"]) == pytest.approx((31.19, 121.4366667))
    assert (stored[2]["temperature"], stored[3]["temperature"]) == (21.5, -2.0)
    assert stored[3]["pressure"] == 0.35
    negatives = [w for w in batch.warnings if w["code"] == "negative_parentheses"]
    assert negatives == [
        {"code": "negative_parentheses", "column": "介质温度(℃)", "params": {"rows": 1, "first": 3}}
    ]


def test_merged_header_on_the_second_sheet(catalog, make_user, tmp_path):
    book = openpyxl.Workbook()
    book.active.title = "说明"
    book.active["A1"] = "本表由市水务局排水处填报"
    sheet = book.create_sheet("泵站运行")
    sheet["A1"] = "上海市排水泵站运行情况表（2025年7月）"
    sheet.merge_cells("A1:G1")
    sheet["A2"], sheet["C2"], sheet["D2"], sheet["E2"] = "泵站", "监测时间", "所属区", "运行指标"
    for cells in ("A2:B2", "C2:C3", "D2:D3", "E2:G2"):
        sheet.merge_cells(cells)
    for column, text in zip("ABEFG", ["编号", "名称", "前池水位(m)", "开泵台数", "排水能力(m³/s)"]):
        sheet[f"{column}3"] = text
    rows = [
        ["BZ001", "新昌平泵站", "2025年7月1日 15时30分", "闸北区", "１.２５", "３", "(0.5)"],
        ["BZ002", "成都路泵站", "2025年7月1日 15时30分", "卢湾", "—", "暂无", "12.5"],
        ["BZ003", "芙蓉江泵站", dt.datetime(2025, 7, 1, 15, 30), "长宁", "(0.25)", "/", 3.2],
    ]
    for row in rows:
        sheet.append(row)
    path = tmp_path / "pump_merged.xlsx"
    book.save(path)
    proposal, batch, stored = _onboard(catalog, make_user, path, "pump-station-operation", "water")
    assert proposal.header_row == 3
    assert batch.status == BatchStatus.PARTIAL
    # A capacity of -0.5 is below its minimum: the row error names the cell as written.
    assert [(e["row"], e["message"]) for e in batch.errors] == [(4, "'(0.5)' 小于最小值 0m³/s")]
    assert stored == {
        5: {
            "station_id": "BZ002",
            "station_name": "成都路泵站",
            "observed_at": "2025-07-01T07:30:00Z",
            "district": "310101",
            "water_level": None,
            "pumps_running": None,
            "capacity": 12.5,
        },
        6: {
            "station_id": "BZ003",
            "station_name": "芙蓉江泵站",
            "observed_at": "2025-07-01T07:30:00Z",
            "district": "310105",
            "water_level": -0.25,
            "pumps_running": None,
            "capacity": 3.2,
        },
    }


def test_bom_crlf_csv_with_a_quoted_newline_and_a_note(catalog, make_user, tmp_path):
    text = (
        "\ufeff泵站编号,泵站名称,监测时间,所属区,前池水位(m),开泵台数,排水能力(m³/s),,\r\n"
        'BZ011,"曹杨\r\n泵站",2025/7/1 15:30,普陀,"(1.5)",2,"1,250.5",,\r\n'
        "BZ012,真如泵站,2025-07-01T15:30:00+08:00,310107,0.8,2台,3.5,,\r\n"
        "BZ013,桃浦泵站,2025.07.01 15:30,310108,-,无,—,,\r\n"
        "注：本表数据为整点值,,,,,,,,\r\n"
    )
    path = tmp_path / "pump_bom_crlf.csv"
    path.write_bytes(text.encode("utf-8"))
    proposal, batch, stored = _onboard(catalog, make_user, path, "pump-station-operation", "water")
    # The note under the table is no preview row (the load leaves it out too).
    assert [row["row"] for row in proposal.preview] == [2, 3, 4]
    assert all(not row["errors"] for row in proposal.preview)
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert [w["code"] for w in batch.warnings] == ["negative_parentheses", "skipped_rows"]
    assert stored[2]["station_name"] == "曹杨\r\n泵站"
    assert [stored[r]["water_level"] for r in (2, 3, 4)] == [-1.5, 0.8, None]
    assert [stored[r]["capacity"] for r in (2, 3, 4)] == [1250.5, 3.5, None]
    assert [stored[r]["pumps_running"] for r in (2, 3, 4)] == [2, 2, None]
    assert [stored[r]["district"] for r in (2, 3, 4)] == ["310107", "310107", "310106"]
    assert {stored[r]["observed_at"] for r in (2, 3, 4)} == {"2025-07-01T07:30:00Z"}


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_a_row_of_bare_units_under_the_header_belongs_to_it(catalog, make_user, tmp_path, kind):
    # Was: the unit row read as a data row (a row error for every column, the whole file
    # refused without partial acceptance) and the units unread.
    rows = [
        ["泵站编号", "监测时间", "所属区", "前池水位", "排水能力"],
        ["", "", "", "cm", "m³/s"],
        ["BZ041", "2025-07-01 15:30", "黄浦区", "150", "2.5"],
        ["BZ042", "2025-07-01 15:30", "徐汇区", "125", "3"],
    ]
    path = tmp_path / f"units_row.{kind}"
    if kind == "csv":
        path.write_text("\r\n".join(",".join(row) for row in rows) + "\r\n", encoding="utf-8")
    else:
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path)
    proposal, batch, stored = _onboard(catalog, make_user, path, "pump-station-operation", "water")
    assert proposal.headers[3:5] == ["前池水位(cm)", "排水能力(m³/s)"]
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert sorted(stored) == [3, 4]
    assert [stored[r]["water_level"] for r in (3, 4)] == [1.5, 1.25]
    assert [stored[r]["capacity"] for r in (3, 4)] == [2.5, 3.0]
