"""Encodings and delimiters of delimited text files."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.base import InputError
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector
from connectors.readers.base import detect_encoding, sniff_delimiter

HEADER = ["监测点编号", "监测时间", "所属区", "管网压力"]
ROW = ["GP000001", "2025-07-01 14:30", "卢湾区", "0.3"]


@pytest.mark.parametrize(
    ("encoding", "bom", "delimiter"),
    [
        ("utf-8", b"", ","),
        ("utf-8", codecs.BOM_UTF8, ";"),
        ("gbk", b"", "\t"),
        ("gb18030", b"", "|"),
        ("utf-16-le", codecs.BOM_UTF16_LE, ","),
        ("utf-16-be", codecs.BOM_UTF16_BE, "\t"),
        # Some Windows exports write UTF-16 without a BOM.
        ("utf-16-le", b"", "\t"),
        ("utf-16-be", b"", ","),
    ],
)
def test_encodings_and_delimiters(resources, write, encoding, bom, delimiter):
    text = "\r\n".join(delimiter.join(row) for row in (HEADER, ROW)) + "\r\n"
    path = write("e.csv", bom + text.encode(encoding))
    (chunk,) = parse_file(
        path=path,
        filename="e.csv",
        resource=resources["gas-pipeline-pressure"],
        connector=GenericConnector(),
    )
    assert chunk.errors == []
    assert chunk.raw.columns.tolist() == HEADER
    assert chunk.frame.loc[0, "district"] == "310101"  # 卢湾 merged into 黄浦 in 2011
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)


def test_detection_order():
    chinese = "监测点编号,所属区\n".encode()
    assert detect_encoding(codecs.BOM_UTF8 + chinese) == "utf-8-sig"
    assert detect_encoding(chinese) == "utf-8"
    assert detect_encoding("监测点编号,所属区\n".encode("gbk")) == "gb18030"
    # A multi-byte character cut by the 64 KiB sample boundary is still UTF-8.
    assert detect_encoding(chinese + "压".encode()[:2]) == "utf-8"


def test_delimiter_ignores_title_rows():
    sample = "燃气日报，2025年7月\n\na;b;c\n1;2;3\n4;5;6\n"
    assert sniff_delimiter(sample) == ";"


_CELL = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Co", "Cn")),
    min_size=1,
    max_size=12,
)


@given(st.lists(st.lists(_CELL, min_size=2, max_size=5), min_size=1, max_size=5))
def test_utf16_without_a_bom_is_text(rows):
    text = "\r\n".join("\t".join(row) for row in rows) + "\r\n"
    assert detect_encoding(text.encode("utf-16-le")) == "utf-16-le"
    assert detect_encoding(text.encode("utf-16-be")) == "utf-16-be"


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x01\x02\x03" * 64,  # zeros on both sides
        bytes(range(256)) * 4,
        "a\x01b\tc\r\n".encode("utf-16-le") * 20,  # decodes, with control characters
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 40,
    ],
)
def test_binary_is_still_refused(data):
    with pytest.raises(InputError, match="二进制"):
        detect_encoding(data)
