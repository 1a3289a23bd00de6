"""The streaming XLSX export: a valid workbook, sent while rows are still being read."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.http import StreamingHttpResponse
from openpyxl import load_workbook

from hub.api import record_exports, xlsx_stream
from hub.api.record_exports import export_response

HEADER = ["名称", "数量", "比例", "备注", "有效", "公式", "符号", "控制", "大数", "非数"]
ROW = ["黄浦区南京东路100号", 42, 2.5, None, True, "=SUM(A1:A2)", '<a & b> "c"', "a\x01b\x0bc"]
ROW += [10**16, float("nan")]


class PulledRows:
    """Rows produced on demand, remembering how many were pulled so far."""

    def __init__(self, count: int, row: list | None = None) -> None:
        self.count = count
        self.row = row or ["K", "310101", "黄浦区南京东路100号", "138****5678", "12.5"]
        self.pulled = 0

    def __iter__(self):
        for index in range(self.count):
            self.pulled += 1
            yield [f"K{index}", *self.row[1:]]


def export(rows, header=HEADER, fmt="xlsx"):
    done: list[int] = []
    response = export_response(fmt, header, rows, "fire-incidents", done.append)
    return response, done


def read_sheet(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.title == "records"
    return [[cell.value for cell in row] for row in sheet.iter_rows()]


def test_workbook_values_and_types():
    response, done = export(iter([ROW, [None] * len(HEADER)]))
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == xlsx_stream.CONTENT_TYPE
    assert response["Content-Disposition"] == 'attachment; filename="fire-incidents.xlsx"'
    content = b"".join(response.streaming_content)
    assert done == [2]
    header, first, empty = read_sheet(content)
    assert header == HEADER
    assert first == [
        "黄浦区南京东路100号",
        42,
        2.5,
        None,
        True,
        "'=SUM(A1:A2)",  # Neutralised: never evaluated as a formula.
        '<a & b> "c"',
        "abc",  # Control characters illegal in XML 1.0 are dropped.
        "10000000000000000",  # Beyond Excel's 15 digits: text, not a rounded number.
        "nan",
    ]
    assert [type(value) for value in first[:5]] == [str, int, float, type(None), bool]
    assert empty == [None] * len(HEADER)
    # Read-only mode (no sheet dimension to pad from) still sees full rows.
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    assert [len(row) for row in sheet.iter_rows(values_only=True)] == [len(HEADER)] * 3


def test_text_survives_whitespace_and_line_breaks():
    values = [" leading", "trailing ", "two\nlines", "cr\r\nlf", "tab\there", False, -7]
    content = b"".join(xlsx_stream.xlsx_stream(list("abcdefg"), [values], 10))
    assert read_sheet(content)[1] == values


def test_package_is_a_deflated_zip_with_the_minimal_parts():
    content = b"".join(export(iter([ROW]))[0].streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == [
            "[Content_Types].xml",
            "_rels/.rels",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/worksheets/sheet1.xml",
        ]
        assert {info.compress_type for info in archive.infolist()} == {zipfile.ZIP_DEFLATED}
        sheet = archive.read("xl/worksheets/sheet1.xml").decode("utf-8")
    assert 't="inlineStr"' in sheet and "&lt;a &amp; b&gt;" in sheet and "\x01" not in sheet


def test_first_chunk_is_sent_before_the_rows_are_read():
    rows = PulledRows(3 * xlsx_stream.CHUNK_ROWS)
    response, done = export(rows, header=["key", "district", "address", "phone", "depth"])
    chunks = iter(response.streaming_content)
    first = next(chunks)
    assert first.startswith(b"PK\x03\x04")
    assert rows.pulled == 0  # The fixed parts and sheet start go out before any row.
    second = next(chunks)
    assert second and rows.pulled < rows.count  # Rows flow out chunk by chunk, too.
    assert done == []
    rest = b"".join(chunks)
    assert done == [rows.count]
    assert len(read_sheet(first + second + rest)) == rows.count + 1


@pytest.mark.django_db  # response.close() sends request_finished, which closes connections.
def test_client_going_away_logs_the_rows_read_so_far():
    rows = PulledRows(5 * xlsx_stream.CHUNK_ROWS)
    response, done = export(rows, header=["key", "district", "address", "phone", "depth"])
    chunks = iter(response.streaming_content)
    next(chunks)
    next(chunks)
    response.close()  # What the server does when the client disconnects.
    assert done == [rows.pulled]
    assert 0 < rows.pulled < rows.count


def test_row_cap_pulls_and_counts_only_the_rows_written(monkeypatch):
    monkeypatch.setattr(record_exports, "XLSX_MAX_ROWS", 2)
    rows = PulledRows(5)
    response, done = export(rows, header=["key", "district", "address", "phone", "depth"])
    table = read_sheet(b"".join(response.streaming_content))
    assert [row[0] for row in table] == ["key", "K0", "K1"]
    assert done == [2] and rows.pulled == 2


def test_sheet_has_no_zip64_fields():
    # Excel refuses workbooks whose parts carry zip64 fields they do not need.
    content = b"".join(export(iter([ROW]))[0].streaming_content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    assert info.extra == b""  # central directory
    local = content[info.header_offset : info.header_offset + 30]
    assert local[:4] == b"PK\x03\x04"
    assert int.from_bytes(local[4:6], "little") == 20  # version needed: 2.0, not 4.5
    assert int.from_bytes(local[28:30], "little") == 0  # no extra field (zip64 would be one)


def test_sheet_size_limit_ends_the_export_like_the_row_cap(monkeypatch):
    monkeypatch.setattr(xlsx_stream, "SHEET_LIMIT", 60_000)
    monkeypatch.setattr(xlsx_stream, "SHEET_MARGIN", 0)
    monkeypatch.setattr(xlsx_stream, "CHUNK_ROWS", 10)
    rows = PulledRows(10_000)
    response, done = export(rows, header=["key", "district", "address", "phone", "depth"])
    content = b"".join(response.streaming_content)
    table = read_sheet(content)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        size = archive.getinfo("xl/worksheets/sheet1.xml").file_size
    assert 0 < rows.pulled < rows.count
    assert done == [rows.pulled] and len(table) == rows.pulled + 1  # every row read is written
    assert size < 60_000 + 5_000  # the last chunk may be written past the check, not more


def test_memory_stays_bounded_for_many_rows():
    rows = PulledRows(200_000)
    response, done = export(rows, header=["key", "district", "address", "phone", "depth"])
    sizes = [len(chunk) for chunk in response.streaming_content]
    assert done == [200_000]
    # No chunk holds more than a flush's worth of compressed rows, whatever the total.
    assert max(sizes) < 256 * 1024
    assert sum(sizes) > 20 * max(sizes)
    assert len(sizes) > 20


@pytest.mark.parametrize("index,letters", [(1, "A"), (26, "Z"), (27, "AA"), (702, "ZZ")])
def test_column_letters(index, letters):
    assert xlsx_stream.column_letter(index) == letters
