"""Large sheets read in slices (connectors.readers.xlsx.slices) come out exactly as read whole."""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
import zipfile

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import InputError
from connectors.readers.xlsx import archive as xlsx_archive
from connectors.readers.xlsx import reader as xlsx
from connectors.readers.xlsx import slices as xlsx_slices
from connectors.readers.xlsx.reader import open_xlsx

from .test_hostile import gas_xlsx, replace_part
from .test_xlsx_reader import NS, SHEET, sheet_xml


def scorer(texts) -> int:
    return sum(1 for text in texts if str(text).startswith("列"))


def read(path, chunk_rows: int = 7):
    """Everything a table yields: header, rows with their numbers and cells, errors."""
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=chunk_rows, sheet=None)
    rows, errors = [], []
    for chunk in table.chunks:
        for number, values in zip(chunk.source_rows, chunk.frame.values.tolist(), strict=True):
            rows.append((int(number), values))
        errors.extend((error.row, error.column, error.message) for error in chunk.errors)
    return table.headers, table.header_row, rows, sorted(errors)


class Slicing:
    """Switches slicing on for small sheets (tiny slices) or off, and counts slices."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tmp: str):
        self.monkeypatch, self.counts = monkeypatch, []
        original = xlsx.slice_sheet

        def counted(book, name):
            sliced = original(book, name)
            self.counts.append(len(sliced.cuts) if sliced is not None else 0)
            return sliced

        monkeypatch.setattr(xlsx, "slice_sheet", counted)
        monkeypatch.setattr(tempfile, "tempdir", tmp)

    def small(self) -> None:
        self.monkeypatch.setattr(xlsx_slices, "SLICE_FROM", 0)
        self.monkeypatch.setattr(xlsx_slices, "FIRST_SLICE_BYTES", 300)
        self.monkeypatch.setattr(xlsx_slices, "SLICE_BYTES", 700)

    def off(self) -> None:
        self.monkeypatch.setattr(xlsx_slices, "SLICE_FROM", 1 << 62)


@pytest.fixture
def slicing(monkeypatch, tmp_path):
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    yield Slicing(monkeypatch, str(tmp))
    assert os.listdir(tmp) == []  # every slice file is gone


def both_ways(slicing: Slicing, path, slices: int = 4):
    slicing.off()
    whole = read(path)
    slicing.small()
    sliced = read(path)
    assert slicing.counts[-1] >= slices, "the sheet was not sliced"
    return whole, sliced


cell = st.one_of(
    st.none(),
    st.integers(-(10**9), 10**9),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=5),
    st.booleans(),
    st.datetimes(dt.datetime(1905, 1, 1), dt.datetime(2099, 12, 31)).map(
        lambda value: value.replace(microsecond=0)
    ),
    st.times().map(lambda value: value.replace(microsecond=0)),
    st.just("=1+1"),  # a formula without a cached value (openpyxl writes none)
)
# A row: blank, a labelled row of cells (far columns: long rows with gaps), a row whose
# only cell is a formula without a value, or a stray cell left of the table.
row = st.one_of(
    st.just(("blank", [])),
    st.tuples(st.just("cells"), st.lists(cell, max_size=6)),
    st.tuples(st.just("cells"), st.tuples(st.none(), st.none(), st.none(), cell).map(list)),
    st.just(("formula", [])),
    st.tuples(st.just("stray"), st.text("甲乙", min_size=1, max_size=2).map(lambda t: [t])),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    titles=st.integers(0, 2),
    left=st.integers(0, 2),
    width=st.integers(1, 4),
    merged=st.booleans(),
    rows=st.lists(row, min_size=40, max_size=90).filter(
        lambda rows: sum(kind == "cells" for kind, _cells in rows) >= 36
    ),
    date1904=st.booleans(),
)
def test_a_sliced_sheet_reads_as_the_whole_sheet(
    slicing, tmp_path, titles, left, width, merged, rows, date1904
):
    """Headers, row numbers, cells and errors (long rows, formulas without a value) are
    the same whatever the slices: cell types, blank rows, title rows, leading empty
    columns, a merged header cell over columns used only further down, cells left of
    the table, rows holding only a formula, both date systems."""
    book = openpyxl.Workbook()
    if date1904:
        book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    for title in range(titles):
        sheet.append([None] * left + [f"标题{title}"])
    sheet.append([None] * left + [f"列{i}" for i in range(width + 1)])
    if merged:  # the last header cell spans two more columns, used in the next row
        header_row, last = titles + 1, left + width + 1
        sheet.append([None] * left + ["行首"] + ["值"] * (width + 2))
        sheet.merge_cells(
            start_row=header_row, start_column=last, end_row=header_row, end_column=last + 2
        )
    for number, (kind, cells) in enumerate(rows):
        if kind == "cells":  # a label first, so rows have content where cuts can fall
            sheet.append([None] * left + [f"行{number}", *cells])
        elif kind == "formula":
            sheet.append([None] * left + ["=1+1"])
        elif kind == "stray" and left:
            sheet.append(cells)  # in column A, left of the table
        else:
            sheet.append([])
    path = tmp_path / "sheet.xlsx"
    book.save(path)
    whole, sliced = both_ways(slicing, path, slices=2)
    assert sliced == whole


def inline_row(number: int, *, first: str = "A") -> str:
    second = chr(ord(first) + 1)
    return (
        f'<row r="{number}"><c r="{first}{number}" t="inlineStr"><is><t>v{number}</t></is></c>'
        f'<c r="{second}{number}" t="n"><v>{number}.5</v></c></row>'
    )


HEADER = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>列0</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>列1</t></is></c></row>'
)


def workbook(write, body: str):
    return write("sheet.xlsx", replace_part(gas_xlsx(), SHEET, sheet_xml(body)))


def test_inline_strings_and_gaps_read_alike(slicing, write):
    """Rows as openpyxl's write-only mode and the benchmark write them, with gaps."""
    numbers = [n for n in range(2, 200) if n % 7]
    path = workbook(write, HEADER + "".join(inline_row(n) for n in numbers))
    whole, sliced = both_ways(slicing, path)
    assert sliced == whole
    assert [row for row, _values in sliced[2]] == numbers
    assert sliced[2][-1] == (199, ["v199", "199.5"])


@pytest.mark.parametrize(
    "body",
    [
        # row 50 stored at the end
        HEADER + "".join(inline_row(n) for n in range(2, 120) if n != 50) + inline_row(50),
        # row 40 twice
        HEADER + "".join(inline_row(n) for n in range(2, 120)) + inline_row(40),
        # row 60 after row 119, with its cells in other columns than its neighbours
        HEADER
        + "".join(inline_row(n) for n in range(2, 120) if n != 60)
        + inline_row(60, first="B"),
        # row 100 stored first
        inline_row(100) + HEADER + "".join(inline_row(n) for n in range(2, 120) if n != 100),
        # every row again at the end, as an empty styled cell (no value)
        HEADER
        + "".join(inline_row(n) for n in range(2, 120))
        + "".join(f'<row r="{n}"><c r="A{n}" s="0"/></row>' for n in range(2, 120)),
    ],
    ids=["moved", "twice", "other-columns", "first", "empty-duplicates"],
)
def test_rows_out_of_order_are_refused_not_misread(slicing, write, body):
    """OOXML requires ascending rows and Excel writes them so; calamine places any order.
    Sliced, a row out of order would fall into another slice: refused with its place."""
    slicing.small()
    with pytest.raises(InputError) as info:
        read(workbook(write, body))
    assert "行未按行号顺序存放" in info.value.message
    assert info.value.row is not None and 2 <= info.value.row <= 120


@pytest.mark.parametrize(
    "markup",
    ["<!-- note -->", "<?hub pi?>", '<c r="C5"><is><t><![CDATA[<row r="9">]]></t></is></c>'],
    ids=["comment", "processing-instruction", "cdata"],
)
def test_comments_cdata_and_instructions_are_read_whole(slicing, write, markup):
    """A cut could fall inside them: such a sheet is not sliced, and reads the same."""
    rows = [inline_row(n) for n in range(2, 120)]
    rows[3] = rows[3].replace("</row>", markup + "</row>", 1)
    path = workbook(write, HEADER + "".join(rows))
    slicing.off()
    whole = read(path)
    slicing.small()
    assert read(path) == whole
    assert slicing.counts[-1] == 0


def test_a_sheet_the_guard_flags_is_read_whole(slicing, write):
    rows = [inline_row(n) for n in range(2, 120)]
    rows[5] = rows[5].replace('<c r="A7"', '<c  s="0" r="A7"')  # first attribute not r
    slicing.small()
    headers, _row, read_rows, _errors = read(workbook(write, HEADER + "".join(rows)))
    assert slicing.counts[-1] == 0
    assert len(read_rows) == 118 and headers == ["列0", "列1"]


def test_slice_files_go_when_the_header_is_not_found(slicing, write):
    slicing.small()
    body = "".join(inline_row(n) for n in range(1, 120))
    with pytest.raises(InputError):
        read(workbook(write, body))
    assert slicing.counts[-1] > 3


def test_a_large_sheet_is_sliced_at_the_default_sizes(slicing, write):
    """About 9 MB of XML: sliced with the shipped settings, every row read in order."""
    rows = 75_000
    body = HEADER + "".join(inline_row(n) for n in range(2, rows + 2))
    path = workbook(write, body)
    _headers, header_row, read_rows, errors = read(path, chunk_rows=25_000)
    assert slicing.counts[-1] >= 3
    assert header_row == 1 and errors == []
    assert [row for row, _values in read_rows] == list(range(2, rows + 2))
    assert read_rows[12_345] == (12_347, ["v12347", "12347.5"])


def with_shared_strings(
    strings: list[str], body: str, *, part: str = "xl/sharedStrings.xml", related: bool = True
) -> bytes:
    """A workbook whose sheet refers to a shared-string table, as Excel writes them."""
    table = "".join(f"<si><t>{text}</t></si>" for text in strings)
    shared = f'<sst {NS} count="{len(strings)}" uniqueCount="{len(strings)}">{table}</sst>'
    data = replace_part(gas_xlsx(), SHEET, sheet_xml(body))
    if related:
        source = zipfile.ZipFile(io.BytesIO(data))
        rels = source.read("xl/_rels/workbook.xml.rels").decode()
        rels = rels.replace(
            "</Relationships>",
            f'<Relationship Id="rIdShared" Target="{part.removeprefix("xl/")}" Type="http://'
            'schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"/>'
            "</Relationships>",
        )
        data = replace_part(data, "xl/_rels/workbook.xml.rels", rels.encode())
    out = io.BytesIO(data)
    with zipfile.ZipFile(out, "a", zipfile.ZIP_DEFLATED) as target:
        target.writestr(part, shared)
    return out.getvalue()


SHARED = ["列0", "列1", *(f"共享{number}" for number in range(13))]
SHARED_ROWS = "".join(
    [
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
        *(
            f'<row r="{n}"><c r="A{n}" t="s"><v>{2 + n % 13}</v></c>'
            f'<c r="B{n}"><v>{n}</v></c></row>'
            for n in range(2, 400)
        ),
    ]
)


@pytest.mark.parametrize(
    ("part", "related"),
    [
        ("xl/sharedStrings.xml", True),
        ("xl/SharedStrings.xml", False),
    ],
    ids=["excel", "other-case-unrelated"],
)
def test_shared_strings_are_read_through_the_slices(slicing, write, part, related):
    """The slices keep the original's shared-string table however calamine finds it (by
    its name, ignoring case): values come out as stored."""
    path = write(
        "shared.xlsx", with_shared_strings(SHARED, SHARED_ROWS, part=part, related=related)
    )
    whole, sliced = both_ways(slicing, path)
    assert sliced == whole
    assert sliced[2][:2] == [(2, ["共享2", "2"]), (3, ["共享3", "3"])]
    assert sliced[2][-1] == (399, [f"共享{399 % 13}", "399"])


def test_messages_of_the_slice_thread_are_in_the_callers_language(slicing, write):
    body = HEADER + "".join(inline_row(n) for n in range(2, 120) if n != 50) + inline_row(50)
    slicing.small()
    with translation.override("en"), pytest.raises(InputError) as info:
        read(workbook(write, body))
    assert info.value.message.startswith("The rows of sheet")


def test_a_long_tail_after_the_rows_still_slices(slicing, write):
    """Conditional formats, validations and extensions after </sheetData> (kilobytes in
    Excel's files) are not needed by the slices."""
    rows = HEADER + "".join(inline_row(n) for n in range(2, 200))
    tail = "".join(
        f'<conditionalFormatting sqref="A{n}"><cfRule type="expression" priority="{n}">'
        f"<formula>A{n}&gt;0</formula></cfRule></conditionalFormatting>"
        for n in range(1, 100)
    )
    xml = f"<worksheet {NS}><sheetData>{rows}</sheetData>{tail}</worksheet>".encode()
    path = write("tail.xlsx", replace_part(gas_xlsx(), SHEET, xml))
    whole, sliced = both_ways(slicing, path)
    assert sliced == whole and len(tail) > 8 * 1024


def test_a_long_prefix_is_read_whole(slicing, write):
    """What precedes <sheetData> is repeated in every slice: not when it is long."""
    columns = "".join(f'<col min="{n}" max="{n}" width="12"/>' for n in range(1, 3000))
    rows = HEADER + "".join(inline_row(n) for n in range(2, 200))
    xml = f"<worksheet {NS}><cols>{columns}</cols><sheetData>{rows}</sheetData></worksheet>"
    path = write("prefix.xlsx", replace_part(gas_xlsx(), SHEET, xml.encode()))
    slicing.off()
    whole = read(path)
    slicing.small()
    assert read(path) == whole and slicing.counts[-1] == 0 and len(columns) > 64 * 1024


def test_no_usable_temporary_directory_reads_whole(slicing, write, tmp_path):
    path = workbook(write, HEADER + "".join(inline_row(n) for n in range(2, 200)))
    slicing.off()
    whole = read(path)
    slicing.small()
    slicing.monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    assert read(path) == whole and slicing.counts[-1] == 0


def test_a_disk_error_while_slicing_falls_back_to_reading_whole(slicing, write, monkeypatch):
    path = workbook(write, HEADER + "".join(inline_row(n) for n in range(2, 200)))
    slicing.off()
    whole = read(path)
    slicing.small()

    def full(self, cut):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx_slices.SliceWriter, "_open", full)
    assert read(path) == whole
    assert slicing.counts[-1] == 0


def test_the_chosen_sheet_is_sliced_and_read(slicing, tmp_path):
    book = openpyxl.Workbook()
    first = book.active
    first.title = "封面"
    second = book.create_sheet("数据")
    for sheet, tag in ((first, "甲"), (second, "乙")):
        sheet.append(["列0", "列1"])
        for number in range(2, 200):
            sheet.append([f"{tag}{number}", number])
    path = tmp_path / "two.xlsx"
    book.save(path)
    slicing.small()
    table = open_xlsx(path=path, scorer=scorer, chunk_rows=50, sheet="数据")
    rows = [row for chunk in table.chunks for row in chunk.frame.values.tolist()]
    assert slicing.counts == [slicing.counts[0]] and slicing.counts[0] >= 4
    assert rows[0] == ["乙2", "2"] and rows[-1] == ["乙199", "199"] and len(rows) == 198
    # Only one sheet is cut into slices: the chosen one, else the first large one.
    for choice, sliced in ((None, "封面"), ("数据", "数据"), ("2", "数据"), ("1", "封面")):
        book = xlsx_archive.check_workbook(path, sheet=choice)
        try:
            assert [name for name, part in book.parts.items() if part in book.slices] == [sliced]
        finally:
            book.close()
