"""What the archive pass looks for in a worksheet's XML, block by block.

``connectors.readers.xlsx.archive`` inflates each worksheet part once and hands every
block (with the tail of the one before, so nothing straddling two blocks is missed) to
``scan_block``, which fills the sheet's ``SheetScan``: rows counted when the sheet claims
none in ``<dimension>`` (``claimed_rows``), the fast extent checks
(``connectors.readers.xlsx.extent``), comments, CDATA or processing instructions, whether
it has formulas, and merged cells in the rows a header can be in. A sheet the fast checks
flag is read again when it is chosen (``stream_matches``, then ``exact_extent``).
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field

from connectors.readers.base import HEADER_SEARCH_ROWS
from connectors.readers.xlsx.extent import BLOCK, OVERLAP, ExactExtent, column_index, matches_any
from connectors.readers.xlsx.formulas import PREFIX

_DIMENSION = re.compile(rb"<" + PREFIX + rb"dimension\s+ref=\"[A-Z]*[0-9]*:?[A-Z]*([0-9]{1,7})\"")
# Plain "<f": a sheet writing prefixed elements fails the fast extent check, and its
# formulas are then looked for too (``CheckedWorkbook.guard_sheet`` in the archive module).
_FORMULA = r"<f[\s>/]"
_MERGE = re.compile(rb"<" + PREFIX + rb"mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


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
    if not scan.suspect:
        scan.suspect = matches_any(data, checks)
    if not scan.has_formulas:
        scan.has_formulas = matches_any(data, [_FORMULA])
    if b"mergeCell" in data:
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
