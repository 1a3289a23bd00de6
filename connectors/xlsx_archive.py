"""The zip and XML checks an XLSX passes before calamine reads a sheet.

calamine (through fastexcel) loads a whole sheet into a dense grid, so every check that
keeps memory bounded happens here, on the raw archive:

* the zip central directory's sizes and compression ratios (zip bombs), then every XML
  part stream-decompressed once and its real size counted, since a hostile archive can
  declare sizes it does not have (a lying or corrupt part fails its CRC check);
* a DOCTYPE/ENTITY in any XML prolog (entity bombs); defusedxml parses the workbook
  parts we read ourselves;
* the extent of a sheet's cells: the grid calamine allocates spans the largest row and
  column any cell names, so a 1 kB sheet with cells A1 and XFD1048576 would ask for 17
  billion cells. Cell references beyond what the sheet's own size explains are looked
  for with RE2 (pyarrow); only when one is found are the exact bounds computed;
* formula cells without a cached value, collected only when the sheet has formulas, and
  merged cells (for two-row headers).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from defusedxml import ElementTree as SafeTree
from django.utils.translation import gettext as _

from connectors.base import InputError

MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECK_FROM = 1024 * 1024  # small parts may compress extremely well and harmlessly
# calamine's dense grid costs ~32 bytes a cell: 16M cells is ~0.5 GB, and no sheet
# within MAX_UNCOMPRESSED holds that many cells with values.
MAX_SHEET_CELLS = 16_000_000
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
MIN_ROW_BYTES = 32  # <row r="1"><c r="A1"><v>1</v></c></row> is 39
BLOCK = 1 << 20
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
_CELL = re.compile(rb"<c\b[^>]*?r=\"([A-Z]+)(\d+)\"[^>]*?(?:/>|>(.*?)</c>)", re.S)
# Namespace prefixes ("x:c") are allowed; calamine reads elements by their local name.
_FILLED_CELL = re.compile(
    rb"<(?:\w+:)?c\s[^>]*?\br\s*=\s*[\"']([A-Za-z]+)(\d+)[\"'][^>]*?(?<!/)>\s*<(?:\w+:)?(?:v|is|f)\b"
)
_ROW_REF = re.compile(rb"<(?:\w+:)?row\s[^>]*?\br\s*=\s*[\"'](\d+)[\"'][^>]*?(?<!/)>")
_UNREFERENCED_CELL = re.compile(rb"<(?:\w+:)?c(?=[\s>/])(?![^>]*\br\s*=)")
_UNREFERENCED_ROW = re.compile(rb"<(?:\w+:)?row(?=[\s>/])(?![^>]*\br\s*=)")
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"[A-Z]*[0-9]*:?[A-Z]*([0-9]{1,7})\"")
_FORMULA = r"<(?:[A-Za-z0-9_]+:)?f[\s>/]"
_MERGE = re.compile(rb"<mergeCell\s[^>]*?ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")


@dataclass
class SheetScan:
    """What the first pass over a worksheet part saw."""

    # Row elements counted (sheets without a <dimension>).
    rows: int = 0
    # Whether the first pass's reference check settles the sheet (else guard_sheet
    # checks again, sized by the counted rows), and whether it found anything.
    checked: bool = False
    suspect: bool = False
    has_formulas: bool = False
    # ((first row, first column), (last row, last column)), 0-based, as in the sheet.
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class CheckedWorkbook:
    """A workbook that passed the archive checks: its sheets and what they hold."""

    path: Path
    parts: dict[str, str]  # sheet name -> part path
    date1904: bool
    scans: dict[str, SheetScan]

    def guard_sheet(self, name: str) -> dict[int, list[str]]:
        """Refuse a sheet whose cells span too large a grid; return its formula cells
        without a cached value (1-based row -> column letters)."""
        part = self.parts.get(name, "")
        scan = self.scans.get(part)
        if scan is None:
            return {}
        with zipfile.ZipFile(self.path) as archive:
            if not scan.checked:
                scan.suspect = _stream_any(archive, part, _reference_checks(scan.rows))
            if scan.suspect:
                _check_extent(archive, part, name)
            return formula_cells_without_value(archive, part) if scan.has_formulas else {}


def _too_large(part: str, size: int, compressed: int) -> InputError:
    return InputError(
        _("Excel 文件解压后过大（%(part)s：%(size)d MB，压缩比 %(ratio)d），已拒绝。")
        % {"part": part, "size": size // 2**20, "ratio": int(size / max(compressed, 1))}
    )


def _corrupt() -> InputError:
    return InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。"))


def _prolog_declares_entities(prolog: bytes) -> bool:
    """DOCTYPE/ENTITY before the root element (comments cannot hide it: we look up to the
    first element start, and a prolog with no element in the first 64 KiB is suspect)."""
    root = re.search(rb"<[A-Za-z]", prolog)
    head = prolog[: root.start()] if root else prolog
    upper = head.upper()
    endless = root is None and len(prolog) >= 64 * 1024
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper or endless


def check_workbook(path: Path) -> CheckedWorkbook:
    """Open the zip, reject bombs, entity declarations and non-workbooks, and scan the
    worksheets once (see the module docstring)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt() from exc
    try:
        with archive:
            if "xl/workbook.xml" not in set(archive.namelist()):
                raise InputError(
                    _("压缩包不是 Excel 工作簿（缺少 xl/workbook.xml），请上传 .xlsx 文件。")
                )
            parts = [i for i in archive.infolist() if i.filename.endswith((".xml", ".rels"))]
            declared = 0
            for info in parts:
                declared += info.file_size
                ratio = info.file_size / max(info.compress_size, 1)
                if declared > MAX_UNCOMPRESSED or (
                    info.file_size > RATIO_CHECK_FROM and ratio > MAX_RATIO
                ):
                    raise _too_large(info.filename, info.file_size, info.compress_size)
            scans: dict[str, SheetScan] = {}
            actual = 0
            for info in parts:
                sheet = info.filename.startswith("xl/worksheets/")
                scan = SheetScan() if sheet else None
                actual += _first_pass(archive, info, actual, scan)
                if scan is not None:
                    scans[info.filename] = scan
            sheets, date1904 = _sheet_parts(archive)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _corrupt() from exc
    return CheckedWorkbook(path=path, parts=sheets, date1904=date1904, scans=scans)


def _first_pass(archive: zipfile.ZipFile, info: zipfile.ZipInfo, before: int, scan) -> int:
    """Decompress one part, counting its real size; scan it when it is a worksheet."""
    with archive.open(info) as part:
        prolog = part.read(64 * 1024)
        if _prolog_declares_entities(prolog):
            raise InputError(
                _("Excel 文件含有不允许的 XML 实体声明（%(part)s），已拒绝。")
                % {"part": info.filename}
            )
        checks, claimed = None, None
        if scan is not None:
            # The rows the sheet claims in <dimension>, else as many as its size could
            # hold; a sheet the check finds out of proportion with a size-based guess is
            # checked again with its counted rows (guard_sheet).
            dimension = _DIMENSION.search(prolog)
            claimed = int(dimension.group(1)) if dimension else None
            guess = claimed or min(EXCEL_ROWS, max(info.file_size // MIN_ROW_BYTES, 1))
            checks = _reference_checks(guess)
        size, block, tail = len(prolog), prolog, b""
        while block:
            if scan is not None:
                _scan_block(scan, tail + block, len(tail), checks, count_rows=claimed is None)
                tail = block[-64:]
            block = part.read(BLOCK)
            size += len(block)
            if before + size > MAX_UNCOMPRESSED or (
                size > RATIO_CHECK_FROM and size / max(info.compress_size, 1) > MAX_RATIO
            ):
                raise _too_large(info.filename, size, info.compress_size)
    if scan is not None:
        scan.checked = claimed is not None or not scan.suspect
    return size


def _scan_block(
    scan: SheetScan, data: bytes, overlap: int, checks: list[str], *, count_rows: bool
) -> None:
    """Run the reference checks, count rows, note formulas and merges in one block
    (``data`` starts with ``overlap`` bytes of the previous block: shorter than "<row",
    so no row is counted twice; merges found twice are deduplicated)."""
    if count_rows:
        scan.rows += data.count(b"<row") - data[:overlap].count(b"<row")
    if not scan.suspect:
        scan.suspect = _matches_any(data, checks)
    if not scan.has_formulas:
        scan.has_formulas = _matches_any(data, [_FORMULA])
    if b"<mergeCell" in data:
        for match in _MERGE.finditer(data):
            first_col, first_row = match.group(1), match.group(2)
            last_col, last_row = match.group(3) or first_col, match.group(4) or first_row
            merge = (
                (int(first_row) - 1, column_index(first_col.decode())),
                (int(last_row) - 1, column_index(last_col.decode())),
            )
            if merge not in scan.merges:
                scan.merges.append(merge)


def _matches_any(data: bytes, patterns: list[str]) -> bool:
    """Whether any RE2 pattern matches ``data`` (one C++ scan each, no Python per tag)."""
    window = pa.array([data], type=pa.binary())
    return any(pc.any(pc.match_substring_regex(window, pattern)).as_py() for pattern in patterns)


def _reference_checks(rows: int) -> list[str]:
    """RE2 patterns for what the fast check cannot vouch for: a reference beyond the rows
    the sheet claims or has (with slack: blank rows are not written), or beyond the
    columns that keeps the grid within MAX_SHEET_CELLS; a lower-case reference; and any
    cell or row whose first attribute is not a plain r="…" (calamine places cells without
    one after the previous one). Separate patterns: RE2 runs each far faster than their
    alternation."""
    rows = min(EXCEL_ROWS, rows + max(rows // 4, 1024))
    columns = max(1, min(EXCEL_COLUMNS, MAX_SHEET_CELLS // rows))
    return [
        f'r="(?:{_letters_above(columns)}[0-9]|[A-Z]*{_number_above(rows)}")|r="[a-z]',
        r'<(?:[A-Za-z0-9_]+:)?(?:c|row)(?:>|/>|\s+(?:[^r\s>/]|r[^=]|r=[^"]))',
    ]


def _stream_any(archive: zipfile.ZipFile, part: str, patterns: list[str]) -> bool:
    """Whether any pattern matches anywhere in a part (a 64-byte overlap between blocks:
    longer than any reference or tag start the patterns look for)."""
    with archive.open(part) as stream:
        tail = b""
        while block := stream.read(BLOCK):
            if _matches_any(tail + block, patterns):
                return True
            tail = block[-64:]
    return False


def _check_extent(archive: zipfile.ZipFile, part: str, name: str) -> None:
    """Bound the grid calamine will allocate: the last row and column of the cells with
    content (and of the rows), plus one per cell or row without a reference. Only reached
    for sheets the fast check could not vouch for."""
    last_row = last_col = unreferenced_cells = unreferenced_rows = 0
    with archive.open(part) as stream:
        pending = b""
        while True:
            block = stream.read(BLOCK)
            data = pending + block
            cut = data.rfind(b"<") if block else len(data)
            whole = data[:cut]
            for letters, digits in _FILLED_CELL.findall(whole):
                if len(letters) > 3 or len(digits) > 7:
                    raise _too_wide(name, EXCEL_ROWS * EXCEL_COLUMNS)
                last_row = max(last_row, int(digits))
                last_col = max(last_col, column_index(letters.decode().upper()) + 1)
            for digits in _ROW_REF.findall(whole):
                if len(digits) > 7:
                    raise _too_wide(name, EXCEL_ROWS * EXCEL_COLUMNS)
                last_row = max(last_row, int(digits))
            unreferenced_cells += len(_UNREFERENCED_CELL.findall(whole))
            unreferenced_rows += len(_UNREFERENCED_ROW.findall(whole))
            pending = data[cut:]
            if not block:
                break
    height, width = last_row + unreferenced_rows, last_col + unreferenced_cells
    if height > EXCEL_ROWS or width > EXCEL_COLUMNS or height * width > MAX_SHEET_CELLS:
        raise _too_wide(name, height * width)


def _too_wide(name: str, cells: int) -> InputError:
    return InputError(
        _(
            "工作表“%(name)s”的单元格范围过大（约 %(cells)d 个单元格，最多 %(max)d 个），"
            "请删除表格右侧或下方的多余内容后重新上传。"
        )
        % {"name": name, "cells": cells, "max": MAX_SHEET_CELLS}
    )


def _number_above(limit: int) -> str:
    """A regular expression for the decimal numbers (no sign) greater than ``limit``."""
    digits = str(limit)
    options = [f"[0-9]{{{len(digits) + 1},}}"]
    for position, digit in enumerate(digits):
        if digit != "9":
            rest = len(digits) - position - 1
            options.append(f"{digits[:position]}[{int(digit) + 1}-9][0-9]{{{rest}}}")
    return "(?:" + "|".join(options) + ")"


def _letters_above(columns: int) -> str:
    """A regular expression for the column letters after column number ``columns``."""
    letters = column_letters(columns)
    options = [f"[A-Z]{{{len(letters) + 1},}}"]
    for position, letter in enumerate(letters):
        if letter != "Z":
            rest = len(letters) - position - 1
            options.append(f"{letters[:position]}[{chr(ord(letter) + 1)}-Z][A-Z]{{{rest}}}")
    return "(?:" + "|".join(options) + ")"


def column_index(letters: str) -> int:
    """0-based column of "A", "B", …, "AA"."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def column_letters(number: int) -> str:
    """Letters of the 1-based column ``number``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def formula_cells_without_value(archive: zipfile.ZipFile, part: str) -> dict[int, list[str]]:
    """1-based row -> column letters of formula cells lacking a cached value (streamed,
    1 MiB at a time; a cell cut by a block boundary is carried over)."""
    found: dict[int, list[str]] = {}
    with archive.open(part) as stream:
        pending = b""
        while True:
            block = stream.read(BLOCK)
            pending += block
            cut = pending.rfind(b"<c ") if block else len(pending)
            if cut > 0:
                _collect_formulas(pending[:cut], found)
                pending = pending[cut:]
            if not block:
                break
    return found


def _collect_formulas(data: bytes, found: dict[int, list[str]]) -> None:
    for match in _CELL.finditer(data):
        body = match.group(3) or b""
        if b"<f" in body and not re.search(rb"<v>[^<]+</v>", body):
            letters = match.group(1).decode()
            row = found.setdefault(int(match.group(2)), [])
            if letters not in row:
                row.append(letters)


def _sheet_parts(archive: zipfile.ZipFile) -> tuple[dict[str, str], bool]:
    """Sheet name -> part path, and whether dates count from 1904; read with defusedxml."""
    try:
        workbook = SafeTree.fromstring(archive.read("xl/workbook.xml"))
        rels = SafeTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except Exception as exc:  # defusedxml and ParseError: any failure means a bad workbook
        raise InputError(_("Excel 文件结构无效：%(detail)s") % {"detail": exc}) from exc
    targets = {
        rel.get("Id"): rel.get("Target", "") for rel in rels.findall("rel:Relationship", _NS)
    }
    parts = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        target = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        parts[sheet.get("name", "")] = posixpath.normpath(path)
    properties = workbook.find("m:workbookPr", _NS)
    date1904 = properties is not None and properties.get("date1904", "") in ("1", "true")
    return parts, date1904
