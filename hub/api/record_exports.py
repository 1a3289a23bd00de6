"""Streaming exports of records (CSV, XLSX, JSON) in constant memory.

Rows are read with a server-side cursor (``iterator``) and written chunk by chunk; the
XLSX workbook too (``hub.api.xlsx_stream``), so every format sends its first bytes at once.
Text cells starting with ``= + - @`` (or tab/CR) that are not plain numbers get a
leading apostrophe, so spreadsheets never evaluate them as formulas (CSV injection).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from hub.api.xlsx_stream import CONTENT_TYPE as XLSX_CONTENT_TYPE
from hub.api.xlsx_stream import xlsx_stream

CHUNK_ROWS = 5000
XLSX_MAX_ROWS = 1_048_575  # Excel's sheet limit minus the header row.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Row = list[Any]


def neutralise(value: Any) -> Any:
    """Defuse spreadsheet formulas in text; numbers and other types pass through."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        try:
            float(value)
        except ValueError:
            return "'" + value
    return value


def csv_stream(header: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    """CSV with a UTF-8 BOM (so Excel reads Chinese), written per chunk of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(header)
    for count, row in enumerate(rows, start=1):
        writer.writerow([neutralise(value) for value in row])
        if count % CHUNK_ROWS == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def json_stream(header: list[str], rows: Iterable[Row]) -> Iterator[bytes]:
    """A JSON array of objects, streamed per chunk of rows."""
    parts: list[str] = ["["]
    first = True
    for row in rows:
        item = json.dumps(dict(zip(header, row, strict=True)), ensure_ascii=False)
        parts.append(item if first else "," + item)
        first = False
        if len(parts) >= CHUNK_ROWS:
            yield "".join(parts).encode("utf-8")
            parts = []
    parts.append("]")
    yield "".join(parts).encode("utf-8")


def xlsx_rows(rows: Iterable[Row]) -> Iterator[Row]:
    """Rows with their text cells neutralised, for the XLSX writer."""
    for row in rows:
        yield [neutralise(value) for value in row]


def export_response(
    fmt: str,
    header: list[str],
    rows: Iterable[Row],
    filename: str,
    on_done: Callable[[int], None],
):
    """A streaming response in ``fmt``; ``on_done(rows_sent)`` runs when it ends."""
    counted = _Counter(rows)
    if fmt == "xlsx":
        # The cap applies to rows pulled, so ``counted`` (the audit) never includes a row
        # that was read but left out of the sheet.
        chunks = xlsx_stream(header, xlsx_rows(counted), XLSX_MAX_ROWS)
        content_type = XLSX_CONTENT_TYPE
    else:
        chunks = (csv_stream if fmt == "csv" else json_stream)(header, counted)
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
    response = StreamingHttpResponse(
        _finally(chunks, lambda: on_done(counted.count)), content_type=content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


class _Counter:
    """Counts rows as they are consumed."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows = rows
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self.rows:
            self.count += 1
            yield row


def _finally(chunks: Iterator[bytes], done: Callable[[], None]) -> Iterator[bytes]:
    """Run ``done`` once the stream is exhausted or the client goes away."""
    try:
        yield from chunks
    finally:
        done()
