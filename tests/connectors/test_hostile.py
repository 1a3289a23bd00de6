"""Hostile and broken inputs: each is refused (or reported) with an exact, clear message."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest

from connectors.base import InputError, RowError
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector
from connectors.readers.xlsx import archive as xlsx_archive

GAS_HEADER = "监测点编号,监测时间,所属区,管网压力,介质温度,压力级制,纬度,经度"
GAS_ROW = "GP000001,2025-07-01 14:30:00,黄浦区,0.35,20,低压,31.23,121.47"


def gas_xlsx(rows: list[list[object]] | None = None) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(GAS_HEADER.split(","))
    for row in [GAS_ROW.split(",")] if rows is None else rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_part(data: bytes, name: str, content: bytes) -> bytes:
    """A copy of the zip ``data`` with part ``name`` replaced (deflated)."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = content if info.filename == name else source.read(info)
            target.writestr(info.filename, body)
    return out.getvalue()


def run(resources, path, filename=None):
    return list(
        parse_file(
            path=path,
            filename=filename or path.name,
            resource=resources["gas-pipeline-pressure"],
            connector=GenericConnector(),
        )
    )


def failure(resources, path, filename=None) -> InputError:
    with pytest.raises(InputError) as info:
        run(resources, path, filename)
    return info.value


def test_zip_bomb_is_rejected_from_the_central_directory(resources, write):
    sheet = b'<?xml version="1.0"?><worksheet>' + b" " * (8 * 2**20) + b"</worksheet>"
    data = replace_part(gas_xlsx(), "xl/worksheets/sheet1.xml", sheet)
    info = zipfile.ZipFile(io.BytesIO(data)).getinfo("xl/worksheets/sheet1.xml")
    ratio = int(info.file_size / info.compress_size)
    assert ratio > 100
    error = failure(resources, write("bomb.xlsx", data))
    assert error.message == (
        f"Excel 文件解压后过大（xl/worksheets/sheet1.xml：8 MB，压缩比 {ratio}），已拒绝。"
    )


def test_total_uncompressed_size_limit(resources, write, monkeypatch):
    monkeypatch.setattr(xlsx_archive, "MAX_UNCOMPRESSED", 1000)
    error = failure(resources, write("big.xlsx", gas_xlsx()))
    assert error.message.startswith("Excel 文件解压后过大（")


def test_xml_entity_bomb_is_rejected(resources, write):
    lol = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
        b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
        b"<worksheet><sheetData><row><c><v>&lol2;</v></c></row></sheetData></worksheet>"
    )
    data = replace_part(gas_xlsx(), "xl/worksheets/sheet1.xml", lol)
    error = failure(resources, write("lol.xlsx", data))
    assert (
        error.message == "Excel 文件含有不允许的 XML 实体声明（xl/worksheets/sheet1.xml），已拒绝。"
    )


def test_truncated_xlsx(resources, write):
    data = gas_xlsx()
    error = failure(resources, write("cut.xlsx", data[: len(data) // 2]))
    assert error.message == "Excel 文件已损坏或不完整，请重新导出后上传。"


def test_zip_that_is_not_a_workbook(resources, write):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", "<w/>")
    error = failure(resources, write("doc.xlsx", out.getvalue()))
    assert error.message == "压缩包不是 Excel 工作簿（缺少 xl/workbook.xml），请上传 .xlsx 文件。"


def test_wrong_extension_is_decided_by_content(resources, write):
    csv_as_xlsx = run(resources, write("data.xlsx", f"{GAS_HEADER}\n{GAS_ROW}\n"))
    xlsx_as_csv = run(resources, write("data.csv", gas_xlsx()))
    assumed = [
        ("assumed_unit", "管网压力", "表头未注明单位，按 MPa 读取。"),
        ("assumed_unit", "介质温度", "表头未注明单位，按 °C 读取。"),
        ("assumed_crs", "纬度", "未注明坐标系，按 WGS-84 读取。"),
        ("assumed_crs", "经度", "未注明坐标系，按 WGS-84 读取。"),
    ]
    assert [(w.code, w.column, str(w)) for w in csv_as_xlsx[0].warnings] == [
        ("extension_mismatch", "", "文件扩展名为 .xlsx，但内容是 CSV，已按 CSV 读取。"),
        *assumed,
    ]
    assert [(w.code, w.column, str(w)) for w in xlsx_as_csv[0].warnings] == [
        ("extension_mismatch", "", "文件扩展名为 .csv，但内容是 XLSX，已按 XLSX 读取。"),
        *assumed,
    ]
    for chunks in (csv_as_xlsx, xlsx_as_csv):
        frame = chunks[0].frame
        assert frame.loc[0, "point_id"] == "GP000001"
        assert frame.loc[0, "pressure"] == pytest.approx(0.35)
        assert frame.loc[0, "district"] == "310101"


def test_json_extension_with_csv_content(resources, write):
    error = failure(resources, write("data.json", f"{GAS_HEADER}\n{GAS_ROW}\n"))
    assert error.message == "文件扩展名为 .json，但内容不是 JSON 数组。"


def test_old_xls_format(resources, write):
    ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
    error = failure(resources, write("old.xls", ole))
    assert error.message == "不支持旧版 Excel（.xls）文件，请在 Excel 中另存为 .xlsx 后上传。"


def test_binary_garbage(resources, write):
    error = failure(resources, write("x.csv", b"\x00\x01\x02garbage\x00"))
    assert error.message == "文件不是文本表格（含有二进制内容），请上传 CSV 或 XLSX 文件。"


@pytest.mark.parametrize("content", [b"", b"   \r\n\r\n"])
def test_empty_csv(resources, write, content):
    assert failure(resources, write("empty.csv", content)).message == "文件为空。"


def test_empty_xlsx_sheet(resources, write):
    book = openpyxl.Workbook()
    out = io.BytesIO()
    book.save(out)
    error = failure(resources, write("empty.xlsx", out.getvalue()))
    assert error.message == "工作表“Sheet”是空的。"


def test_ten_thousand_columns_csv(resources, write):
    header = "监测点编号," + ",".join(f"c{i}" for i in range(9999))
    error = failure(resources, write("wide.csv", header + "\n"))
    assert error.message == "列数过多：表头有 10000 列，最多允许 500 列。"


def test_ten_thousand_columns_xlsx(resources, write):
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("wide")
    sheet.append(["监测点编号", *(f"c{i}" for i in range(9999))])
    out = io.BytesIO()
    book.save(out)
    error = failure(resources, write("wide.xlsx", out.getvalue()))
    assert error.message == "列数过多：表头有 10000 列，最多允许 500 列。"


def test_no_header_found(resources, write):
    error = failure(resources, write("x.csv", "a,b,c\n1,2,3\n"))
    assert error.message == "未找到表头：前 30 行中没有一行包含本资源的字段名称。"


def test_formula_cell_without_cached_value(resources, write):
    row = GAS_ROW.split(",")
    row[4] = "=SUM(1,2)"  # openpyxl stores the formula without a cached result
    chunk = run(resources, write("f.xlsx", gas_xlsx([row])))[0]
    assert chunk.errors == [
        RowError(
            2, "介质温度", "单元格 E2 是公式但没有计算结果，请在 Excel 中重新计算并保存后上传。"
        )
    ]
    assert chunk.valid.tolist() == [False]


def test_rows_longer_than_header(resources, write):
    text = f"{GAS_HEADER}\n{GAS_ROW}\n{GAS_ROW},extra,more\n{GAS_ROW},,\n"
    chunk = run(resources, write("long.csv", text))[0]
    assert chunk.errors == [RowError(3, "第9列", "该行比表头多出 2 个单元格（表头共 8 列）。")]
    assert chunk.valid.tolist() == [True, False, True]


def test_rows_far_longer_than_header(resources, write):
    # Within the sniffed sample the width adapts, so this is a row error...
    near = run(resources, write("long.csv", f"{GAS_HEADER}\n{GAS_ROW}{',x' * 40}\n"))[0]
    assert near.errors == [RowError(2, "第9列", "该行比表头多出 40 个单元格（表头共 8 列）。")]
    # ...beyond it (past 64 KiB) the parser cannot go on: a whole-file error naming the row.
    body = "\n".join([GAS_ROW] * 2000)
    text = f"{GAS_HEADER}\n{body}\n{GAS_ROW}{',x' * 40}\n"
    error = failure(resources, write("long.csv", text))
    assert error.message == "第 2002 行有 48 个单元格，远多于表头的 8 列，无法解析。"
    assert error.row == 2002


def test_short_rows_are_padded(resources, write):
    chunk = run(
        resources, write("short.csv", f"{GAS_HEADER}\nGP000001,2025-07-01 14:30,黄浦,0.3\n")
    )[0]
    assert chunk.valid.tolist() == [True]
    assert chunk.frame.loc[0, "pressure_class"] is None


def test_json_too_large(resources, write, settings):
    settings.HUB_MAX_JSON_BYTES = 10
    error = failure(resources, write("x.json", '[{"point_id": "GP000001"}]'))
    assert error.message == "JSON 文件过大：最大允许 0 MB，请改用 CSV。"


def test_xlsx_content_beyond_the_header(resources, write):
    row = [*GAS_ROW.split(","), None, "stray"]
    chunk = run(resources, write("x.xlsx", gas_xlsx([GAS_ROW.split(","), row])))[0]
    assert chunk.errors == [RowError(3, "第9列", "该行比表头多出 2 个单元格（表头共 8 列）。")]
    assert chunk.valid.tolist() == [True, False]
    assert chunk.raw.columns.tolist() == GAS_HEADER.split(",")


def test_entity_declaration_hidden_behind_a_long_comment(resources, write):
    sheet = (
        b'<?xml version="1.0"?><!--' + b"x" * 20000 + b"-->"
        b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa">]><worksheet><sheetData/></worksheet>'
    )
    data = replace_part(gas_xlsx(), "xl/worksheets/sheet1.xml", sheet)
    error = failure(resources, write("hidden.xlsx", data))
    assert (
        error.message == "Excel 文件含有不允许的 XML 实体声明（xl/worksheets/sheet1.xml），已拒绝。"
    )


def test_zip_that_lies_about_its_sizes(resources, write):
    """A part declaring 1 kB that inflates to 8 MB never reaches calamine."""
    sheet = b'<?xml version="1.0"?><worksheet>' + b" " * (8 * 2**20) + b"</worksheet>"
    data = bytearray(replace_part(gas_xlsx(), "xl/worksheets/sheet1.xml", sheet))
    name = b"xl/worksheets/sheet1.xml"
    for signature, size_at, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        start = 0
        while (start := data.find(signature, start)) >= 0:
            if data[start + name_at : start + name_at + len(name)] == name:
                data[start + size_at : start + size_at + 4] = (1000).to_bytes(4, "little")
            start += 4
    declared = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(name.decode())
    assert declared.file_size == 1000
    error = failure(resources, write("liar.xlsx", bytes(data)))
    assert error.message == "Excel 文件已损坏或不完整，请重新导出后上传。"


def test_header_only_files_yield_no_rows(resources, write):
    csv_chunks = run(resources, write("h.csv", f"{GAS_HEADER}\n"))
    xlsx_chunks = run(resources, write("h.xlsx", gas_xlsx([])))
    for chunks in (csv_chunks, xlsx_chunks):
        assert sum(len(chunk.frame) for chunk in chunks) == 0
        assert all(chunk.errors == [] for chunk in chunks)


def test_first_chunk_is_split_with_its_reader_errors(resources, write):
    """The first chunk is split after FIRST_CHUNK_ROWS rows (the load starts early);
    each reader error stays with the part holding its row."""
    from connectors.pipeline.parsing import FIRST_CHUNK_ROWS

    rows = [GAS_ROW.replace("GP000001", f"GP{n:06d}") for n in range(10_000)]
    rows[1] += ",extra"  # line 3
    rows[8_998] += ",extra"  # line 9000
    chunks = run(resources, write("many.csv", GAS_HEADER + "\n" + "\n".join(rows) + "\n"))
    assert [len(chunk.source_rows) for chunk in chunks] == [FIRST_CHUNK_ROWS, 10_000 - 4_096]
    assert chunks[1].source_rows[0] == FIRST_CHUNK_ROWS + 2
    assert [error.row for error in chunks[0].errors] == [3]
    assert [error.row for error in chunks[1].errors] == [9000]
    assert chunks[1].frame["point_id"].iloc[0] == f"GP{FIRST_CHUNK_ROWS:06d}"
