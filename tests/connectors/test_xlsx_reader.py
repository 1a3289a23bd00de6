"""The XLSX reader (calamine through fastexcel) and the sheet-extent guard before it."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import fastexcel
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import InputError, RowError
from connectors.readers.xlsx import archive as xlsx_archive
from connectors.readers.xlsx import extent as xlsx_extent
from connectors.readers.xlsx.reader import open_xlsx

from .test_hostile import GAS_HEADER, GAS_ROW, failure, gas_xlsx, replace_part, run

SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def sheet_xml(body: str, dimension: str | None = None) -> bytes:
    head = f'<dimension ref="{dimension}"/>' if dimension else ""
    return f"<worksheet {NS}>{head}<sheetData>{body}</sheetData></worksheet>".encode()


def with_sheet(body: str, dimension: str | None = None) -> bytes:
    return replace_part(gas_xlsx(), SHEET, sheet_xml(body, dimension))


def test_rows_below_blank_rows_keep_their_sheet_numbers(resources, write):
    """Calamine starts a sheet at its first used cell; row numbers in errors are still
    the ones Excel shows (an earlier reader counted from the first used row)."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["C3"] = "燃气管网压力监测"
    for offset, row in enumerate([GAS_HEADER.split(","), GAS_ROW.split(",")]):
        for column, value in enumerate(row):
            sheet.cell(row=5 + offset, column=3 + column, value=value)
    for column, value in enumerate(GAS_ROW.replace("GP000001", "GP000002").split(",")):
        sheet.cell(row=8, column=3 + column, value=value)
    sheet.cell(row=8, column=7, value="=SUM(1,2)")  # 介质温度, no cached value
    out = io.BytesIO()
    book.save(out)
    chunks = run(resources, write("title.xlsx", out.getvalue()))
    assert chunks[0].source_rows.tolist() == [6, 8]
    assert chunks[0].frame.loc[0, "point_id"] == "GP000001"
    assert chunks[0].errors == [
        RowError(
            8, "介质温度", "单元格 G8 是公式但没有计算结果，请在 Excel 中重新计算并保存后上传。"
        )
    ]


@pytest.mark.parametrize("date1904", [False, True])
def test_cells_come_as_the_text_a_user_typed(write, date1904):
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904 if date1904 else book.epoch
    sheet = book.active
    sheet.append(["时间", "时刻", "数值", "整数", "布尔", "文本"])
    sheet.append([dt.datetime(2025, 7, 1, 14, 30), dt.time(8, 15), 12.44, 31.0, True, "00123"])
    sheet.append([dt.datetime(2025, 7, 1), dt.time(0, 0, 30), 0.1 + 0.2, -7, False, " 空格 "])
    out = io.BytesIO()
    book.save(out)
    table = open_xlsx(
        path=write("cells.xlsx", out.getvalue()),
        scorer=lambda texts: int("时间" in texts),
        chunk_rows=10,
        sheet=None,
    )
    frame = next(table.chunks).frame
    assert frame.values.tolist() == [
        ["2025-07-01 14:30:00", "08:15:00", "12.44", "31", "true", "00123"],
        ["2025-07-01 00:00:00", "00:00:30", "0.3", "-7", "false", " 空格 "],
    ]


def test_a_sparse_sheet_asking_for_a_huge_grid_is_refused(resources, write):
    """Two cells, A1 and XFD1048576: calamine would allocate 17 billion cells and abort
    the process. The guard refuses it before calamine opens the file."""
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>监测点编号</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    error = failure(resources, write("sparse.xlsx", with_sheet(body)))
    assert error.message == (
        "工作表“Sheet”的单元格范围过大（约 17179869184 个单元格，最多 16000000 个），"
        "请删除表格右侧或下方的多余内容后重新上传。"
    )


@pytest.mark.parametrize(
    "body",
    [
        # the far cell written with its reference after another attribute
        '<row r="1"><c t="inlineStr" r="A1"><is><t>监测点编号</t></is></c></row>'
        '<row r="900000"><c s="0" r="ZZ900000"><v>1</v></c></row>',
        # a far row whose cell has no reference at all
        '<row r="1"><c r="A1" t="inlineStr"><is><t>监测点编号</t></is></c>'
        '<c r="ZZ1"><v>1</v></c></row><row r="900000"><c><v>1</v></c></row>',
        # spaces around "=", single quotes, a namespace prefix, lower-case letters
        '<row r="1"><c r = "A1" t="inlineStr"><is><t>监测点编号</t></is></c></row>'
        "<row r='900000'><x:c r='ZZ900000'><x:v>1</x:v></x:c></row>",
        '<row r="1"><c r="a1" t="inlineStr"><is><t>监测点编号</t></is></c></row>'
        '<row r="900000"><c r="zz900000"><v>1</v></c></row>',
    ],
)
def test_unusual_reference_syntax_does_not_get_past_the_guard(resources, write, body):
    error = failure(resources, write("odd.xlsx", with_sheet(body)))
    assert error.message.startswith("工作表“Sheet”的单元格范围过大")


def test_a_lying_dimension_only_costs_time(resources, write):
    """A <dimension> claiming one cell does not let a large sheet through, nor refuse a
    normal one: the exact count decides."""

    def row(number: int, values: list[str]) -> str:
        cells = "".join(
            f'<c r="{xlsx_extent.column_letters(i + 1)}{number}" t="inlineStr">'
            f"<is><t>{value}</t></is></c>"
            for i, value in enumerate(values)
        )
        return f'<row r="{number}">{cells}</row>'

    header = row(1, GAS_HEADER.split(","))
    rows = "".join(
        row(n, GAS_ROW.replace("GP000001", f"GP{n:06d}").split(",")) for n in range(2, 3000)
    )
    chunks = run(resources, write("liar.xlsx", with_sheet(header + rows, dimension="A1")))
    assert sum(len(chunk.frame) for chunk in chunks) == 2998
    assert chunks[-1].frame["point_id"].iloc[-1] == "GP002999"


# --- a property: the guard lets through only what calamine can hold -----------------

cell_positions = st.lists(
    st.tuples(st.integers(1, 3000), st.integers(1, 120)), min_size=1, max_size=12, unique=True
)


def _grid(path) -> int:
    """The cells calamine allocates for the sheet (0 when it cannot read it at all)."""
    try:
        data = fastexcel.read_excel(str(path)).load_sheet(
            0, header_row=None, skip_rows=0, dtypes="string", eager=True
        )
    except fastexcel.FastExcelError:
        return 0
    return data.num_rows * data.num_columns


CELL_STYLES = {
    "plain": '<c r="{ref}"><v>1</v></c>',
    "attribute-after": '<c t="n" r="{ref}"><v>1</v></c>',
    "no-reference": "<c><v>1</v></c>",
    "prefixed": '<x:c r="{ref}"><x:v>1</x:v></x:c>',
    "odd-prefix": '<a-b:c r="{ref}"><a-b:v>1</a-b:v></a-b:c>',
    "mixed-case": '<c r="{mixed}"><v>1</v></c>',
    "comment-first": '<c r="{ref}"><!-- x --><v>1</v></c>',
    "quoted-gt": '<c r="{ref}" z=">"><v>1</v></c>',
    "fake-r": '<c z="r=\'A1\'" r="{ref}"><v>1</v></c>',
    "spaced": "<c\n  r = '{ref}'><v>1</v></c>",
    "entity": '<c r="&#{code};{rest}"><v>1</v></c>',
}


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=cell_positions,
    style=st.sampled_from(sorted(CELL_STYLES)),
    dimension=st.sampled_from([None, "A1", "A1:B2", "A1:DZ3000"]),
)
def test_guard_is_sound(tmp_path_factory, monkeypatch, cells, style, dimension):
    """With a small cap, any sheet the guard accepts loads into a grid within the cap,
    and a sheet of plain references whose extent is within a quarter of the cap is
    always accepted."""
    monkeypatch.setattr(xlsx_extent, "MAX_SHEET_CELLS", 20_000)
    rows: dict[int, list[tuple[int, str]]] = {}
    for row, column in sorted(cells):
        letters = xlsx_extent.column_letters(column)
        ref = f"{letters}{row}"
        template = CELL_STYLES[style] if column % 2 or style != "no-reference" else ""
        cell = (template or CELL_STYLES["plain"]).format(
            ref=ref,
            mixed=letters[0] + letters[1:].lower() + str(row),
            code=ord(ref[0]),
            rest=ref[1:],
        )
        rows.setdefault(row, []).append((column, cell))
    body = "".join(
        f'<row r="{row}">' + "".join(cell for _, cell in sorted(items)) + "</row>"
        for row, items in sorted(rows.items())
    )
    path = tmp_path_factory.mktemp("guard") / "g.xlsx"
    path.write_bytes(with_sheet(body, dimension))
    extent = max(r for r, _ in cells) * max(c for _, c in cells)
    try:
        book = xlsx_archive.check_workbook(path)
        book.guard_sheet("Sheet")
    except InputError as error:
        assert "单元格范围过大" in error.message
        assert not (style == "plain" and extent <= 5_000)
        return
    assert _grid(path) <= 20_000


def test_duplicate_sheet_names_are_refused(resources, write):
    """Which of two sheets named alike a reader loads is up to the reader; the guard
    must check the one that is read, so such a workbook is refused."""
    data = gas_xlsx()
    workbook = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml")
    twice = re.sub(rb"(<sheet [^>]*/>)", rb"\1\1", workbook, count=1)
    error = failure(resources, write("twice.xlsx", replace_part(data, "xl/workbook.xml", twice)))
    assert error.message == "Excel 文件结构无效：工作表名称重复：Sheet"


def test_a_sheet_stored_under_another_name_is_still_guarded(resources, write):
    body = (
        '<row r="1"><c r="A1" t="inlineStr"><is><t>监测点编号</t></is></c></row>'
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    data = with_sheet(body)
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body_bytes = source.read(info)
            name = info.filename
            if name == SHEET:
                name = "xl/sheets/data.bin"
            if name == "xl/_rels/workbook.xml.rels":
                body_bytes = body_bytes.replace(b"worksheets/sheet1.xml", b"sheets/data.bin")
            target.writestr(name, body_bytes)
    error = failure(resources, write("moved.xlsx", out.getvalue()))
    assert error.message.startswith("工作表“Sheet”的单元格范围过大")


EXCEL_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    ' xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
    ' mc:Ignorable="x14ac xr xr2 xr3"'
    ' xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"'
    ' xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision"'
    ' xr:uid="{00000000-0001-0000-0000-000000000000}">'
    '<dimension ref="A1:C3"/><sheetViews><sheetView tabSelected="1" workbookViewId="0">'
    '<selection activeCell="B2" sqref="B2"/></sheetView></sheetViews>'
    '<sheetFormatPr defaultRowHeight="14.25" x14ac:dyDescent="0.2"/>'
    '<cols><col min="1" max="1" width="12" customWidth="1"/></cols><sheetData>'
    '<row r="1" spans="1:3" x14ac:dyDescent="0.2"><c r="A1" t="s"><v>0</v></c>'
    '<c r="B1" s="1" t="s"><v>1</v></c><c r="C1" t="s"><v>2</v></c></row>'
    '<row r="2" spans="1:3" ht="15" customHeight="1" x14ac:dyDescent="0.2">'
    '<c r="A2"><v>1.5</v></c><c r="B2" s="2"><f>A2*2</f><v>3</v></c><c r="C2" s="3"/></row>'
    '</sheetData><mergeCells count="1"><mergeCell ref="A3:C3"/></mergeCells>'
    '<hyperlinks><hyperlink ref="A1" r:id="rId2" display="x"/></hyperlinks>'
    '<phoneticPr fontId="1" type="noConversion"/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    '<pageSetup paperSize="9" orientation="portrait" r:id="rId1"/></worksheet>'
)


def test_a_sheet_as_excel_writes_it_takes_the_fast_path():
    """Nothing in a sheet written by Excel needs the exact (parsing) check."""
    data = EXCEL_SHEET.encode()
    assert not xlsx_extent.matches_any(data, xlsx_extent.fast_checks(3))
    odd = data.replace(b'<c r="C1"', b'<c\nr="C1"')
    assert xlsx_extent.matches_any(odd, xlsx_extent.fast_checks(3))


def test_formula_without_value_in_a_prefixed_sheet(resources, write):
    """A sheet writing "x:"-prefixed elements takes the exact extent check, and its formula
    cells without a cached value are still reported."""

    def row(number: int, values: list[str], formula_at: int | None = None) -> str:
        cells = []
        for i, value in enumerate(values):
            ref = f"{xlsx_extent.column_letters(i + 1)}{number}"
            if i == formula_at:
                cells.append(f'<x:c r="{ref}"><x:f>SUM(1,2)</x:f></x:c>')
            else:
                cells.append(f'<x:c r="{ref}" t="inlineStr"><x:is><x:t>{value}</x:t></x:is></x:c>')
        return f'<x:row r="{number}">{"".join(cells)}</x:row>'

    body = row(1, GAS_HEADER.split(",")) + row(2, GAS_ROW.split(","), formula_at=4)
    sheet = (
        '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<x:sheetData>{body}</x:sheetData></x:worksheet>"
    ).encode()
    chunk = run(resources, write("prefixed.xlsx", replace_part(gas_xlsx(), SHEET, sheet)))[0]
    assert chunk.errors == [
        RowError(
            2, "介质温度", "单元格 E2 是公式但没有计算结果，请在 Excel 中重新计算并保存后上传。"
        )
    ]


def test_a_title_merged_over_the_whole_row_leaves_the_header_alone(write):
    """A merged title spans columns no data uses: the header below is read as is, and
    the merge costs no more than the widest header allowed."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "燃气管网压力监测"
    sheet.merge_cells("A1:XFD1")
    sheet.append(["时间", "数值"])
    sheet.append(["2025-07-01 14:30", 0.35])
    out = io.BytesIO()
    book.save(out)
    table = open_xlsx(
        path=write("title.xlsx", out.getvalue()),
        scorer=lambda texts: int("时间" in texts) + int("数值" in texts),
        chunk_rows=10,
        sheet=None,
    )
    assert (table.headers, table.header_row) == (["时间", "数值"], 2)
    assert next(table.chunks).frame.values.tolist() == [["2025-07-01 14:30", "0.35"]]
