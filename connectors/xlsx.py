"""XLSX reading with python-calamine, guarded against hostile workbooks.

Before calamine (which loads a sheet eagerly) touches the file, the zip central directory
is checked: total and per-part uncompressed size and compression ratio of the XML parts
(zip bombs), a DOCTYPE/ENTITY in any XML prolog (entity bombs; defusedxml parses the
workbook parts we read ourselves), truncated or corrupt archives. Formula cells without a
cached value are found by a streaming scan of the sheet XML, only when it has formulas.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from defusedxml import ElementTree as SafeTree
from django.utils.translation import gettext as _

from connectors.base import InputError, RowError
from connectors.cells import cell_text, column_text
from connectors.headers import fold_header
from connectors.normalisers.units import canonical_unit
from connectors.readers import (
    HEADER_SEARCH_ROWS,
    RawChunk,
    Scorer,
    Table,
    check_columns,
    find_header,
    long_row_errors,
)

MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECK_FROM = 1024 * 1024  # small parts may compress extremely well and harmlessly
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def _too_large(part: str, size: int, compressed: int) -> InputError:
    return InputError(
        _("Excel 文件解压后过大（%(part)s：%(size)d MB，压缩比 %(ratio)d），已拒绝。")
        % {"part": part, "size": size // 2**20, "ratio": int(size / max(compressed, 1))}
    )


def _prolog_declares_entities(prolog: bytes) -> bool:
    """DOCTYPE/ENTITY before the root element (comments cannot hide it: we look up to the
    first element start, and a prolog with no element in the first 64 KiB is suspect)."""
    root = re.search(rb"<[A-Za-z]", prolog)
    head = prolog[: root.start()] if root else prolog
    upper = head.upper()
    endless = root is None and len(prolog) >= 64 * 1024
    return b"<!DOCTYPE" in upper or b"<!ENTITY" in upper or endless


def check_archive(path: Path) -> zipfile.ZipFile:
    """Open the zip and reject bombs, entity declarations and non-workbooks.

    The central directory's sizes are checked first (cheap), then every XML part is
    stream-decompressed once and its real size counted, since a hostile archive can
    declare sizes it does not have; a lying or corrupt part fails its CRC check.
    """
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。")) from exc
    try:
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
        actual = 0
        for info in parts:
            size = 0
            with archive.open(info) as part:
                prolog = part.read(64 * 1024)
                if _prolog_declares_entities(prolog):
                    raise InputError(
                        _("Excel 文件含有不允许的 XML 实体声明（%(part)s），已拒绝。")
                        % {"part": info.filename}
                    )
                size = len(prolog)
                while block := part.read(1 << 20):
                    size += len(block)
                    if actual + size > MAX_UNCOMPRESSED or (
                        size > RATIO_CHECK_FROM and size / max(info.compress_size, 1) > MAX_RATIO
                    ):
                        raise _too_large(info.filename, size, info.compress_size)
            actual += size
    except InputError:
        archive.close()
        raise
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
        archive.close()
        raise InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。")) from exc
    return archive


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> part path inside the zip, read with defusedxml."""
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
    return parts


_CELL = re.compile(rb"<c\b[^>]*?r=\"([A-Z]+)(\d+)\"[^>]*?(?:/>|>(.*?)</c>)", re.S)


def formula_cells_without_value(archive: zipfile.ZipFile, part: str) -> dict[int, list[str]]:
    """1-based row -> column letters of formula cells lacking a cached value."""
    found: dict[int, list[str]] = {}
    try:
        info = archive.getinfo(part)
    except KeyError:
        return found
    with archive.open(info) as stream:
        tail = b""
        has_formula = False
        while block := stream.read(1 << 20):
            if b"<f" in tail + block:
                has_formula = True
                break
            tail = block[-2:]
    if not has_formula:
        return found
    # Stream again, 1 MiB at a time; a cell cut by a block boundary is carried over.
    with archive.open(info) as stream:
        pending = b""
        while True:
            block = stream.read(1 << 20)
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
            found.setdefault(int(match.group(2)), []).append(match.group(1).decode())


def _header_candidates(rows: list[list[str]], merged: list[tuple]) -> list[tuple[int, list[str]]]:
    """(last header row index, header texts) for single rows and two-row headers.

    Cells covered by a merge are empty in calamine except the first: forward-fill them
    across the merge, then join a row with the one below ("压力" over "(MPa)").
    """
    filled = [list(row) for row in rows]
    for (r0, c0), (r1, c1) in merged:
        if r0 < len(filled):
            value = filled[r0][c0] if c0 < len(filled[r0]) else ""
            for r in range(r0, min(r1, len(filled) - 1) + 1):
                for c in range(c0, min(c1, len(filled[r]) - 1) + 1):
                    if (r, c) != (r0, c0) and r == r0:
                        filled[r][c] = value
    candidates: list[tuple[int, list[str]]] = []
    for index, row in enumerate(filled):
        candidates.append((index, row))
        if index + 1 < len(filled):
            below = filled[index + 1]
            joined = []
            for c, top in enumerate(row):
                bottom = below[c] if c < len(below) else ""
                if top and bottom and fold_header(top) != fold_header(bottom):
                    joined.append(f"{top}{bottom}" if bottom[:1] in "(（/[" else bottom)
                else:
                    joined.append(top or bottom)
            candidates.append((index + 1, joined))
    return candidates


def _is_unit_row(row: list[str]) -> bool:
    """Whether a row looks like the unit line of a two-row header: "(MPa)", "/cm"."""
    cells = [cell for cell in row if cell]
    return bool(cells) and all(
        cell[:1] in "(（[/" and canonical_unit(cell.strip("()（）[]/ ")) is not None
        for cell in cells
    )


def open_xlsx(*, path: Path, scorer: Scorer, chunk_rows: int, sheet: str | int | None) -> Table:
    """Open a workbook sheet: pick the sheet, find the (possibly two-row) header."""
    import python_calamine

    archive = check_archive(path)
    try:
        parts = _sheet_parts(archive)
        try:
            workbook = python_calamine.CalamineWorkbook.from_path(str(path))
        except Exception as exc:  # calamine raises its own error types for corrupt parts
            raise InputError(_("Excel 文件无法读取：%(detail)s") % {"detail": exc}) from exc
        names = workbook.sheet_names
        if isinstance(sheet, int):
            if not 0 <= sheet < len(names):
                raise InputError(
                    _("工作表序号 %(index)d 不存在（共 %(count)d 个工作表）。")
                    % {"index": sheet, "count": len(names)}
                )
            choices = [names[sheet]]
        elif sheet:
            if sheet not in names:
                raise InputError(
                    _("工作表“%(name)s”不存在，可选：%(names)s")
                    % {"name": sheet, "names": "、".join(names)}
                )
            choices = [sheet]
        else:
            choices = list(names)
        last_error: InputError | None = None
        for name in choices:
            try:
                return _open_sheet(workbook, name, parts.get(name, ""), archive, scorer, chunk_rows)
            except InputError as exc:
                # Without an explicit choice, skip cover and notes sheets.
                if len(choices) == 1:
                    raise
                last_error = last_error or exc
        assert last_error is not None
        raise last_error
    finally:
        archive.close()


def _open_sheet(workbook, name: str, part: str, archive, scorer: Scorer, chunk_rows: int):
    try:
        sheet = workbook.get_sheet_by_name(name)
    except Exception as exc:
        raise InputError(
            _("Excel 工作表“%(name)s”无法读取：%(detail)s") % {"name": name, "detail": exc}
        ) from exc
    # Excel often "uses" every column of a formatted row; only an absurd sheet is refused
    # before reading, the header's real width is checked once it is found.
    if sheet.width > 16384:
        check_columns(sheet.width)
    first_row, first_col = sheet.start if sheet.start else (0, 0)
    iterator = iter(sheet.iter_rows())
    head_raw: list[list[object]] = []
    for row in iterator:
        head_raw.append(row)
        if len(head_raw) >= HEADER_SEARCH_ROWS + 1:
            break
    if not head_raw:
        raise InputError(_("工作表“%(name)s”是空的。") % {"name": name})
    head = [[cell_text(value) for value in row] for row in head_raw]
    merged = [
        ((r0 - first_row, c0 - first_col), (r1 - first_row, c1 - first_col))
        for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
    ]
    candidates = _header_candidates(head[:HEADER_SEARCH_ROWS], merged)
    find_header([texts for _index, texts in candidates], scorer)  # raises when none fits
    # Most fields named wins; on a tie a two-row header whose lower row holds units
    # ("(MPa)") beats the top row alone, so the unit row is not read as data.
    ranked = [
        (scorer(texts) + (0.5 if index > 0 and _is_unit_row(head[index]) else 0.0), -position)
        for position, (index, texts) in enumerate(candidates)
    ]
    best = max(range(len(candidates)), key=ranked.__getitem__)
    header_index, headers = candidates[best]
    formulas = formula_cells_without_value(archive, part) if part else {}
    header_row = first_row + header_index + 1
    headers = [header.strip() for header in headers]
    while headers and not headers[-1]:
        headers = headers[:-1]  # trailing empty header cells (formatting only)
    check_columns(len(headers))
    width = len(headers)

    def emit(rows: list[list[object]], start: int) -> RawChunk:
        frame = pd.DataFrame(rows, dtype=object)
        for missing in range(frame.shape[1], width):
            frame[missing] = ""
        numbers = np.arange(start, start + len(rows), dtype="int64")
        frame, errors = long_row_errors(frame.fillna(""), width, numbers)
        for row_number in sorted(r for r in formulas if start <= r < start + len(rows)):
            for letters in formulas[row_number]:
                column = _column_index(letters) - first_col
                label = headers[column] if 0 <= column < width else letters
                message = _(
                    "单元格 %(cell)s 是公式但没有计算结果，请在 Excel 中重新计算并保存后上传。"
                ) % {"cell": f"{letters}{row_number}"}
                errors.append(RowError(row_number, label, message))
        text = pd.DataFrame(
            {column: column_text(frame[column].to_numpy()) for column in range(width)},
            dtype="str",
        )
        keep = ~(text == "").all(axis=1).to_numpy()
        return RawChunk(
            frame=text[keep].reset_index(drop=True), source_rows=numbers[keep], errors=errors
        )

    def chunks() -> Iterator[RawChunk]:
        batch: list[list[object]] = list(head_raw[header_index + 1 :])
        next_row = header_row + 1
        for row in iterator:
            batch.append(row)
            if len(batch) >= chunk_rows:
                yield emit(batch, next_row)
                next_row += len(batch)
                batch = []
        while batch:
            part_rows, batch = batch[:chunk_rows], batch[chunk_rows:]
            yield emit(part_rows, next_row)
            next_row += len(part_rows)

    return Table(headers=headers, header_row=header_row, chunks=chunks(), kind="xlsx")


def _column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1
