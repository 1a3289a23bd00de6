"""The XLSX error report of an upload: every original row, errors marked.

The report holds every row of the original file (not only the rejected ones): good rows
unchanged, offending cells filled red with the reason as a comment, and an error column.
A steward fixes the red cells and uploads the report as it is: the whole file loads
(``connectors.pipeline.parsing`` recognises and ignores the two report columns, with a warning).
The rows come from a second, raw read of the stored file merged with the rejected rows
spooled by the load, and are written in openpyxl's write-only mode, so memory stays
bounded whatever the size of the file.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace
from typing import BinaryIO

import numpy as np
from django.core.files import File
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment

from connectors.base import ParsedChunk, RowError
from connectors.writers.spreadsheet import BOLD, ERROR_FILL, HEADER_FILL, safe_text
from hub.records.models import BatchStatus, UploadBatch

# A worksheet holds 1,048,576 rows; a longer report continues on another sheet.
SHEET_ROWS = 1_048_576
Row = tuple[int, list, list[RowError]]


def report_headers() -> tuple[str, str]:
    """The report's own first and last column titles (source row number, errors)."""
    return _("源文件行号"), _("错误说明")


def write_error_report(*, out: BinaryIO, headers: list[str], rows: Iterable[Row]) -> None:
    """Write the report (streaming, openpyxl write-only mode) to ``out``.

    ``rows`` yields (source row number, original cell strings in header order, errors of
    that row): every row of the file, good rows with no errors. The sheet has the source
    row number first, then the original columns, then an error column; cells named by an
    error get a red fill and a comment with the reason. Good rows are written as plain
    values (no per-cell objects), which keeps large reports fast.
    """
    book = Workbook(write_only=True)
    row_title, error_title = report_headers()
    title = [row_title, *headers, error_title]
    sheet = _new_sheet(book, title, _("错误明细"))
    written_rows = 1
    position = {header: index for index, header in reversed(list(enumerate(headers)))}
    width = len(headers)
    for row_number, cells, errors in rows:
        if written_rows >= SHEET_ROWS:
            sheet = _new_sheet(book, title, _("错误明细（续%(n)d）") % {"n": len(book.worksheets)})
            written_rows = 1
        values = [safe_text("" if value is None else value) for value in cells[:width]]
        values += [""] * (width - len(values))
        if not errors:
            sheet.append([row_number, *values, ""])
        else:
            sheet.append(_marked_row(sheet, row_number, values, errors, position))
        written_rows += 1
    book.save(out)


def _new_sheet(book: Workbook, title: list[str], name: str):
    sheet = book.create_sheet(name)
    sheet.freeze_panes = "B2"
    header_cells = []
    for text in title:
        cell = WriteOnlyCell(sheet, value=safe_text(text))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    return sheet


def _marked_row(
    sheet, row_number: int, values: list, errors: list[RowError], position: dict[str, int]
) -> list:
    """A rejected row: offending cells red with a comment, the errors in the last column."""
    by_column: dict[int, list[str]] = {}
    for error in errors:
        index = position.get(error.column)
        if index is not None:
            by_column.setdefault(index, []).append(error.message)
    written: list = [row_number]
    for index, value in enumerate(values):
        if index in by_column:
            cell = WriteOnlyCell(sheet, value=value)
            cell.fill = ERROR_FILL
            cell.comment = Comment("\n".join(by_column[index]), _("数据校验"))
            written.append(cell)
        else:
            written.append(value)
    summary = "；".join(
        f"{error.column}：{error.message}" if error.column else error.message for error in errors
    )
    message = WriteOnlyCell(sheet, value=safe_text(summary))
    message.fill = ERROR_FILL
    written.append(message)
    return written


def report_rows(chunk: ParsedChunk) -> Iterator[Row]:
    """Every row of a chunk in the shape :func:`write_error_report` takes (the invalid
    ones with their errors); ``chunk.raw`` supplies the original cell strings."""
    by_row: dict[int, list[RowError]] = {}
    for error in chunk.errors:
        by_row.setdefault(error.row, []).append(error)
    for position, row_number in enumerate(np.asarray(chunk.source_rows).tolist()):
        cells = ["" if value is None else str(value) for value in chunk.raw.iloc[position]]
        yield int(row_number), cells, by_row.get(int(row_number), [])


def _cell(value: object) -> object:
    """A raw cell as written to the report: missing (None, NaN) as empty text."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value


def merged_rows(raw_chunks: Iterable, rejected: Iterable[Row]) -> Iterator[Row]:
    """Every row of a raw read of the file (``connectors.readers.base.RawChunk`` objects), with
    the errors of the rejected rows merged in by source row number.

    Both run in file order (the load spools rejected rows chunk by chunk, sorted), so
    this is a merge of two sorted streams: nothing is held but the current chunk. A
    rejected row the raw read did not meet (none expected) is written at the end.
    """
    pending = iter(rejected)
    current = next(pending, None)
    for raw in raw_chunks:
        numbers = np.asarray(raw.source_rows).tolist()
        for values, row_number in zip(raw.frame.itertuples(index=False), numbers, strict=True):
            errors: list[RowError] = []
            while current is not None and current[0] <= row_number:
                if current[0] == row_number:
                    errors = current[2]
                else:
                    yield current
                current = next(pending, None)
            yield int(row_number), [_cell(value) for value in values], errors
    while current is not None:
        yield current
        current = next(pending, None)


def file_rows(*, batch: UploadBatch, connector, rejected: Iterable[Row]) -> tuple[list, Iterator]:
    """(headers, every row) of a batch's stored file for its report: a raw read of the
    file (no normalising) merged with the rejected rows spooled by the load. A file that
    is itself a corrected report loses its report columns, so they are not doubled."""
    from pathlib import Path

    from connectors.normalisers.schema import load_schema
    from connectors.readers.formats import open_table
    from connectors.writers import report_columns

    schema = load_schema(batch.resource, connector)
    table = open_table(
        path=Path(batch.file.path),
        filename=batch.original_filename or batch.file.name,
        scorer=schema.headers.score,
        chunk_rows=25_000,
        sheet=batch.sheet or None,
    )
    headers = [str(header) for header in table.headers]
    own = report_columns.positions(headers)
    if not own:
        return headers, merged_rows(table.chunks, rejected)
    keep = [i for i in range(len(headers)) if i not in own]

    def stripped() -> Iterator:
        for raw in table.chunks:
            frame = report_columns.unquote(raw.frame.iloc[:, keep])
            yield replace(raw, frame=frame)

    return [headers[i] for i in keep], merged_rows(stripped(), rejected)


def attach_report(
    *, batch: UploadBatch, headers: list[str], rows: Iterable[tuple[int, list, list[RowError]]]
) -> None:
    """Write the report of a rejected or partial batch into storage and attach it (and to
    the correction batch holding the same rejected rows)."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        write_error_report(out=out, headers=headers, rows=rows)
        out.seek(0)
        batch.error_report.save(f"batch-{batch.pk}-errors.xlsx", File(out), save=False)
    batch.timings = {**batch.timings, "report": round(time.perf_counter() - started, 3)}
    UploadBatch.objects.filter(pk=batch.pk).update(
        error_report=batch.error_report.name, timings=batch.timings
    )
    UploadBatch.objects.filter(correction_of=batch, status=BatchStatus.CORRECTION).update(
        error_report=batch.error_report.name
    )
