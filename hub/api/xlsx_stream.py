"""A streaming XLSX writer: the workbook's zip is emitted while rows are still being read.

openpyxl (even in write-only mode) needs a seekable target and finishes the whole zip
before a byte can be sent, so a 1M-row export kept clients and proxies waiting for tens
of seconds. Here ``zipfile`` writes to ``_Sink``, a buffer that is not seekable, so it
puts each entry's sizes in a data descriptor after the data instead of seeking back; the
generator yields whatever the sink holds after every chunk of rows and empties it.
Memory stays constant (one chunk of rows plus zlib's window), and the fixed parts of the
workbook go out before the first row is read.

The workbook is the minimal SpreadsheetML package: content types, package and workbook
relationships, a workbook with one sheet ``records``, a one-format stylesheet (Excel
asks to repair a workbook without one) and the sheet. Text is written as inline strings
(``t="inlineStr"``): a shared-string table would have to be complete, hence held in
memory, before the sheet could be finished.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import date, datetime, time
from itertools import islice
from typing import Any

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SHEET_NAME = "records"
# Rows between two flushes of the sink; a chunk is also flushed when its XML grows past
# FLUSH_CHARS, so a few rows with very long texts do not make one huge chunk.
CHUNK_ROWS = 5000
FLUSH_CHARS = 1 << 20
# zlib level 1: the export is CPU-bound and the sheet is repetitive XML, so the fastest
# level still compresses ~17x (200k 6-column rows: 77k rows/s and 6.2 MB, against
# 67k rows/s and 5.5 MB at the default level 6).
COMPRESS_LEVEL = 1
# No zip64: Excel rejects workbooks whose parts carry zip64 fields they do not need
# (minizip-ng #894, duckdb-excel #64), and the sheet's size is unknown when its local
# header is written. So the sheet stays under 4 GiB of XML instead: no new row is read
# once the XML written plus an upper bound of what is pending (4 bytes a character)
# comes within SHEET_MARGIN of the limit; like the row cap, the export then ends there.
# That is ≈ 4 KB a row at the row cap: only very wide text exports ever reach it.
SHEET_ZIP64 = False
SHEET_LIMIT = (1 << 32) - 1
SHEET_MARGIN = 64 << 20
# Excel keeps 15 significant digits: larger integers (IDs, codes) would be rounded
# silently as numbers, so they are written as text.
MAX_EXACT_INT = 10**15

# Characters XML 1.0 forbids (C0 controls other than tab, LF and CR; lone surrogates;
# U+FFFE and U+FFFF). An XML parser rejects the whole sheet on any one of them.
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# CR is written as a character reference: a literal CR would be normalised to LF on read.
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})

_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_OOXML_CT = "application/vnd.openxmlformats-officedocument"

# Fixed parts, written in this order before the sheet ([Content_Types].xml first, as
# Office writes it; some readers sniff the first entry).
PARTS: tuple[tuple[str, str], ...] = (
    (
        "[Content_Types].xml",
        _XML_HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_OOXML_CT}.spreadsheetml.'
        'sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_OOXML_CT}.'
        'spreadsheetml.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_OOXML_CT}.spreadsheetml.'
        'styles+xml"/>'
        "</Types>",
    ),
    (
        "_rels/.rels",
        _XML_HEAD + f'<Relationships xmlns="{_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>",
    ),
    (
        "xl/workbook.xml",
        _XML_HEAD + f'<workbook xmlns="{_MAIN_NS}" xmlns:r="{_DOC_REL}">'
        f'<sheets><sheet name="{SHEET_NAME}" sheetId="1" r:id="rId1"/></sheets>'
        "</workbook>",
    ),
    (
        "xl/_rels/workbook.xml.rels",
        _XML_HEAD + f'<Relationships xmlns="{_REL_NS}">'
        f'<Relationship Id="rId1" Type="{_DOC_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
        f'<Relationship Id="rId2" Type="{_DOC_REL}/styles" Target="styles.xml"/>'
        "</Relationships>",
    ),
    (
        "xl/styles.xml",
        _XML_HEAD + f'<styleSheet xmlns="{_MAIN_NS}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border>'
        "</borders>"
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        "</cellStyleXfs>"
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        "</cellXfs>"
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>",
    ),
)
SHEET_PART = "xl/worksheets/sheet1.xml"
_SHEET_OPEN = _XML_HEAD + f'<worksheet xmlns="{_MAIN_NS}"><sheetData>'
_SHEET_CLOSE = "</sheetData></worksheet>"


def column_letter(index: int) -> str:
    """The spreadsheet name of the 1-based column ``index`` (1 → A, 27 → AA)."""
    letters = ""
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def xml_text(value: str) -> str:
    """``value`` as XML character data: illegal characters removed, markup escaped."""
    return _ILLEGAL_XML.sub("", value).translate(_ESCAPES)


def cell_xml(ref: str, value: Any) -> str:
    """One ``<c>`` element: number, boolean, inline string, or empty for None."""
    if value is None:
        # An empty cell is still written so every row has all columns (readers that
        # pad rows from the sheet's dimension would otherwise return short rows).
        return f'<c r="{ref}"/>'
    if isinstance(value, bool):  # Before int: bool is an int subclass.
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int) and abs(value) < MAX_EXACT_INT:
        return f'<c r="{ref}"><v>{value}</v></c>'
    if isinstance(value, float) and math.isfinite(value):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, datetime | date | time):
        value = value.isoformat()
    # Text, and what has no numeric cell: NaN, ±inf, huge ints, anything else (as str()).
    # xml:space="preserve": leading and trailing spaces are data, not layout.
    text = xml_text(str(value))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


def row_xml(number: int, values: Iterable[Any], columns: list[str]) -> str:
    """One ``<row>`` (``number`` is 1-based); ``columns`` holds the column letters."""
    r = str(number)
    cells = "".join(
        cell_xml(column + r, value) for column, value in zip(columns, values, strict=False)
    )
    return f'<row r="{r}">{cells}</row>'


class _Sink:
    """Write-only byte buffer for ``zipfile``.

    It has no ``seek``/``tell``, so ``zipfile`` treats it as a stream: entries get data
    descriptors instead of headers patched afterwards, and nothing written is ever
    revisited, which is what lets ``take`` hand bytes out and forget them.
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self._parts.append(bytes(data))  # A copy: zipfile may pass a reused memoryview.
        return len(data)

    def flush(self) -> None:
        """Nothing to flush: ``take`` is the way out."""

    def take(self) -> bytes:
        """Everything written since the last call, removed from the buffer."""
        data = b"".join(self._parts)
        self._parts.clear()
        return data


def xlsx_stream(header: list[str], rows: Iterable[list[Any]], max_rows: int) -> Iterator[bytes]:
    """The workbook as byte chunks: ``header`` then at most ``max_rows`` of ``rows``.

    Values are written as given (formula neutralisation is the caller's job). The first
    chunk (fixed parts and the sheet's start) is yielded before any row is read; rows
    are then pulled lazily, so a client that goes away stops the reading. At most
    ``max_rows`` rows are pulled from ``rows``, so a counting wrapper sees exactly the
    rows that were written.
    """
    columns = [column_letter(index) for index in range(1, len(header) + 1)]
    sink = _Sink()
    with zipfile.ZipFile(
        sink, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=COMPRESS_LEVEL
    ) as archive:
        for name, text in PARTS:
            archive.writestr(name, text)
        with archive.open(SHEET_PART, "w", force_zip64=SHEET_ZIP64) as sheet:
            sheet.write((_SHEET_OPEN + row_xml(1, header, columns)).encode("utf-8"))
            yield sink.take()
            pending: list[str] = []
            size = 0
            written = 0
            for number, row in enumerate(islice(rows, max_rows), start=2):
                text = row_xml(number, row, columns)
                pending.append(text)
                size += len(text)
                if len(pending) >= CHUNK_ROWS or size >= FLUSH_CHARS:
                    data = "".join(pending).encode("utf-8")
                    sheet.write(data)
                    written += len(data)
                    pending, size = [], 0
                    # zlib may hold a chunk's output back (empty take): nothing to send yet.
                    if chunk := sink.take():
                        yield chunk
                if written + 4 * size >= SHEET_LIMIT - SHEET_MARGIN:
                    break  # before reading another row: see SHEET_LIMIT
            pending.append(_SHEET_CLOSE)
            sheet.write("".join(pending).encode("utf-8"))
    # Closing the entry wrote its data descriptor; closing the archive, the central
    # directory. Both are in the sink now.
    yield sink.take()
