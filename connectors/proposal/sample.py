"""A bounded sample of an upload, and its header signature.

The proposal reads the header and the first ``rows`` data rows only (the readers stream,
so a file of millions of rows costs what its first block costs). The header row cannot be
found by field names, since the file is the one that does not match: it is the first of
the top rows with the most non-empty, non-numeric cells (title rows have one cell, blank
rows none, data rows come after it; a row of a single text is no header).

The header signature is the SHA-256 of the file's folded headers, sorted: the same
columns in another order, with other spacing, full-width brackets or required marks have
the same signature.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from connectors.normalisers.headers import fold_header
from connectors.readers.formats import open_table

SAMPLE_ROWS = 1_000
_NUMBER = re.compile(r"^[\s+-]*[\d.,]+\s*$")


@dataclass
class Sample:
    """Headers, where they are, and the first rows as strings (positional columns)."""

    headers: list[str]
    header_row: int
    frame: pd.DataFrame
    source_rows: list[int]
    delimiter: str | None = None  # a CSV's


def _header_like(text: str) -> bool:
    """A cell a header could hold: not a number, and mostly not digits (data cells such
    as "BJ2001" or "2025-07-01 14:30" are; "PM2.5浓度" and "压力(MPa)" are not)."""
    if _NUMBER.match(text):
        return False
    return sum(char.isdigit() for char in text) * 2 < len(text)


def header_score(row: list[object]) -> int:
    """How header-like a row is: its distinct non-empty cells that look like header
    text (a two-row header "坐标" over "纬度"/"经度" beats its top row; a header that
    names a column twice still beats the data below it), none for a row of one text (a
    note or title: a sheet of notes has no header)."""
    texts = {fold_header(cell) for cell in row if str(cell or "").strip()}
    count = sum(1 for text in texts if _header_like(text))
    return count if count >= 2 else 0


def read_sample(
    *, path: Path, filename: str, sheet: str | int | None = None, rows: int = SAMPLE_ROWS
) -> Sample:
    """The header and the first ``rows`` rows (raises ``InputError`` for unreadable files)."""
    table = open_table(
        path=Path(path), filename=filename, scorer=header_score, chunk_rows=rows, sheet=sheet
    )
    chunks = iter(table.chunks)
    try:
        first = next(chunks, None)
    finally:
        getattr(chunks, "close", lambda: None)()
    if first is None:
        frame = pd.DataFrame({i: pd.Series([], dtype=object) for i in range(len(table.headers))})
        source_rows: list[int] = []
    else:
        frame = first.frame.iloc[:rows].reset_index(drop=True)
        source_rows = [int(r) for r in first.source_rows[:rows]]
    return Sample(
        headers=list(table.headers),
        header_row=table.header_row,
        frame=frame,
        source_rows=source_rows,
        delimiter=table.delimiter,
    )


def header_signature(headers: list[object]) -> str:
    """SHA-256 (hex) of the sorted, folded, non-empty headers."""
    folded = sorted({fold_header(h) for h in headers} - {""})
    return hashlib.sha256("\x1f".join(folded).encode("utf-8")).hexdigest()


def file_signature(*, path: Path, filename: str, sheet: str | int | None = None) -> str:
    """The header signature of a file ("" when it cannot be read: the load says why)."""
    from connectors.base import InputError

    try:
        return header_signature(
            read_sample(path=path, filename=filename, sheet=sheet, rows=1).headers
        )
    except (InputError, OSError, ValueError):
        return ""
