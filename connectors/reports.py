"""The XLSX error report of an upload: original rows, their errors, offending cells marked."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterable, Iterator
from typing import BinaryIO

import numpy as np
from django.core.files import File
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment

from connectors.base import ParsedChunk, RowError
from connectors.spreadsheet import BOLD, ERROR_FILL, HEADER_FILL, safe_text
from hub.records.models import BatchStatus, UploadBatch


def write_error_report(
    *,
    out: BinaryIO,
    headers: list[str],
    rows: Iterable[tuple[int, list[str], list[RowError]]],
) -> None:
    """Write the report (streaming, openpyxl write-only mode) to ``out``.

    ``rows`` yields (source row number, original cell strings in header order, errors of
    that row). The sheet has the source row number first, then the original columns, then
    an error column; cells named by an error get a red fill and a comment with the reason.
    """
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("错误明细"))
    sheet.freeze_panes = "B2"
    title = [_("源文件行号"), *headers, _("错误说明")]
    header_cells = []
    for text in title:
        cell = WriteOnlyCell(sheet, value=safe_text(text))
        cell.font = BOLD
        cell.fill = HEADER_FILL
        header_cells.append(cell)
    sheet.append(header_cells)
    position = {header: index for index, header in reversed(list(enumerate(headers)))}
    for row_number, cells, errors in rows:
        by_column: dict[int, list[str]] = {}
        for error in errors:
            index = position.get(error.column)
            if index is not None:
                by_column.setdefault(index, []).append(error.message)
        written = [WriteOnlyCell(sheet, value=row_number)]
        for index in range(len(headers)):
            value = cells[index] if index < len(cells) else ""
            cell = WriteOnlyCell(sheet, value=safe_text(value))
            if index in by_column:
                cell.fill = ERROR_FILL
                cell.comment = Comment("\n".join(by_column[index]), _("数据校验"))
            written.append(cell)
        summary = "；".join(
            f"{error.column}：{error.message}" if error.column else error.message
            for error in errors
        )
        message = WriteOnlyCell(sheet, value=safe_text(summary))
        if errors:
            message.fill = ERROR_FILL
        written.append(message)
        sheet.append(written)
    book.save(out)


def report_rows(chunk: ParsedChunk) -> Iterator[tuple[int, list[str], list[RowError]]]:
    """The invalid rows of a chunk in the shape :func:`write_error_report` takes.

    Loops over failing rows only; ``chunk.raw`` supplies the original cell strings.
    """
    by_row: dict[int, list[RowError]] = {}
    for error in chunk.errors:
        by_row.setdefault(error.row, []).append(error)
    for position in np.flatnonzero(~chunk.valid):
        row_number = int(chunk.source_rows[position])
        cells = ["" if value is None else str(value) for value in chunk.raw.iloc[position]]
        yield row_number, cells, by_row.get(row_number, [])


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
