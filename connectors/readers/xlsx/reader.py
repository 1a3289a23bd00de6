"""XLSX reading: calamine (through fastexcel) into Arrow strings, guarded against hostile
workbooks by ``connectors.readers.xlsx.archive`` before calamine touches the file.

fastexcel hands the sheet over as Arrow string columns built in Rust: no Python object
per cell. Cells come as the text a user typed: numbers in their shortest form ("31",
"12.44"), dates as "2025-07-01 14:30:00", booleans as "true"/"false", errors and
formulas without a cached value empty (the latter reported per cell). A time-only cell
(serial below one day) comes from calamine as a time on the epoch's date and is given
back as "08:15:00".
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from connectors.base import InputError, RowError
from connectors.readers.base import (
    HEADER_SEARCH_ROWS,
    RawChunk,
    Scorer,
    Table,
    arrow_chunk,
    best_header,
    check_columns,
    overflow_errors,
)
from connectors.readers.xlsx.archive import CheckedWorkbook, check_workbook, resolve_sheet
from connectors.readers.xlsx.extent import column_index, column_letters
from connectors.readers.xlsx.sheet_scan import SheetScan
from connectors.readers.xlsx.slices import SheetSlice, first_line, load_columns, slice_sheet
from hub.records.notices import HIDDEN_BY_DEFAULT, HIDDEN_ROWS, Notice

# What calamine renders a time-only cell as, per date system: the epoch's date + time.
_EPOCH_DAY = {False: "1899-12-31 ", True: "1904-01-01 "}


def open_xlsx(*, path: Path, scorer: Scorer, chunk_rows: int, sheet: str | int | None) -> Table:
    """Open a workbook sheet: pick the sheet, find the (possibly two-row) header."""
    book = check_workbook(path, sheet=sheet)
    try:
        return _open_book(path, book, scorer, chunk_rows, sheet)
    finally:
        book.close()  # the slice files: a reader opened on one keeps it while it reads


def _open_book(path: Path, book: CheckedWorkbook, scorer: Scorer, chunk_rows: int, sheet):
    import fastexcel

    try:
        reader = fastexcel.read_excel(str(path))
    except Exception as exc:  # fastexcel raises its own error types for corrupt parts
        detail = first_line(exc)
        raise InputError(_("Excel 文件无法读取：%(detail)s") % {"detail": detail}) from exc
    names = reader.sheet_names
    sheet = resolve_sheet(sheet, names)
    if isinstance(sheet, int):
        if not 0 <= sheet < len(names):
            raise InputError(
                _("工作表序号 %(index)d 不存在（共 %(count)d 个工作表）。")
                % {"index": sheet + 1, "count": len(names)}
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
            return _open_sheet(reader, book, name, scorer, chunk_rows)
        except InputError as exc:
            # Without an explicit choice, skip cover and notes sheets.
            if len(choices) == 1:
                raise
            last_error = last_error or exc
    assert last_error is not None
    raise last_error


def _sheet_slices(reader, book: CheckedWorkbook, name: str):
    """The sheet's first slice (its header rows) and an iterator over the rest: a large
    sheet in slices (``connectors.readers.xlsx.slices``), any other whole."""
    sliced = slice_sheet(book, name)
    if sliced is not None:
        slices = iter(sliced)
        return next(slices), slices
    data, absolute = load_columns(reader, name, name, absolute=True)
    columns = dict(zip(absolute, data.columns, strict=True))
    return SheetSlice(first_row=1, num_rows=data.num_rows, columns=columns), iter(())


def _as_text(column: pa.Array, epoch_day: str) -> pa.Array:
    """A sheet column as str cells: "" for empty, time-only cells as "HH:MM:SS"."""
    column = pc.fill_null(column.cast(pa.string()), "")
    if pc.any(pc.starts_with(column, epoch_day)).as_py():
        pattern = "^" + epoch_day + r"(\d\d:\d\d:\d\d(?:\.\d+)?)$"
        column = pc.replace_substring_regex(column, pattern, r"\1")
    return column


def _open_sheet(reader, book: CheckedWorkbook, name: str, scorer: Scorer, chunk_rows: int):
    formulas = book.guard_sheet(name)
    first, rest = _sheet_slices(reader, book, name)
    if first.num_rows == 0 or not first.columns:
        raise InputError(_("工作表“%(name)s”是空的。") % {"name": name})
    epoch_day = _EPOCH_DAY[book.date1904]
    scan = book.scans.get(book.parts.get(name, ""))
    header_merges = sorted(scan.merges if scan else ())
    top_rows = min(first.num_rows, HEADER_SEARCH_ROWS + 1)
    # The table starts at the first column with content in the rows a header can be in:
    # a cell left of it further down is outside the table, however the sheet is read.
    used = [
        key
        for key, column in first.columns.items()
        if column.slice(0, top_rows).null_count < top_rows
    ]
    first_col = min(used or first.columns)
    # Up to the first slice's last column: a merged title over further columns does not
    # widen the header.
    top = _aligned(first, 0, top_rows, first_col, max(first.columns) + 1 - first_col, extra=False)
    columns = [_as_text(column, epoch_day).to_pylist() for column in top]
    head = [list(row) for row in zip(*columns, strict=True)]
    # Sheet columns to data columns; a merge left of the first used column is dropped.
    merged = [
        ((r0, max(c0 - first_col, 0)), (r1, c1 - first_col))
        for (r0, c0), (r1, c1) in header_merges
        if r0 < HEADER_SEARCH_ROWS and c1 >= first_col
    ]
    # A group header written over blanks instead of a merge is spread as a CSV's is.
    _first, header_index, headers = best_header(
        head[:HEADER_SEARCH_ROWS], merged, scorer, implied=True
    )
    header_row = header_index + 1  # 1-based: row 0 of the data is the sheet's first row
    headers = [header.strip() for header in headers]
    while headers and not headers[-1]:
        headers = headers[:-1]  # trailing empty header cells (formatting only)
    check_columns(len(headers))
    width = len(headers)

    def emit(part: SheetSlice, start: int, count: int, until: float) -> RawChunk:
        """Rows start..+count of a slice; formula errors of the rows up to ``until``
        (beyond the rows: empty rows calamine left out, which read whole are blank)."""
        first_row = part.first_row + start
        cells = [
            _as_text(column, epoch_day) for column in _aligned(part, start, count, first_col, width)
        ]
        numbers = np.arange(first_row, first_row + count, dtype="int64")
        errors = _long_rows(cells[width:], width, numbers)
        for row_number in sorted(r for r in formulas if first_row <= r < until):
            for letters in formulas[row_number]:
                column = column_index(letters) - first_col
                label = headers[column] if 0 <= column < width else letters
                message = _(
                    "单元格 %(cell)s 是公式但没有计算结果，请在 Excel 中重新计算并保存后上传。"
                ) % {"cell": f"{letters}{row_number}"}
                errors.append(RowError(row_number, label, message))
        table = pa.table(cells[:width], names=[str(i) for i in range(width)])
        chunk = arrow_chunk(table, first_row)
        chunk.errors = errors
        return chunk

    def chunks() -> Iterator[RawChunk]:
        for part in chain([first], rest):
            # Data rows are the sheet rows below the header row; the rows from the
            # slice's last one to the next slice hold no value, but maybe formulas.
            begin = max(header_row + 1 - part.first_row, 0)
            end = part.end_row if part.end_row is not None else float("inf")
            starts = range(begin, part.num_rows, chunk_rows)
            if not starts and any(part.first_row + begin <= r < end for r in formulas):
                yield emit(part, begin, 0, end)
            for start in starts:
                count = min(chunk_rows, part.num_rows - start)
                tail = start + count >= part.num_rows
                yield emit(part, start, count, end if tail else part.first_row + start + count)

    table = Table(headers=headers, header_row=header_row, chunks=chunks(), kind="xlsx")
    if scan is not None:
        _note_hidden(table, scan, first_col)
    return table


def _note_hidden(table: Table, scan: SheetScan, first_col: int) -> None:
    """Rows and columns hidden in Excel are read as usual, and said: a notice for the
    hidden rows below the header, one for a sheet whose rows are hidden by default, and
    the table's hidden columns (noticed when mapped)."""
    rows, first = scan.hidden_below(table.header_row)
    if rows and first is not None:
        table.warnings.append(Notice(HIDDEN_ROWS, "", {"rows": rows, "first": first}))
    if scan.hidden_by_default:
        table.warnings.append(Notice(HIDDEN_BY_DEFAULT, "", {}))
    for low, high in scan.hidden_columns:
        # <col> ranges are 1-based sheet columns; positions count from first_col.
        for position in range(max(low - 1 - first_col, 0), len(table.headers)):
            if first_col + position + 1 > high:
                break
            table.hidden_columns[position] = column_letters(first_col + position + 1)


def _aligned(
    part: SheetSlice, start: int, count: int, first_col: int, width: int, *, extra: bool = True
) -> list[pa.Array]:
    """Rows ``start``..+``count`` of a slice as one column per sheet column from
    ``first_col``: the table's ``width`` columns (empty where the slice has none), then
    (``extra``) every column beyond them up to the slice's last."""
    stop = max(first_col + width, max(part.columns) + 1) if extra else first_col + width
    keys = range(first_col, stop)
    return [
        part.columns[key].slice(start, count)
        if key in part.columns
        else pa.nulls(count, pa.string())
        for key in keys
    ]


def _long_rows(extra: list[pa.Array], width: int, numbers: np.ndarray) -> list[RowError]:
    """Rows with content beyond the header's last column."""
    if not extra:
        return []
    filled = [pc.greater(pc.utf8_length(column), 0) for column in extra]
    mask = np.column_stack([column.to_numpy(zero_copy_only=False) for column in filled])
    return overflow_errors(mask, width, numbers)
