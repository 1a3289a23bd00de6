"""Rows and columns hidden in Excel: found by the archive pass (sheet_scan.note_hidden),
loaded as usual, and said (notices ``hidden_rows``, ``hidden_column``)."""

from __future__ import annotations

import io
import os
import re
import tempfile
import xml.etree.ElementTree as ElementTree
import zipfile

import openpyxl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.readers.base import HEADER_SEARCH_ROWS
from connectors.readers.xlsx import reader as xlsx
from connectors.readers.xlsx import slices as xlsx_slices
from connectors.readers.xlsx.extent import OVERLAP
from connectors.readers.xlsx.reader import open_xlsx
from connectors.readers.xlsx.sheet_scan import SheetScan, scan_block
from hub.records.notices import HIDDEN_BY_DEFAULT, HIDDEN_ROWS, Notice

from .test_hostile import GAS_HEADER, GAS_ROW, replace_part, run

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
X14AC = "http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac"


def scorer(texts) -> int:
    return sum(1 for text in texts if str(text).startswith("列"))


def hidden_notices(table) -> list[Notice]:
    return [notice for notice in table.warnings if notice.code == HIDDEN_ROWS]


SHEET = "xl/worksheets/sheet1.xml"


def patched(data: bytes, *, sheet_format: str, zero_high: tuple[int, ...] = ()) -> bytes:
    """An openpyxl workbook with its <sheetFormatPr> replaced and the rows ``zero_high``
    given a height of 0 (openpyxl writes no ``ht`` for a height of 0)."""
    xml = zipfile.ZipFile(io.BytesIO(data)).read(SHEET).decode()
    xml = re.sub(r"<sheetFormatPr [^>]*/>", sheet_format, xml)
    for row in zero_high:
        xml = xml.replace(f'<row r="{row}">', f'<row r="{row}" ht="0" customHeight="1">')
    return replace_part(data, SHEET, xml.encode())


def workbook(rows: int, hidden: list[int], *, empty_hidden: tuple[int, ...] = ()) -> bytes:
    """A title row, a header "列1..列4" in row 2, ``rows`` data rows from row 3; the
    sheet rows ``hidden`` hidden, and the empty rows ``empty_hidden`` hidden too."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["燃气管网压力监测"])
    sheet.append(["列1", "列2", "列3", "列4"])
    for number in range(rows):
        sheet.append([f"GP{number:06d}", number, "黄浦区", f"备注{number}"])
    for row in [*hidden, *empty_hidden]:
        sheet.row_dimensions[row].hidden = True
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_hidden_rows_below_the_header_are_counted_and_still_read(tmp_path):
    # Row 1 (the title, above the header) is hidden too: not a data row. Row 60 is an
    # empty hidden row: it holds nothing and loads nothing.
    path = tmp_path / "hidden.xlsx"
    path.write_bytes(workbook(40, [1, 4, 9, 33, 40], empty_hidden=(60,)))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert table.header_row == 2
    assert hidden_notices(table) == [Notice(HIDDEN_ROWS, "", {"rows": 4, "first": 4})]
    rows = [int(number) for chunk in table.chunks for number in chunk.source_rows]
    assert rows == list(range(3, 43))  # the hidden rows are loaded as usual


def test_a_sheet_without_hidden_rows_has_no_notice(tmp_path):
    path = tmp_path / "plain.xlsx"
    path.write_bytes(workbook(10, []))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert table.warnings == [] and table.hidden_columns == {}


def test_rows_hidden_by_default_are_said_and_still_read(tmp_path):
    # zeroHeight: the rows the sheet does not write are hidden (they hold nothing); the
    # written rows are read as usual and the sheet says that its rows are hidden by
    # default. Rows 5 and 9 are zero high: hidden whatever zeroHeight says, counted.
    sheet_format = '<sheetFormatPr baseColWidth="8" defaultRowHeight="15" zeroHeight="1"/>'
    path = tmp_path / "zero.xlsx"
    path.write_bytes(patched(workbook(10, []), sheet_format=sheet_format, zero_high=(5, 9)))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert table.warnings == [
        Notice(HIDDEN_ROWS, "", {"rows": 2, "first": 5}),
        Notice(HIDDEN_BY_DEFAULT, "", {}),
    ]
    chunks = list(table.chunks)
    rows = [int(number) for chunk in chunks for number in chunk.source_rows]
    assert rows == list(range(3, 13))
    first = [str(value) for chunk in chunks for value in chunk.frame.iloc[:, 0]]
    assert first == [f"GP{number:06d}" for number in range(10)]


@pytest.mark.parametrize(
    "sheet_format",
    [
        '<sheetFormatPr defaultRowHeight="15" zeroHeight="true"/>',
        "<sheetFormatPr zeroHeight='1' defaultRowHeight='15'/>",
        '<sheetFormatPr defaultRowHeight="0" customHeight="1"/>',  # zero high by default
        '<sheetFormatPr defaultRowHeight="0.0" zeroHeight="1"/>',
    ],
)
def test_each_spelling_of_rows_hidden_by_default(tmp_path, sheet_format):
    path = tmp_path / "zero.xlsx"
    path.write_bytes(patched(workbook(4, []), sheet_format=sheet_format))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert table.warnings == [Notice(HIDDEN_BY_DEFAULT, "", {})]
    assert [int(n) for chunk in table.chunks for n in chunk.source_rows] == [3, 4, 5, 6]


@pytest.mark.parametrize(
    "sheet_format",
    [
        '<sheetFormatPr defaultRowHeight="15" zeroHeight="0"/>',
        '<sheetFormatPr defaultRowHeight="0.5"/>',
        '<sheetFormatPr defaultRowHeight="15" zeroHeight="false"/>',
    ],
)
def test_rows_shown_by_default_say_nothing(tmp_path, sheet_format):
    path = tmp_path / "shown.xlsx"
    path.write_bytes(patched(workbook(4, []), sheet_format=sheet_format))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert table.warnings == []


def test_first_hidden_row_below_the_rows_a_header_can_be_in(tmp_path):
    path = tmp_path / "hidden.xlsx"
    path.write_bytes(workbook(60, [45, 50, 51]))
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=100, sheet=None)
    assert hidden_notices(table) == [Notice(HIDDEN_ROWS, "", {"rows": 3, "first": 45})]


def test_hidden_columns_are_named_with_their_letters(resources, tmp_path):
    """A hidden column mapped to a field is said; a hidden column the resource does not
    have is ignored (and said so); a hidden range beyond the table says nothing."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([None, *GAS_HEADER.split(","), "备注"])  # the table starts in column B
    sheet.append([None, *GAS_ROW.split(","), "x"])
    sheet.column_dimensions["F"].hidden = True  # 介质温度
    sheet.column_dimensions["J"].hidden = True  # 备注
    sheet.column_dimensions.group("L", "P", hidden=True)
    path = tmp_path / "columns.xlsx"
    book.save(path)
    warnings = [notice.as_dict() for notice in run(resources, path)[0].warnings]
    assert {"code": "hidden_column", "column": "介质温度", "params": {"letter": "F"}} in warnings
    assert {"code": "ignored_column", "column": "备注", "params": {}} in warnings
    assert [w for w in warnings if w["code"].startswith("hidden")] == [
        {"code": "hidden_column", "column": "介质温度", "params": {"letter": "F"}}
    ]


# --- the scan, block by block as the archive pass feeds it -------------------------

# How a row is hidden (or not): by ``hidden``, or by a height of 0.
HIDING = {
    "": False,
    ' hidden="1"': True,
    ' hidden="true"': True,
    ' hidden="0"': False,
    " hidden='1'": True,
    ' ht="0"': True,
    " ht='0.00'": True,
    ' ht="0" hidden="0"': True,
    ' ht="0.5"': False,
    ' ht="10"': False,
}
row_spec = st.tuples(
    st.integers(1, 3),  # step to the next row number
    st.sampled_from(sorted(HIDING)),
    st.booleans(),  # holds a cell
    st.integers(0, 120),  # length of the attributes around "hidden" (long start tags)
)
# The sheet's <sheetFormatPr>, and whether it hides rows by default.
SHEET_FORMATS = {
    "": False,
    '<sheetFormatPr defaultRowHeight="15"/>': False,
    '<sheetFormatPr defaultRowHeight="15" zeroHeight="1"/>': True,
    "<sheetFormatPr zeroHeight='true' defaultRowHeight='15'/>": True,
    '<sheetFormatPr defaultRowHeight="0"/>': True,
    '<sheetFormatPr defaultRowHeight="0.25" zeroHeight="0"/>': False,
}


def sheet_xml(
    specs,
    hidden_columns: list[tuple[int, int]],
    first: int = 1,
    sheet_format: str = "",
    views: int = 0,
) -> tuple[bytes, list[int]]:
    """A worksheet's XML (rows from ``first``; <sheetViews> of about ``views`` bytes
    before ``sheet_format``), and the rows hidden that hold a cell."""
    cols = "".join(f'<col min="{a}" max="{b}" width="9" hidden="1"/>' for a, b in hidden_columns)
    cols = f'<cols><col min="1" max="1" width="12"/>{cols}</cols>' if cols else ""
    rows, expected, number = [], [], first - 1
    for step, hidden, cells, padding in specs:
        number += step
        height = "s" if "ht=" in hidden else "ht"  # one ht attribute at most
        before = f' spans="1:4" {height}="{"1" * padding}"' if padding % 2 else ""
        after = f' x14ac:dyDescent="{"2" * padding}"' if padding % 3 else ""
        cell = f'<c r="A{number}" t="inlineStr"><is><t>v{number}</t></is></c>' if cells else ""
        rows.append(f'<row r="{number}"{before}{hidden}{after}>{cell}</row>')
        if cells and HIDING[hidden]:
            expected.append(number)
    xml = f'<worksheet xmlns="{NS}" xmlns:x14ac="{X14AC}">'
    xml += f'<dimension ref="A1:A{number}"/>'
    xml += f'<sheetViews><sheetView workbookViewId="{"0" * max(views, 1)}"/></sheetViews>'
    xml += f"{sheet_format}{cols}<sheetData>"
    return (xml + "".join(rows) + "</sheetData></worksheet>").encode(), expected


def scan_in_blocks(xml: bytes, sizes: list[int]) -> SheetScan:
    """The scan as ``archive._first_pass`` runs it: blocks of ``sizes`` bytes (the last
    one shorter), each with the previous one's last OVERLAP bytes in front."""
    scan, tail, start = SheetScan(), b"", 0
    for size in sizes:
        block = xml[start : start + size]
        if not block:
            break
        scan_block(scan, tail + block, len(tail), [], count_rows=False)
        tail, start = block[-OVERLAP:], start + size
    return scan


@settings(max_examples=200, deadline=None)
@given(
    specs=st.lists(row_spec, min_size=1, max_size=120),
    first=st.integers(1, 2 * HEADER_SEARCH_ROWS),
    columns=st.lists(st.tuples(st.integers(2, 9), st.integers(0, 3)), max_size=3),
    # Block sizes: every block but the last is at least OVERLAP bytes, as in the pass
    # (a 64 KiB prolog, then BLOCK bytes at a time).
    sizes=st.lists(st.integers(OVERLAP, 2 * OVERLAP + 400), max_size=40),
    header_row=st.integers(1, HEADER_SEARCH_ROWS),
    sheet_format=st.sampled_from(sorted(SHEET_FORMATS)),
    views=st.integers(0, 3 * OVERLAP),
)
def test_block_boundaries_change_nothing(
    specs, first, columns, sizes, header_row, sheet_format, views
):
    ranges = [(low, low + extra) for low, extra in columns]
    xml, hidden = sheet_xml(specs, ranges, first, sheet_format, views)
    ElementTree.fromstring(xml)  # well-formed
    scan = scan_in_blocks(xml, [*sizes, len(xml)])
    below = [row for row in hidden if row > header_row]
    assert scan.hidden_below(header_row) == (len(below), min(below) if below else None)
    assert scan.hidden_columns == ranges
    assert scan.hidden_by_default is SHEET_FORMATS[sheet_format]


# --- whole and sliced ----------------------------------------------------------------


@pytest.fixture
def small_slices(monkeypatch, tmp_path):
    """Slicing on for small sheets (tiny slices); returns the slice counts seen."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    counts: list[int] = []
    original = xlsx.slice_sheet

    def counted(book, name):
        sliced = original(book, name)
        counts.append(len(sliced.cuts) if sliced is not None else 0)
        return sliced

    monkeypatch.setattr(xlsx, "slice_sheet", counted)
    yield monkeypatch, counts
    assert os.listdir(tmp) == []  # every slice file is gone


def read(path):
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=7, sheet=None)
    rows = [int(number) for chunk in table.chunks for number in chunk.source_rows]
    return hidden_notices(table), rows


def test_sliced_sheet_reports_the_hidden_rows_as_the_whole_sheet(small_slices, tmp_path):
    monkeypatch, counts = small_slices
    hidden = [5, 31, 32, 77, 150, 151, 299]
    path = tmp_path / "sliced.xlsx"
    path.write_bytes(workbook(300, hidden, empty_hidden=(400,)))
    monkeypatch.setattr(xlsx_slices, "SLICE_FROM", 1 << 62)
    whole = read(path)
    assert counts[-1] == 0
    monkeypatch.setattr(xlsx_slices, "SLICE_FROM", 0)
    monkeypatch.setattr(xlsx_slices, "FIRST_SLICE_BYTES", 300)
    monkeypatch.setattr(xlsx_slices, "SLICE_BYTES", 700)
    sliced = read(path)
    assert counts[-1] >= 4, "the sheet was not sliced"
    assert sliced == whole
    assert whole == ([Notice(HIDDEN_ROWS, "", {"rows": 7, "first": 5})], list(range(3, 303)))
