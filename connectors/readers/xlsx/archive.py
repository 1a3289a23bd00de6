"""The zip and XML checks an XLSX passes before calamine reads a sheet.

calamine (through fastexcel) loads a whole sheet into a dense grid, so every check that
keeps memory bounded happens here, on the raw archive, in one streamed pass:

* the zip central directory's sizes and compression ratios (zip bombs), then every part
  calamine may read (XML, relationships, and whatever the workbook's relationships name)
  stream-decompressed once and its real size counted, since a hostile archive can
  declare sizes it does not have (a lying or corrupt part fails its CRC check);
* a DOCTYPE/ENTITY in any XML prolog (entity bombs); defusedxml parses the workbook
  parts we read ourselves; duplicate part or sheet names are refused (which one a reader
  takes is up to the reader);
* each worksheet's XML, scanned block by block as it inflates
  (``connectors.readers.xlsx.sheet_scan``): the extent of its cells
  (``connectors.readers.xlsx.extent``), whether it has formulas, merged cells in the
  rows a header can be in, and the rows and columns hidden in Excel;
* formula cells without a cached value (``connectors.readers.xlsx.formulas``), collected only
  when the sheet has formulas.

The same pass cuts each large sheet into slices (``connectors.readers.xlsx.slices``), used only
when the checks find the sheet plainly written.
"""

from __future__ import annotations

import contextlib
import posixpath
import re
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from defusedxml import ElementTree as SafeTree
from django.utils.translation import gettext as _

from connectors.base import InputError
from connectors.readers.xlsx import slices as xlsx_slices
from connectors.readers.xlsx.extent import BLOCK, OVERLAP, fast_checks, rows_guess
from connectors.readers.xlsx.formulas import formula_cells_without_value
from connectors.readers.xlsx.sheet_scan import (
    SheetScan,
    claimed_rows,
    exact_extent,
    scan_block,
    stream_matches,
)
from connectors.readers.xlsx.slices import SliceWriter, _SliceFile

MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECK_FROM = 1024 * 1024  # small parts may compress extremely well and harmlessly
MAX_WORKBOOK_PART = 16 * 1024 * 1024  # workbook.xml and its relationships, read whole
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


@dataclass(frozen=True)
class SharedPart:
    """A workbook relationship to the shared strings or the styles, and its part."""

    rel_id: str
    rel_type: str
    target: str
    path: str


_SHARED_TYPES = ("/sharedStrings", "/styles")


@dataclass
class CheckedWorkbook:
    """A workbook that passed the archive checks: its sheets and what they hold."""

    path: Path
    parts: dict[str, str]  # sheet name -> part path
    date1904: bool
    scans: dict[str, SheetScan]
    shared_parts: list[SharedPart] = field(default_factory=list)
    # Large sheets cut into slices during the archive pass (connectors.readers.xlsx.slices).
    slices: dict[str, _SliceFile] = field(default_factory=dict)

    def close(self) -> None:
        """Remove the slice files (a reader already opened on one keeps it until done)."""
        for sliced in self.slices.values():
            sliced.handle.close()
        self.slices.clear()

    def guard_sheet(self, name: str) -> dict[int, list[str]]:
        """Refuse a sheet whose cells span too large a grid; return its formula cells
        without a cached value (1-based row -> column letters)."""
        part = self.parts.get(name, "")
        scan = self.scans.get(part)
        if scan is None:
            raise InputError(
                _("Excel 工作表“%(name)s”无法读取：%(detail)s")
                % {"name": name, "detail": _("工作簿中缺少该工作表的内容")}
            )
        with zipfile.ZipFile(self.path) as archive:
            if not scan.settled:
                scan.suspect = stream_matches(archive, part, fast_checks(scan.rows))
            if scan.suspect:
                exact_extent(archive, part, name)
            formulas = scan.has_formulas or scan.suspect
            return formula_cells_without_value(archive, part) if formulas else {}


def _too_large(part: str, size: int, compressed: int) -> InputError:
    return InputError(
        _("Excel 文件解压后过大（%(part)s：%(size)d MB，压缩比 %(ratio)d），已拒绝。")
        % {"part": part, "size": size // 2**20, "ratio": int(size / max(compressed, 1))}
    )


def _corrupt() -> InputError:
    return InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。"))


def _invalid(detail: object) -> InputError:
    return InputError(_("Excel 文件结构无效：%(detail)s") % {"detail": detail})


def _prolog_declares_entities(prolog: bytes) -> bool:
    """DOCTYPE/ENTITY before the root element (comments cannot hide it: we look up to the
    first element start, and a prolog with no element in the first 64 KiB is suspect)."""
    root = re.search(rb"<[A-Za-z]", prolog)
    head = prolog[: root.start()] if root else prolog
    upper = head.upper()
    endless = root is None and len(prolog) >= 64 * 1024
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper or endless


def check_workbook(path: Path, *, sheet: str | int | None = None) -> CheckedWorkbook:
    """Open the zip, reject bombs, entity declarations and non-workbooks, and scan the
    worksheets once (see the module docstring). ``sheet`` (the upload's choice) is the
    one sheet cut into slices when large; without one, the first large sheet."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise _corrupt() from exc
    try:
        with archive:
            names = archive.namelist()
            if "xl/workbook.xml" not in names:
                raise InputError(
                    _("压缩包不是 Excel 工作簿（缺少 xl/workbook.xml），请上传 .xlsx 文件。")
                )
            if len(set(names)) != len(names):
                raise _invalid(_("压缩包中有重名的部件"))
            infos = archive.infolist()
            _check_declared_sizes(infos)
            sheets, targets, date1904, shared = _workbook_parts(archive)
            read = [
                info
                for info in infos
                if info.filename.endswith((".xml", ".rels")) or info.filename in targets
            ]
            book = CheckedWorkbook(
                path=path, parts=sheets, date1904=date1904, scans={}, shared_parts=shared
            )
            _scan_parts(archive, book, read, _slice_target(book, infos, sheet))
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        raise _corrupt() from exc
    return book


def resolve_sheet(sheet: str | int | None, names: list[str]) -> str | int | None:
    """A sheet choice as a name, or a 0-based index for a number people typed ("2")."""
    if (
        isinstance(sheet, str)
        and sheet.strip() not in names
        and sheet.strip().isascii()
        and sheet.strip().isdigit()
    ):
        return int(sheet.strip()) - 1
    return sheet


def _slice_target(
    book: CheckedWorkbook, infos: list[zipfile.ZipInfo], sheet: str | int | None
) -> str | None:
    """The part of the one sheet to slice: the chosen one, else the first large one."""
    sizes = {info.filename: info.file_size for info in infos}
    names = list(book.parts)
    choice = resolve_sheet(sheet, names)
    if isinstance(choice, int):
        parts = [book.parts[names[choice]]] if 0 <= choice < len(names) else []
    elif choice:
        parts = [book.parts[choice]] if choice in book.parts else []
    else:
        parts = list(book.parts.values())
    return next((part for part in parts if sizes.get(part, 0) >= xlsx_slices.SLICE_FROM), None)


def _scan_parts(
    archive: zipfile.ZipFile,
    book: CheckedWorkbook,
    read: list[zipfile.ZipInfo],
    target: str | None,
) -> None:
    """The first pass over every part read; the ``target`` sheet is cut into slices
    meanwhile (removed again when the pass fails)."""
    writers: dict[str, SliceWriter] = {}
    sheet_parts = set(book.parts.values())
    try:
        actual = 0
        for info in read:
            scan = SheetScan() if info.filename in sheet_parts else None
            xml = scan is not None or info.filename.endswith((".xml", ".rels"))
            if scan is not None and info.filename == target:
                with contextlib.suppress(OSError):  # no usable temporary directory
                    writers[info.filename] = SliceWriter()
            writer = writers.get(info.filename)
            actual += _first_pass(archive, info, actual, scan, writer, xml=xml)
            if scan is not None:
                book.scans[info.filename] = scan
        for part, writer in writers.items():
            if (sliced := writer.finish(archive, book)) is not None:
                book.slices[part] = sliced
    except BaseException:
        book.close()
        raise
    finally:
        for writer in writers.values():
            if writer.out is not None:
                writer.close()


def _check_declared_sizes(infos: list[zipfile.ZipInfo]) -> None:
    declared = 0
    for info in infos:
        declared += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > RATIO_CHECK_FROM and ratio > MAX_RATIO:
            raise _too_large(info.filename, info.file_size, info.compress_size)
        if declared > MAX_UNCOMPRESSED:
            raise _too_large(info.filename, declared, info.compress_size)


def _first_pass(
    archive: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    before: int,
    scan,
    writer: SliceWriter | None,
    *,
    xml: bool,
) -> int:
    """Decompress one part, counting its real size; check an XML part's prolog; scan a
    worksheet (and cut it into slices when it is large)."""
    with archive.open(info) as part:
        prolog = part.read(64 * 1024)
        if xml and _prolog_declares_entities(prolog):
            raise InputError(
                _("Excel 文件含有不允许的 XML 实体声明（%(part)s），已拒绝。")
                % {"part": info.filename}
            )
        checks, claimed = [], None
        if scan is not None:
            # Sized by the rows the sheet claims in <dimension>, else by what its size
            # could hold; a sheet flagged under the latter guess is checked again with
            # its counted rows (guard_sheet).
            claimed = claimed_rows(prolog)
            checks = fast_checks(rows_guess(claimed, info.file_size))
        # A worksheet's blocks are scanned and cut into slices in a helper thread while
        # this one inflates the next (zlib and RE2 both release the GIL); at most three
        # blocks in flight, taken in order (one worker).
        with ThreadPoolExecutor(max_workers=1) as scanner:
            size, block, tail = len(prolog), prolog, b""
            in_flight: deque[Future] = deque()
            while block:
                if scan is not None:
                    in_flight.append(
                        scanner.submit(
                            _scan_block, scan, tail, block, checks, claimed is None, writer
                        )
                    )
                    tail = block[-OVERLAP:]
                    if len(in_flight) > 2:
                        in_flight.popleft().result()
                block = part.read(BLOCK)
                size += len(block)
                if before + size > MAX_UNCOMPRESSED or (
                    size > RATIO_CHECK_FROM and size / max(info.compress_size, 1) > MAX_RATIO
                ):
                    raise _too_large(info.filename, size, info.compress_size)
            for future in in_flight:
                future.result()
        if writer is not None:
            writer.feed(b"")
    if scan is not None:
        scan.settled = claimed is not None or not scan.suspect
        scan.size = size
    return size


def _scan_block(
    scan: SheetScan,
    tail: bytes,
    block: bytes,
    checks: list[str],
    count_rows: bool,
    writer: SliceWriter | None,
) -> None:
    """One block of a worksheet (after the ``tail`` of the one before): scanned, then
    handed to the slice writer (blocks reach it in order: the scanner has one thread)."""
    scan_block(scan, tail + block, len(tail), checks, count_rows=count_rows)
    if writer is not None:
        writer.feed(block)


def _read_bounded(archive: zipfile.ZipFile, name: str) -> bytes:
    """A small part read whole, refusing one that inflates beyond MAX_WORKBOOK_PART."""
    with archive.open(name) as part:
        data = part.read(MAX_WORKBOOK_PART + 1)
    if len(data) > MAX_WORKBOOK_PART:
        raise _too_large(name, len(data), archive.getinfo(name).compress_size)
    return data


def _workbook_parts(
    archive: zipfile.ZipFile,
) -> tuple[dict[str, str], set[str], bool, list[SharedPart]]:
    """Sheet name -> part path, every part the workbook's relationships name, whether
    dates count from 1904, and the shared strings and styles; read with defusedxml."""
    try:
        workbook = SafeTree.fromstring(_read_bounded(archive, "xl/workbook.xml"))
        rels = SafeTree.fromstring(_read_bounded(archive, "xl/_rels/workbook.xml.rels"))
    except InputError:
        raise
    except Exception as exc:  # defusedxml, ParseError, a missing part: a bad workbook
        raise _invalid(exc) from exc
    members = set(archive.namelist())
    targets = {}
    shared: list[SharedPart] = []
    for rel in rels.findall("rel:Relationship", _NS):
        target = rel.get("Target", "")
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        path = posixpath.normpath(path)
        # Readers also take a target relative to the archive's root ("xl/…").
        if path not in members and posixpath.normpath(target.lstrip("/")) in members:
            path = posixpath.normpath(target.lstrip("/"))
        targets[rel.get("Id")] = path
        kind = rel.get("Type", "")
        if kind.endswith(_SHARED_TYPES) and path in members:
            shared.append(SharedPart(rel.get("Id", ""), kind, target, path))
    parts: dict[str, str] = {}
    for sheet in workbook.findall("m:sheets/m:sheet", _NS):
        name = sheet.get("name", "")
        if name.casefold() in {known.casefold() for known in parts}:
            raise _invalid(_("工作表名称重复：%(name)s") % {"name": name})
        parts[name] = targets.get(sheet.get(f"{{{_NS['r']}}}id"), "")
    properties = workbook.find("m:workbookPr", _NS)
    date1904 = properties is not None and properties.get("date1904", "") in ("1", "true")
    return parts, set(targets.values()), date1904, shared
