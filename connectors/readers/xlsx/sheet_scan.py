"""What the archive pass looks for in a worksheet's XML, block by block.

``connectors.readers.xlsx.archive`` inflates each worksheet part once and hands every
block (with the tail of the one before, so nothing straddling two blocks is missed) to
``scan_block``, which fills the sheet's ``SheetScan``: rows counted when the sheet claims
none in ``<dimension>`` (``claimed_rows``), the fast extent checks
(``connectors.readers.xlsx.extent``), comments, CDATA or processing instructions, whether
it has formulas, merged cells in the rows a header can be in, rows and columns hidden
in Excel (``note_hidden``) and rows hidden by default (``note_sheet_format``). A sheet
the fast checks flag is read again when it is chosen (``stream_matches``, then
``exact_extent``).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

import pyarrow.compute as pc

from connectors.readers.base import HEADER_SEARCH_ROWS
from connectors.readers.xlsx.extent import (
    BLOCK,
    ELEMENTS,
    OVERLAP,
    ExactExtent,
    column_index,
    matches_any,
    window,
)
from connectors.readers.xlsx.formulas import PREFIX

_DIMENSION = re.compile(rb"<" + PREFIX + rb"dimension\s+ref=\"[A-Z]*[0-9]*:?[A-Z]*([0-9]{1,7})\"")
# Plain "<f": a sheet writing prefixed elements fails the fast extent check, and its
# formulas are then looked for too (``CheckedWorkbook.guard_sheet`` in the archive module).
_FORMULA = r"<f[\s>/]"
_MERGE = re.compile(rb"<" + PREFIX + rb"mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
# A hidden row that holds cells ("<row r="9" hidden="1"></row>", an empty row left
# hidden, holds none and loads nothing), its start tag written plainly (``r`` first, as
# the fast extent check requires). A row of zero height (``ht="0"``) is hidden in Excel
# too. The same pattern for Python's re (the row number) and for RE2 (counting, GIL
# released).
_HIDDEN_ROW_TEXT = (
    r"<row r=\"([0-9]{1,7})\"[^<>]*?"
    r"\s(?:hidden=[\"'](?:1|true)|ht=[\"']0+(?:\.0*)?)[\"'][^<>]*>\s*<c[\s>/]"
)
_HIDDEN_ROW = re.compile(_HIDDEN_ROW_TEXT.encode())
_HIDDEN_ROW_RE2 = _HIDDEN_ROW_TEXT.replace("([0-9]{1,7})", "[0-9]{1,7}")
# What a block must hold for ``note_hidden`` to find anything: "hidden=", 'ht="0', "ht='0"
# (one RE2 scan, skipping to each "h").
_HIDDEN_HINT = r"h(?:idden=|t=[\"']0)"
_COLUMN = re.compile(rb"<col\s[^<>]*>")
_COLUMN_HIDDEN = re.compile(rb"\shidden=[\"'](?:1|true)[\"']")
_COLUMN_SPAN = re.compile(rb"\s(min|max)=[\"']([0-9]{1,5})[\"']")
# Rows hidden by default (ECMA-376 Part 1, 18.3.1.81): ``zeroHeight`` on the sheet's
# <sheetFormatPr> (before <sheetData>), or a default row height of 0.
_SHEET_FORMAT = re.compile(rb"<" + PREFIX + rb"sheetFormatPr\s[^<>]*>")
_ZERO_HEIGHT = re.compile(rb"\szeroHeight=[\"'](?:1|true)[\"']")
_ZERO_DEFAULT = re.compile(rb"\sdefaultRowHeight=[\"']0+(?:\.0*)?[\"']")


@dataclass
class SheetScan:
    """What the pass over a worksheet part saw."""

    rows: int = 0  # row elements counted (sheets without a <dimension>)
    size: int = 0  # bytes of XML, inflated
    # Comments, CDATA sections or processing instructions (after the XML declaration).
    markup: bool = False
    # Whether the fast extent check settles the sheet (else guard_sheet checks again,
    # sized by the counted rows), and whether it flagged anything.
    settled: bool = False
    suspect: bool = False
    has_formulas: bool = False
    # ((first row, first column), (last row, last column)), 0-based, header rows only.
    merges: set[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=set)
    # Hidden rows holding cells: those a header can be in by number (1-based); below
    # them, how many and the first (rows are stored in ascending order).
    hidden_top: list[int] = field(default_factory=list)
    hidden_rows: int = 0
    hidden_first: int | None = None
    # Hidden column ranges, (min, max), 1-based as in <col>; <sheetData> seen (no <col>
    # follows it).
    hidden_columns: list[tuple[int, int]] = field(default_factory=list)
    in_rows: bool = False
    # <sheetFormatPr zeroHeight="1"> or defaultRowHeight="0" (``note_sheet_format``).
    hidden_by_default: bool = False

    def hidden_below(self, header_row: int) -> tuple[int, int | None]:
        """Hidden rows holding cells below the (1-based) ``header_row``: how many, and
        the first one's sheet row."""
        top = [row for row in self.hidden_top if row > header_row]
        first = min(top) if top else self.hidden_first
        return len(top) + self.hidden_rows, first


def claimed_rows(prolog: bytes) -> int | None:
    """The last row a sheet claims in its ``<dimension>`` (in the part's first block), or
    None when it claims none."""
    dimension = _DIMENSION.search(prolog)
    return int(dimension.group(1)) if dimension else None


def scan_block(
    scan: SheetScan, data: bytes, overlap: int, checks: list[str], *, count_rows: bool
) -> None:
    """Run the fast extent checks, count rows, note formulas and header merges in one
    block (``data`` starts with ``overlap`` bytes of the previous block: a row counted
    there is not counted again)."""
    if count_rows:
        scan.rows += data.count(b"<row") - data[:overlap].count(b"<row")
    if not scan.markup:
        scan.markup = _has_markup(data if overlap else _after_declaration(data))
    # Every search below is RE2 over the block in place, the GIL released: Python's
    # `bytes in` holds it and is slower for needles ending in a common byte ("=", ">").
    cells = window(data)
    _check_extent_and_formulas(scan, cells, checks)
    if matches_any(cells, [_HIDDEN_HINT]):
        note_hidden(scan, data, overlap)
    if not scan.in_rows:
        if b"sheetFormatPr" in data:
            note_sheet_format(scan, data)
        scan.in_rows = b"<sheetData" in data
    if matches_any(cells, ["mergeCell"]):
        for match in _MERGE.finditer(data):
            first_col, first_row = match.group(1), match.group(2)
            last_col, last_row = match.group(3) or first_col, match.group(4) or first_row
            if len(first_row) <= 7 and int(first_row) <= HEADER_SEARCH_ROWS:
                scan.merges.add(
                    (
                        (int(first_row) - 1, column_index(first_col.decode())),
                        (int(last_row) - 1, column_index(last_col.decode())),
                    )
                )


def _check_extent_and_formulas(scan: SheetScan, cells, checks: list[str]) -> None:
    """The fast extent checks and the formula search of one block. The formula pattern
    and the extent check for elements both start with "<", which RE2 cannot skip to:
    one scan for both while neither was found, each alone only where it matched."""
    both = not scan.suspect and not scan.has_formulas and ELEMENTS in checks
    if both and not matches_any(cells, [f"(?:{ELEMENTS})|(?:{_FORMULA})"]):
        checks = [pattern for pattern in checks if pattern != ELEMENTS]
        scan.suspect = matches_any(cells, checks)
        return
    if not scan.suspect:
        scan.suspect = matches_any(cells, checks)
    if not scan.has_formulas:
        scan.has_formulas = matches_any(cells, [_FORMULA])


def note_sheet_format(scan: SheetScan, data: bytes) -> None:
    """Note whether the sheet's rows are hidden by default (<sheetFormatPr>, which comes
    before <sheetData>; a tag cut by a block boundary is whole in the next block's
    overlap).

    How we read ECMA-376 Part 1, 18.3.1.81: ``zeroHeight`` hides the rows a sheet does not
    write ("only write out the rows that are not hidden"); a written row is shown unless
    it says ``hidden`` (Excel, LibreOffice and XlsxWriter's Excel-compared files agree),
    and every cell sits in a written row, so no data is hidden by it alone. Other programs
    also collapse written rows that lack a height of their own, and a default height of
    0 draws them zero high: which of the loaded rows are seen cannot be counted exactly,
    so the sheet gets a notice of its own (``notices.HIDDEN_BY_DEFAULT``) rather than a
    count in ``hidden_rows``."""
    end = data.find(b"<sheetData")
    match = _SHEET_FORMAT.search(data, 0, end if end >= 0 else len(data))
    if match is not None:
        tag = match.group()
        scan.hidden_by_default = bool(_ZERO_HEIGHT.search(tag) or _ZERO_DEFAULT.search(tag))


def note_hidden(scan: SheetScan, data: bytes, overlap: int) -> None:
    """Note the hidden columns (before <sheetData>) and the hidden rows holding cells in
    a block; one ending within the ``overlap`` was noted with the block before (a row's
    start tag and first cell fit in OVERLAP bytes)."""
    if not scan.in_rows and b"<col" in data:
        for match in _COLUMN.finditer(data):
            tag = match.group()
            if match.end() > overlap and _COLUMN_HIDDEN.search(tag):
                span = {name: int(value) for name, value in _COLUMN_SPAN.findall(tag)}
                low = span.get(b"min", span.get(b"max", 0))
                if low:
                    scan.hidden_columns.append((low, max(span.get(b"max", low), low)))
    rest = 0
    if scan.hidden_first is None:
        # Row by row until the first hidden row below the rows a header can be in.
        for match in _HIDDEN_ROW.finditer(data):
            if match.end() <= overlap:
                continue
            row = int(match.group(1))
            if row <= HEADER_SEARCH_ROWS:
                scan.hidden_top.append(row)
                continue
            scan.hidden_first, scan.hidden_rows, rest = row, 1, match.end()
            break
        else:
            return
    # Below it, counted in RE2: every hidden row there is a data row.
    scan.hidden_rows += _count_hidden(data[rest:] if rest else data)
    if not rest and overlap:
        scan.hidden_rows -= _count_hidden(data[:overlap])


def _count_hidden(data: bytes) -> int:
    return pc.count_substring_regex(window(data), _HIDDEN_ROW_RE2)[0].as_py()


def _has_markup(data: bytes) -> bool:
    """A comment, CDATA section, DOCTYPE or processing instruction in ``data``."""
    # One-byte searches run at memory speed; "<!" or "<?" costs 1 ms per MB of XML.
    if b"!" not in data and b"?" not in data:
        return False
    return b"<!" in data or b"<?" in data


def _after_declaration(data: bytes) -> bytes:
    """A part's first block without its byte-order mark and XML declaration."""
    data = data.removeprefix(b"\xef\xbb\xbf")
    if data.startswith(b"<?xml"):
        end = data.find(b"?>")
        return data[end + 2 :] if end >= 0 else b""
    return data


def stream_matches(archive: zipfile.ZipFile, part: str, patterns: list[str]) -> bool:
    """Whether any pattern matches anywhere in a part."""
    with archive.open(part) as stream:
        tail = b""
        while block := stream.read(BLOCK):
            if matches_any(tail + block, patterns):
                return True
            tail = block[-OVERLAP:]
    return False


def exact_extent(archive: zipfile.ZipFile, part: str, name: str) -> None:
    extent = ExactExtent(name)
    with archive.open(part) as stream:
        while block := stream.read(BLOCK):
            extent.feed(block)
    extent.feed(b"", final=True)
