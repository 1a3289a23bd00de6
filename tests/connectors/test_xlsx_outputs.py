"""Error report and upload template workbooks."""

from __future__ import annotations

import io

import openpyxl
import pytest

from connectors.base import RowError
from connectors.pipeline.parsing import parse_file
from connectors.writers.reports import write_error_report
from connectors.writers.spreadsheet import safe_text
from connectors.writers.template import build_template


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-3", "-3"),
        ("黄浦区", "黄浦区"),
        (12, 12),
    ],
)
def test_safe_text(value, expected):
    assert safe_text(value) == expected


def test_error_report_marks_cells_and_neutralises_formulas():
    out = io.BytesIO()
    write_error_report(
        out=out,
        headers=["监测点编号", "管网压力(kPa)", "所属区"],
        rows=[
            (
                5,
                ["GP000001", "abc", "=1+1"],
                [
                    RowError(5, "管网压力(kPa)", "无法识别的数值：'abc'", "pressure"),
                    RowError(5, "所属区", "无法识别的行政区：'=1+1'", "district"),
                ],
            ),
            (9, ["GP000002", "300", "黄浦"], [RowError(9, "第4列", "该行比表头多出 1 个单元格")]),
        ],
    )
    book = openpyxl.load_workbook(io.BytesIO(out.getvalue()))
    sheet = book["错误明细"]
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["源文件行号", "监测点编号", "管网压力(kPa)", "所属区", "错误说明"]
    assert rows[1] == [
        5,
        "GP000001",
        "abc",
        "'=1+1",
        "管网压力(kPa)：无法识别的数值：'abc'；所属区：无法识别的行政区：'=1+1'",
    ]
    assert rows[2][0] == 9
    assert rows[2][4] == "第4列：该行比表头多出 1 个单元格"
    assert sheet["C2"].fill.start_color.rgb == "FFFFC7CE"
    assert sheet["C2"].comment.text == "无法识别的数值：'abc'"
    assert sheet["D2"].data_type == "s"  # text, not a formula
    assert sheet["B2"].comment is None
    assert sheet["B2"].fill.fill_type is None


def test_template_describes_fields_and_round_trips(resources, tmp_path):
    resource = resources["gas-pipeline-pressure"]
    data = build_template(resource)
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["燃气管网压力监测数据", "说明", "代码表"]
    sheet = book["燃气管网压力监测数据"]
    headers = [cell.value for cell in sheet[1]]
    assert headers == [
        "监测点编号*", "监测时间*", "所属区*", "管网压力(MPa)*", "介质温度(°C)", "压力级制",
        "纬度(WGS84)", "经度(WGS84)",
    ]  # fmt: skip
    assert "范围：0 ~ 1.6" in sheet["D1"].comment.text
    assert "单位：MPa" in sheet["D1"].comment.text
    validations = {str(v.sqref): v for v in sheet.data_validations.dataValidation}
    assert validations["C2:C1001"].type == "list"
    assert validations["C2:C1001"].formula1 == "'代码表'!$A$2:$A$17"
    assert validations["F2:F1001"].formula1 == "'代码表'!$B$2:$B$5"
    assert validations["D2:D1001"].type == "decimal"
    lists = book["代码表"]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(row=r, column=2).value for r in range(1, 6)] == [
        "压力级制", "低压", "中压B", "中压A", "次高压",
    ]  # fmt: skip
    assert lists["A2"].value == "黄浦区"
    notes = book["说明"]
    assert [c.value for c in notes[1]][:5] == ["字段名称", "字段名", "类型", "单位", "必填"]
    assert [c.value for c in notes[5]][:6] == [
        "管网压力",
        "pressure",
        "数值",
        "MPa",
        "是",
        "0 ~ 1.6",
    ]
    # A filled-in template uploads cleanly: its headers map back to the fields.
    sheet.append(["GP000001", "2025-07-01 14:30", "黄浦区", 0.35, 20, "低压", 31.23, 121.47])
    path = tmp_path / "filled.xlsx"
    book.save(path)
    (chunk,) = parse_file(path=path, filename="filled.xlsx", resource=resource)
    assert chunk.errors == []
    assert chunk.frame.loc[0, "district"] == "310101"
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.35)
    # The housing connector expects GCJ-02, but the template says WGS84: no shift.
    assert chunk.frame.loc[0, "latitude"] == pytest.approx(31.23)
    assert chunk.frame.loc[0, "longitude"] == pytest.approx(121.47)


def test_error_report_from_a_parsed_sample(resources):
    from connectors.writers.reports import report_rows
    from tests.connectors.conftest import SAMPLES

    (chunk,) = parse_file(
        path=SAMPLES / "housing_gas_pressure.csv",
        filename="housing_gas_pressure.csv",
        resource=resources["gas-pipeline-pressure"],
    )
    out = io.BytesIO()
    write_error_report(out=out, headers=list(chunk.raw.columns), rows=report_rows(chunk))
    sheet = openpyxl.load_workbook(io.BytesIO(out.getvalue())).active
    # Every row of the file (source rows from 4 on), good ones with an empty error column.
    numbers = [sheet.cell(row=r, column=1).value for r in range(2, sheet.max_row + 1)]
    assert numbers == list(range(4, 4 + len(chunk)))
    flagged = [n for r, n in enumerate(numbers, start=2) if sheet.cell(row=r, column=11).value]
    assert flagged == [10, 11, 12, 13, 14]
    assert sheet["E8"].value == "abc"  # column E = 管网压力(kPa) after the row number
    assert sheet["E8"].comment.text == "无法识别的数值：'abc'"
    assert sheet["E8"].fill.start_color.rgb == "FFFFC7CE"
    assert sheet["K8"].value == "管网压力(kPa)：无法识别的数值：'abc'"
    assert sheet["E11"].comment.text == "'2000' 大于最大值 1.6MPa"
    assert sheet["E2"].comment is None and sheet["K2"].value is None
