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
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
from defusedxml import ElementTree as SafeTree
from django.utils.translation import gettext as _

from connectors.base import InputError, RowError
from connectors.headers import fold_header
from connectors.readers import (
    HEADER_SEARCH_ROWS,
    RawChunk,
    Scorer,
    Table,
    check_columns,
    find_header,
)

MAX_UNCOMPRESSED = 500 * 1024 * 1024
MAX_RATIO = 100
RATIO_CHECK_FROM = 1024 * 1024  # small parts may compress extremely well and harmlessly
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}


def check_archive(path: Path) -> zipfile.ZipFile:
    """Open the zip and reject bombs, entity declarations and non-workbooks."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。")) from exc
    names = set(archive.namelist())
    if "xl/workbook.xml" not in names:
        archive.close()
        raise InputError(_("压缩包不是 Excel 工作簿（缺少 xl/workbook.xml），请上传 .xlsx 文件。"))
    total = 0
    for info in archive.infolist():
        if not info.filename.endswith((".xml", ".rels")):
            continue
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if total > MAX_UNCOMPRESSED or (info.file_size > RATIO_CHECK_FROM and ratio > MAX_RATIO):
            archive.close()
            raise InputError(
                _("Excel 文件解压后过大（%(part)s：%(size)d MB，压缩比 %(ratio)d），已拒绝。")
                % {"part": info.filename, "size": info.file_size // 2**20, "ratio": int(ratio)}
            )
        try:
            with archive.open(info) as part:
                prolog = part.read(4096)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            archive.close()
            raise InputError(_("Excel 文件已损坏或不完整，请重新导出后上传。")) from exc
        if b"<!DOCTYPE" in prolog.upper() or b"<!ENTITY" in prolog.upper():
            archive.close()
            raise InputError(
                _("Excel 文件含有不允许的 XML 实体声明（%(part)s），已拒绝。")
                % {"part": info.filename}
            )
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
    # Bounded by the size checks above; formulas are rare in data exports.
    data = archive.read(info)
    for match in _CELL.finditer(data):
        body = match.group(3) or b""
        if b"<f" in body and not re.search(rb"<v>[^<]+</v>", body):
            found.setdefault(int(match.group(2)), []).append(match.group(1).decode())
    return found


def cell_text(value: object) -> str:
    """A calamine cell value as the string a user would have typed."""
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value.total_seconds())
    return str(value).strip()


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


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
                last_error = exc
                if len(choices) == 1 or "未找到表头" not in exc.message:
                    raise
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
    check_columns(sheet.width)
    first_row, first_col = sheet.start if sheet.start else (0, 0)
    iterator = iter(sheet.iter_rows())
    head: list[list[str]] = []
    for row in iterator:
        head.append([cell_text(value) for value in row])
        if len(head) >= HEADER_SEARCH_ROWS + 1:
            break
    if not head:
        raise InputError(_("工作表“%(name)s”是空的。") % {"name": name})
    merged = [
        ((r0 - first_row, c0 - first_col), (r1 - first_row, c1 - first_col))
        for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])
    ]
    candidates = _header_candidates(head[:HEADER_SEARCH_ROWS], merged)
    best = find_header([texts for _index, texts in candidates], scorer)
    header_index, headers = candidates[best]
    formulas = formula_cells_without_value(archive, part) if part else {}
    header_row = first_row + header_index + 1
    width = len(headers)

    def chunks() -> Iterator[RawChunk]:
        pending = head[header_index + 1 :]
        next_row = header_row + 1

        def emit(rows: list[list[str]], start: int) -> RawChunk:
            padded = [(row + [""] * width)[:width] for row in rows]
            frame = pd.DataFrame(padded, columns=list(range(width)), dtype=object)
            numbers = np.arange(start, start + len(rows), dtype="int64")
            errors: list[RowError] = []
            for offset, row in enumerate(rows):
                if len(row) > width and any(row[width:]):
                    errors.append(
                        RowError(
                            int(numbers[offset]),
                            _column_letters(width),
                            _("该行比表头多出内容（表头共 %(width)d 列）。") % {"width": width},
                        )
                    )
                for letters in formulas.get(int(numbers[offset]), []):
                    column = _column_index(letters) - first_col
                    label = headers[column] if column < width else letters
                    errors.append(
                        RowError(
                            int(numbers[offset]),
                            label,
                            _(
                                "单元格 %(cell)s 是公式但没有计算结果，"
                                "请在 Excel 中重新计算并保存后上传。"
                            )
                            % {"cell": f"{letters}{numbers[offset]}"},
                        )
                    )
            blank = (frame == "").all(axis=1).to_numpy()
            keep = ~blank
            frame = frame[keep].reset_index(drop=True)
            return RawChunk(frame=frame.astype("str"), source_rows=numbers[keep], errors=errors)

        batch: list[list[str]] = []
        for row in pending:
            batch.append(row)
        for row in iterator:
            batch.append([cell_text(value) for value in row])
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
