"""CSV files: detect the layout, then stream chunks of string cells.

Two parsers read the same rows. pyarrow's streaming reader is the fast one (C++, about
seven times pandas' for a clean 1M-row file); it takes only regular files: every row as
wide as the header. The first surprise it meets (a row of another width, bad bytes, a
quoting it rejects) hands the file to pandas' C parser, which continues from the first
row not yet yielded and reports irregular rows as row errors (``long_row_errors``).
Rows are numbered alike by both: records after the header, blank lines counted.
"""

from __future__ import annotations

import codecs
import csv
import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from django.utils.translation import gettext as _
from pyarrow import csv as pa_csv

from connectors.base import InputError
from connectors.readers.base import (
    HEADER_SEARCH_ROWS,
    SPARE_COLUMNS,
    RawChunk,
    Scorer,
    Table,
    arrow_chunk,
    best_header,
    check_columns,
    detect_encoding,
    long_row_errors,
    sniff_delimiter,
    with_unit_row,
)

logger = logging.getLogger(__name__)

# pyarrow parses blocks of this size (256 KiB: 30 MB less peak memory than 1 MiB for a
# 1M-row load, as fast); chunks are re-cut to the pipeline's row count.
ARROW_BLOCK_BYTES = 256 << 10


class _Irregular(Exception):
    """pyarrow met a row it does not take; pandas continues from there."""


def open_csv(*, path: Path, head: bytes, scorer: Scorer, chunk_rows: int) -> Table:
    """Open a delimited text file: detect encoding, delimiter and header row."""
    encoding = detect_encoding(head)
    sample = codecs.getincrementaldecoder(encoding)("replace").decode(head, final=False)
    sample = sample.lstrip("\ufeff")
    if not sample.strip():
        raise InputError(_("文件为空。"))
    delimiter = sniff_delimiter(sample)
    reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
    rows: list[list[object]] = []
    line_ends: list[int] = []
    for row in reader:
        rows.append(row)
        line_ends.append(reader.line_num)
        if len(rows) >= HEADER_SEARCH_ROWS:
            break
    # A two-row header saved from a sheet with merged cells (blank where the merges were)
    # is joined as a workbook's is; a row of units under it belongs to it.
    header_index, last, texts = best_header(rows, [], scorer, implied=True)
    headers = [str(cell).strip() for cell in texts]
    check_columns(len(headers))
    widest = max((len(row) for row in rows), default=len(headers))
    if last == header_index and header_index + 1 < len(rows):
        united = with_unit_row(headers, rows[header_index + 1])
        if united is not None:
            headers, last = united, header_index + 1
    options = {
        "path": path,
        "encoding": encoding,
        "delimiter": delimiter,
        "skip_lines": line_ends[last],
        # rows are numbered from the line before the data
        "header_row": last + 1,
        "headers": headers,
        "chunk_rows": chunk_rows,
    }
    pandas_width = max(len(headers), widest) + SPARE_COLUMNS
    # pyarrow skips records, pandas and the header search count lines: they agree only
    # while no quoted cell above the data spans lines.
    # The quote count reads bytes: only for encodings where '"' is one byte of its own.
    regular = line_ends[last] == last + 1 and not encoding.startswith("utf-16")
    if regular and _quotes_balanced(path):
        chunks = _arrow_then_pandas(options, pandas_width)
    else:
        chunks = pandas_chunks(**options, width=pandas_width)
    return Table(
        headers=headers,
        header_row=header_index + 1,
        chunks=chunks,
        kind="csv",
        delimiter=delimiter,
    )


def _quotes_balanced(path: Path) -> bool:
    """False when the file has an odd number of quote characters.

    pandas rejects a file that ends inside a quoted cell (a truncated file); pyarrow
    silently closes the cell. Quoted cells hold an even number of quotes, so an odd count
    leaves the file to pandas. (A stray quote inside an unquoted cell also counts once:
    a truncated file with exactly one such stray quote is read as pyarrow reads it.)
    """
    count = 0
    with path.open("rb") as handle:
        while block := handle.read(ARROW_BLOCK_BYTES * 8):
            count += block.count(b'"')
    return count % 2 == 0


def _arrow_then_pandas(options: dict, pandas_width: int) -> Iterator[RawChunk]:
    """pyarrow's chunks while the file is regular, then pandas' from the next row."""
    done = 0  # data records yielded so far, blank ones included
    try:
        for chunk, end_row in arrow_chunks(**options):
            done = end_row - options["header_row"] - 1
            yield chunk
    except _Irregular as reason:
        logger.info("CSV %s: pandas reads on from record %d (%s)", options["path"], done, reason)
        yield from pandas_chunks(**options, width=pandas_width, skip_records=done)


def arrow_chunks(
    *,
    path: Path,
    encoding: str,
    delimiter: str,
    skip_lines: int,
    header_row: int,
    headers: list[str],
    chunk_rows: int,
) -> Iterator[tuple[RawChunk, int]]:
    """Stream a regular CSV with pyarrow; raises ``_Irregular`` at the first surprise.

    Yields each chunk with the source row number after it. Blank lines are kept as rows
    of empty cells (then dropped, keeping the numbering), as pandas does with
    ``skip_blank_lines=False``.
    """
    width = len(headers)
    names = [f"c{i}" for i in range(width)]
    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(
                skip_rows=skip_lines,
                column_names=names,
                block_size=ARROW_BLOCK_BYTES,
                # The BOM sits in the skipped header line; UTF-8 needs no transcoding.
                encoding="utf8" if encoding in ("utf-8", "utf-8-sig") else encoding,
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=False,
                invalid_row_handler=_refuse,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowException, UnicodeDecodeError, LookupError) as exc:
        raise _Irregular(str(exc)) from exc
    next_row = header_row + 1
    pending: list[pa.RecordBatch] = []
    pending_rows = 0
    try:
        with reader:
            for batch in reader:
                pending.append(batch)
                pending_rows += batch.num_rows
                while pending_rows >= chunk_rows:
                    table = pa.Table.from_batches(pending)
                    head, rest = table.slice(0, chunk_rows), table.slice(chunk_rows)
                    next_row += chunk_rows
                    yield arrow_chunk(head, next_row - chunk_rows), next_row
                    pending, pending_rows = rest.to_batches(), rest.num_rows
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        raise _Irregular(str(exc)) from exc
    if pending_rows:
        yield arrow_chunk(pa.Table.from_batches(pending), next_row), next_row + pending_rows


def _refuse(row) -> str:
    """pyarrow's invalid-row handler: any row of another width ends the fast path."""
    return "error"


def pandas_chunks(
    *,
    path: Path,
    encoding: str,
    delimiter: str,
    skip_lines: int,
    header_row: int,
    headers: list[str],
    width: int,
    chunk_rows: int,
    skip_records: int = 0,
) -> Iterator[RawChunk]:
    """Let pandas stream-decode and parse the file in chunks of strings.

    pandas decodes in C while it reads (GB18030 included), so memory stays bounded by the
    chunk size; title rows are skipped by line count, measured by the header search.
    ``skip_records`` data records are read and dropped first (pyarrow yielded them).
    """
    next_row = header_row + 1
    try:
        reader = pd.read_csv(
            path,
            encoding=encoding,
            encoding_errors="strict",
            skiprows=skip_lines,
            sep=delimiter,
            header=None,
            names=list(range(width)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            chunksize=chunk_rows,
            engine="c",
            quotechar='"',
        )
        with reader:
            for frame in reader:
                rows = np.arange(next_row, next_row + len(frame), dtype="int64")
                next_row += len(frame)
                if skip_records > 0:
                    dropped = min(skip_records, len(frame))
                    skip_records -= dropped
                    frame, rows = frame.iloc[dropped:], rows[dropped:]
                    if frame.empty:
                        continue
                frame = frame.fillna("")
                frame, errors = long_row_errors(frame, len(headers), rows)
                blank = (frame == "").all(axis=1).to_numpy()
                if blank.any():
                    frame, rows = frame[~blank], rows[~blank]
                yield RawChunk(frame=frame.reset_index(drop=True), source_rows=rows, errors=errors)
    except UnicodeDecodeError as exc:
        raise InputError(
            _("文件编码不一致：按 %(encoding)s 解码失败（第 %(row)d 行之后），请统一另存为 UTF-8。")
            % {"encoding": encoding, "row": next_row}
        ) from exc
    except pd.errors.ParserError as exc:
        raise _parser_error(exc, header_row, len(headers)) from exc


def _parser_error(exc: Exception, header_row: int, width: int) -> InputError:
    """pandas' tokenizer errors in the user's words, naming the source row."""
    unclosed = re.search(r"EOF inside string starting at row (\d+)", str(exc))
    if unclosed:
        # pandas counts lines from the start of the file, from 0.
        row = int(unclosed.group(1)) + 1
        return InputError(
            _("第 %(row)d 行起的引号没有闭合，文件在引号内结束。") % {"row": row}, row=row
        )
    # pandas numbers lines from the start of the file, skipped title lines included.
    found = re.search(r"line (\d+), saw (\d+)", str(exc))
    row = int(found.group(1)) if found else header_row + 1
    cells = int(found.group(2)) if found else 0
    return InputError(
        _("第 %(row)d 行有 %(cells)d 个单元格，远多于表头的 %(width)d 列，无法解析。")
        % {"row": row, "cells": cells, "width": width},
        row=row,
    )
