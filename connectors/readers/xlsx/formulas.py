"""Formula cells without a cached value, found by a streaming scan of a sheet's XML.

calamine reads a formula cell's cached value; a cell saved without one (a file written
by a program that does not calculate) would come out empty. The guard reports each
such cell with its place, so the user can recalculate in Excel and upload again.
"""

from __future__ import annotations

import re
import zipfile

from connectors.readers.xlsx.extent import BLOCK

# Any namespace prefix ("x:"), as calamine ignores them.
PREFIX = rb"(?:[^\s<>/!?:]+:)?"
_CELL = re.compile(
    rb"<" + PREFIX + rb"c\b[^>]*?r=\"([A-Z]+)(\d+)\"[^>]*?(?:/>|>(.*?)</" + PREFIX + rb"c>)",
    re.S,
)
_CELL_START = re.compile(rb"<" + PREFIX + rb"c\s")


def formula_cells_without_value(archive: zipfile.ZipFile, part: str) -> dict[int, list[str]]:
    """1-based row -> column letters of formula cells lacking a cached value (streamed,
    1 MiB at a time; a cell cut by a block boundary is carried over)."""
    found: dict[int, list[str]] = {}
    with archive.open(part) as stream:
        pending = b""
        while True:
            block = stream.read(BLOCK)
            pending += block
            # Cut before the last cell start (written "<x:c " too); a part with none in
            # 8 MiB is cut anyway, so memory stays bounded whatever the markup.
            cut = pending.rfind(b"<c ") if block else len(pending)
            if cut < 0:
                cut = _last_cell_start(pending)
            if cut <= 0 and len(pending) > 8 * BLOCK:
                cut = len(pending) - BLOCK
            if cut > 0:
                _collect_formulas(pending[:cut], found)
                pending = pending[cut:]
            if not block:
                break
    return found


def _last_cell_start(data: bytes) -> int:
    """Offset of the last cell start tag in ``data`` (searched in the last 1 MiB), or -1."""
    start = max(len(data) - BLOCK, 0)
    last = -1
    for match in _CELL_START.finditer(data, start):
        last = match.start()
    return last


def _collect_formulas(data: bytes, found: dict[int, list[str]]) -> None:
    for match in _CELL.finditer(data):
        body = match.group(3) or b""
        if re.search(rb"<" + PREFIX + rb"f\b", body) and not re.search(
            rb"<" + PREFIX + rb"v>[^<]+</", body
        ):
            letters = match.group(1).decode()
            row = found.setdefault(int(match.group(2)), [])
            if letters not in row:
                row.append(letters)
