"""pyarrow's streaming CSV reader and its hand-over to pandas read the same rows.

``open_csv`` reads regular files with pyarrow and hands the rest of an irregular file
to pandas; whatever the file, the chunks must equal what pandas alone yields: the same
cells, source row numbers and row errors.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import InputError
from connectors.readers import csvfile
from connectors.readers.base import SAMPLE_BYTES, SPARE_COLUMNS

HEADERS = ["编号", "时间", "数值"]


def _score(row: list[object]) -> int:
    return sum(str(cell).strip() in HEADERS for cell in row)


def _open(path: Path, chunk_rows: int = 4):
    head = path.read_bytes()[:SAMPLE_BYTES]
    return csvfile.open_csv(path=path, head=head, scorer=_score, chunk_rows=chunk_rows)


def _pandas_only(path: Path, table, chunk_rows: int = 4):
    """What the pandas reader alone yields for the same file and header."""
    text = path.read_bytes()
    encoding = csvfile.detect_encoding(text[:SAMPLE_BYTES])
    lines = table.header_row  # no multi-line cells above the data in these files
    return csvfile.pandas_chunks(
        path=path,
        encoding=encoding,
        delimiter=",",
        skip_lines=lines,
        header_row=table.header_row,
        headers=table.headers,
        width=max(len(table.headers), 3) + SPARE_COLUMNS,
        chunk_rows=chunk_rows,
    )


def _flatten(chunks):
    """(source row, cells) of every row and every row error, across chunks."""
    rows, errors = [], []
    for chunk in chunks:
        cells = chunk.frame.astype(object).values.tolist()
        rows += list(zip(chunk.source_rows.tolist(), cells, strict=True))
        errors += [error.as_dict() for error in chunk.errors]
    return rows, errors


def _write(tmp_path: Path, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode(encoding))
    return path


def test_a_regular_file_is_read_by_pyarrow_alone(tmp_path, monkeypatch):
    def no_pandas(**kwargs):
        raise AssertionError("pandas should not read a regular file")

    monkeypatch.setattr(csvfile, "pandas_chunks", no_pandas)
    text = '日报\n编号,时间,数值\nA1,2025-07-01,1.5\n\n"B,2","多\n行","say ""hi"""\n,,\nC3,x,\n'
    table = _open(_write(tmp_path, text), chunk_rows=2)
    rows, errors = _flatten(table.chunks)
    assert table.header_row == 2
    assert rows == [
        (3, ["A1", "2025-07-01", "1.5"]),
        (5, ["B,2", "多\n行", 'say "hi"']),
        (7, ["C3", "x", ""]),
    ]
    assert errors == []


def test_a_long_row_hands_over_to_pandas_at_the_first_row_not_yet_read(tmp_path, monkeypatch):
    calls = []
    real = csvfile.pandas_chunks

    def spy(**kwargs):
        calls.append(kwargs["skip_records"])
        return real(**kwargs)

    monkeypatch.setattr(csvfile, "pandas_chunks", spy)
    monkeypatch.setattr(csvfile, "ARROW_BLOCK_BYTES", 40)  # a few rows a block
    body = "".join(f"K{i},t{i},{i}\n" for i in range(1, 10))
    text = "编号,时间,数值\n" + body + "K10,t10,10,extra\nK11,t11,11\n"
    rows, errors = _flatten(_open(_write(tmp_path, text), chunk_rows=4).chunks)
    # pyarrow yielded whole chunks before it met row 11; pandas starts after them.
    assert calls in ([4], [8])
    assert [row for row, _cells in rows] == list(range(2, 13))
    assert rows[9] == (11, ["K10", "t10", "10"])
    assert errors == [
        {
            "row": 11,
            "column": "第4列",
            "message": "该行比表头多出 1 个单元格（表头共 3 列）。",
            "field": "",
        }
    ]


def test_bad_bytes_are_still_reported_with_their_row(tmp_path):
    # Beyond the encoding sample, so the file is taken as UTF-8 first.
    data = "编号,时间,数值\n".encode() + b"A,1,2\n" * 20_000 + b"B,\xff\xfe,3\n"
    path = tmp_path / "data.csv"
    path.write_bytes(data)
    with pytest.raises(InputError) as caught:
        _flatten(_open(path).chunks)
    assert "解码失败" in caught.value.message


_cells = st.text(alphabet=st.sampled_from([*'ab中文 ,"\n\r', "—", "１"]), max_size=6)


@st.composite
def _files(draw):
    """A header then rows that are mostly regular, sometimes short, long or blank."""
    rows = []
    for _ in range(draw(st.integers(0, 14))):
        kind = draw(st.sampled_from(["row"] * 6 + ["short", "long", "blank"]))
        width = {"row": 3, "short": 2, "long": 4, "blank": 0}[kind]
        rows.append([draw(_cells) for _ in range(width)])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADERS)
    for row in rows:
        if row:
            writer.writerow(row)
        else:
            out.write("\n")
    return out.getvalue()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=_files(), encoding=st.sampled_from(["utf-8", "gb18030"]))
def test_arrow_then_pandas_equals_pandas_alone(tmp_path, text, encoding):
    path = _write(tmp_path, text, encoding)
    table = _open(path)
    try:
        expected = _flatten(_pandas_only(path, table))
    except InputError as error:
        with pytest.raises(InputError) as caught:
            _flatten(table.chunks)
        assert caught.value.message == error.message
        return
    assert _flatten(table.chunks) == expected


_lines = st.lists(st.text(alphabet=st.sampled_from(list('a,"中 ')), max_size=10), max_size=8)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines)
def test_stray_quotes_read_alike(tmp_path, lines):
    """Hand-typed lines, stray and unbalanced quotes included, read as pandas reads them.

    One known difference: a file ending inside a quoted cell whose quotes still add up
    to an even number (a stray quote elsewhere) is read leniently by pyarrow.
    """
    text = "编号,时间,数值\n" + "\n".join(lines) + "\n"
    path = _write(tmp_path, text)
    table = _open(path)
    try:
        expected = _flatten(_pandas_only(path, table))
    except InputError as error:
        if "引号没有闭合" in error.message and text.count('"') % 2 == 0:
            return
        with pytest.raises(InputError) as caught:
            _flatten(table.chunks)
        assert caught.value.message == error.message
        return
    assert _flatten(table.chunks) == expected


def test_an_unclosed_quote_names_the_line_it_opens(tmp_path):
    path = _write(tmp_path, '标题\n编号,时间,数值\na,b,c\n\nd,e,f\n"x,y\nz,z,z\n')
    with pytest.raises(InputError) as caught:
        _flatten(_open(path).chunks)
    assert caught.value.message == "第 6 行起的引号没有闭合，文件在引号内结束。"
    assert caught.value.row == 6


def test_utf16_files_are_left_to_pandas(tmp_path):
    # "丢" is U+4E22: in UTF-16 one of its bytes is '"', so counting quote bytes lies.
    text = '编号,时间,数值\n1,丢,2\n3,e,"open\n4,x,y\n'
    path = tmp_path / "data.csv"
    path.write_bytes(text.encode("utf-16"))
    with pytest.raises(InputError) as caught:
        _flatten(_open(path).chunks)
    assert caught.value.message == "第 3 行起的引号没有闭合，文件在引号内结束。"
