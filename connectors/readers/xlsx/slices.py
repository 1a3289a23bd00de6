"""A large sheet read in slices, so the load starts before the whole sheet is parsed.

calamine parses a sheet whole before handing over a single cell (0.45 s per 100,000
rows here), and the database sat idle meanwhile. For a large, plainly written sheet
(``CheckedWorkbook.guard_sheet`` found nothing odd) the sheet's XML is cut at row starts
into parts of a few MB, each written as a sheet of its own into an uncompressed
workbook in a temporary file, beside the original's shared strings and styles. calamine
reads the first small slice at once (header detection), the rest one by one in the
pipeline's reader thread while earlier rows are loaded.

Each slice after the first starts with a sentinel row just above its first row: the
slice's rows are numbered from it, and a row stored out of order (OOXML requires
ascending rows; calamine accepts any) moves or overwrites it, which is detected and
refused rather than read as other rows' cells.
"""

from __future__ import annotations

import contextlib
import re
import tempfile
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

import pyarrow as pa
from django.utils import translation
from django.utils.translation import gettext as _

from connectors.base import InputError
from connectors.readers.base import HEADER_SEARCH_ROWS
from connectors.readers.xlsx.extent import BLOCK, column_index
from connectors.readers.xlsx.slice_book import write_workbook

if TYPE_CHECKING:
    from connectors.readers.xlsx.archive import CheckedWorkbook

# Sheets whose XML is smaller are read whole: slicing would save little.
SLICE_FROM = 8 * 1024 * 1024
# XML bytes of the first slice (header rows; parsed before the load can start), then
# four times more per slice up to SLICE_BYTES (about 9,500 rows of 9 columns), so the
# pipeline is fed while it starts up.
FIRST_SLICE_BYTES = 256 * 1024
SLICE_BYTES = 4 * 1024 * 1024
# The part of a sheet before <sheetData> is repeated in every slice: only when small.
MAX_PREFIX = 64 * 1024

_DIMENSION = re.compile(rb"<dimension\b[^>]*>")
# A row start with a first cell: "<row r="812" spans="1:9"><c r="A812"".
_CUT = re.compile(rb'<row\s+r="([0-9]{1,7})"[^<>]*>\s*<c\s+r="([A-Z]{1,3})[0-9]')
_SHEET_DATA, _SHEET_DATA_END = b"<sheetData>", b"</sheetData>"
# Bytes held back at the end of each block: a row start cut by the block boundary is
# then seen whole with the next one.
_TAIL = 1024


@dataclass
class SheetSlice:
    """Consecutive sheet rows: ``columns`` maps a 0-based sheet column to its cells,
    index 0 being sheet row ``first_row`` (1-based)."""

    first_row: int
    num_rows: int
    columns: dict[int, pa.Array]
    end_row: int | None = None  # where the next slice starts (None: the last slice)


@dataclass
class _Cut:
    row: int  # 1-based sheet row the slice starts with
    column: str  # letters of that row's first cell: where the sentinel goes


class SlicedSheet:
    """A sheet written as slices into a temporary workbook (see the module docstring)."""

    def __init__(self, reader, name: str, cuts: list[_Cut], sentinel: str):
        self.reader, self.name, self.cuts, self.sentinel = reader, name, cuts, sentinel

    def __iter__(self) -> Iterator[SheetSlice]:
        """The slices in order; calamine parses the next (GIL released) while the
        current one is normalised."""
        language = translation.get_language()

        def load(index: int) -> SheetSlice:
            with translation.override(language):  # messages in the caller's language
                return self.load(index)

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="xlsx-slices") as parser:
            ahead = parser.submit(load, 0)
            for index in range(len(self.cuts)):
                current = ahead.result()
                if index + 1 < len(self.cuts):
                    ahead = parser.submit(load, index + 1)
                yield current

    def load(self, index: int) -> SheetSlice:
        """Load slice ``index`` and check its rows lie between its cut and the next."""
        data, absolute = load_columns(self.reader, f"s{index}", self.name, absolute=index == 0)
        columns = dict(zip(absolute, data.columns, strict=True))
        if index == 0:
            first_row, rows = 1, data.num_rows
        else:
            cut = self.cuts[index]
            self._check_sentinel(columns, cut)
            columns = {key: column.slice(1) for key, column in columns.items()}
            first_row, rows = cut.row, data.num_rows - 1
        following = self.cuts[index + 1].row if index + 1 < len(self.cuts) else None
        if following is not None and first_row + rows > following:
            raise self._out_of_order(following)
        return SheetSlice(first_row=first_row, num_rows=rows, columns=columns, end_row=following)

    def _check_sentinel(self, columns: dict[int, pa.Array], cut: _Cut) -> None:
        # Row 0 must be the sentinel alone: else a row of this slice lies above the cut.
        at = column_index(cut.column)
        if at not in columns or columns[at][0].as_py() != self.sentinel:
            raise self._out_of_order(cut.row)
        if any(column[0].as_py() is not None for key, column in columns.items() if key != at):
            raise self._out_of_order(cut.row)

    def _out_of_order(self, row: int) -> InputError:
        return InputError(
            _(
                "工作表“%(name)s”的行未按行号顺序存放（第 %(row)d 行附近），"
                "请在 Excel 中打开并另存后再上传。"
            )
            % {"name": self.name, "row": row},
            row=row,
        )


def first_line(exc: Exception) -> str:
    """The first line of an error from fastexcel (its context follows on other lines)."""
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def unreadable_sheet(name: str, exc: Exception) -> InputError:
    return InputError(
        _("Excel 工作表“%(name)s”无法读取：%(detail)s") % {"name": name, "detail": first_line(exc)}
    )


def load_columns(
    reader, sheet: str, name: str, *, absolute: bool
) -> tuple[pa.RecordBatch, list[int]]:
    """A sheet of ``reader`` as Arrow strings and the 0-based sheet column of each column.

    With ``absolute`` row 0 is the sheet's first row, else the first row calamine found.
    """
    found: list[int] = []

    def keep(column) -> bool:
        found.append(column.absolute_index)
        return True

    try:
        data = reader.load_sheet(
            sheet,
            header_row=None,
            skip_rows=0 if absolute else None,
            dtypes="string",
            eager=True,
            use_columns=keep,
        )
    except Exception as exc:  # fastexcel raises its own error types for bad XML
        raise unreadable_sheet(name, exc) from exc
    return data, found


class SliceWriter:
    """Cuts one worksheet part into slices while the archive pass inflates it.

    ``feed`` takes the part's bytes block by block (``b""`` at the end); ``finish``
    writes the workbook around the slices. Any surprise (no ``<sheetData>``, a long
    prefix, no plain row start for a while, a disk error) drops the slices: the sheet
    is then read whole.
    """

    def __init__(self) -> None:
        self.handle = tempfile.NamedTemporaryFile(prefix="hub-slices-", suffix=".xlsx")  # noqa: SIM115
        self.out: zipfile.ZipFile | None = zipfile.ZipFile(self.handle, "w", zipfile.ZIP_STORED)
        self.sentinel = f"hub-slice-{uuid.uuid4().hex}"
        self.cuts: list[_Cut] = []
        self.prefix: bytes | None = None
        self.entry = None  # the slice being written
        self.written = 0  # its bytes of rows so far
        self.pending = b""  # bytes not yet written: the prefix, or a tail a cut may span
        self.target = FIRST_SLICE_BYTES
        self.failed = False
        self.ended = False  # </sheetData> seen

    def feed(self, block: bytes) -> None:
        """Take the next block of the part (``b""`` at its end)."""
        if self.failed:
            return
        try:
            self.failed = not self._feed(block)
        except OSError:
            self.failed = True
        if self.failed:
            self.close()

    def _feed(self, block: bytes) -> bool:
        if self.ended:
            return True  # what follows </sheetData> (formatting, validations) is not needed
        if self._within_slice(block):  # as below, without joining block and pending
            self.entry.write(self.pending)
            self.entry.write(memoryview(block)[: len(block) - _TAIL])
            self.written += len(self.pending) + len(block) - _TAIL
            self.pending = block[len(block) - _TAIL :]
            return self.written <= self.target + 4 * BLOCK
        data = self.pending + block
        if self.prefix is None:
            start = data.find(_SHEET_DATA)
            if start < 0:
                self.pending = data
                return bool(block) and len(data) <= MAX_PREFIX + len(_SHEET_DATA)
            if start > MAX_PREFIX:
                return False
            self.prefix = _DIMENSION.sub(b"", data[:start]) + _SHEET_DATA
            data = data[start + len(_SHEET_DATA) :]
            self._open(_Cut(row=1, column="A"))
        end = data.find(_SHEET_DATA_END)
        if end >= 0:  # the last slice runs to </sheetData>
            data, self.ended = data[:end], True
        elif not block:
            return False
        while self.written + len(data) >= self.target:
            cut = _find_cut(data, max(self.target - self.written, 0), self.cuts[-1].row)
            if cut is None:
                break
            self._close_entry(data[: cut[0]])
            data = data[cut[0] :]
            self._open(cut[1])
            self.target = min(SLICE_BYTES, 4 * self.target)
        if self.ended:
            self._close_entry(data)
            self.pending = b""
            return True
        keep = min(len(data), _TAIL)
        self.entry.write(memoryview(data)[: len(data) - keep])
        self.written += len(data) - keep
        self.pending = data[len(data) - keep :]
        return self.written <= self.target + 4 * BLOCK

    def _within_slice(self, block: bytes) -> bool:
        """Whether the rows are being written, ``block`` is no short last one, no cut is
        due and no </sheetData> ends the rows in it or across from the pending bytes
        (searched with the block before)."""
        end = len(_SHEET_DATA_END) - 1
        return (
            self.prefix is not None
            and len(block) >= _TAIL
            and self.written + len(self.pending) + len(block) < self.target
            and _SHEET_DATA_END not in self.pending[-end:] + block[:end]
            and _SHEET_DATA_END not in block
        )

    def _open(self, cut: _Cut) -> None:
        assert self.out is not None and self.prefix is not None
        index = len(self.cuts)
        self.cuts.append(cut)
        self.entry = self.out.open(f"xl/worksheets/s{index}.xml", "w")
        self.entry.write(self.prefix)
        if index:
            above, cell = cut.row - 1, f"{cut.column}{cut.row - 1}"
            self.entry.write(
                f'<row r="{above}"><c r="{cell}" t="inlineStr"><is><t>'
                f"{escape(self.sentinel)}</t></is></c></row>".encode()
            )
        self.written = 0

    def _close_entry(self, rest: bytes) -> None:
        self.entry.write(rest)
        self.entry.write(b"</sheetData></worksheet>")
        self.entry.close()
        self.entry = None

    def finish(self, archive: zipfile.ZipFile, book: CheckedWorkbook) -> _SliceFile | None:
        """Write the workbook part and close the file; None when there is nothing to use."""
        if self.failed or self.out is None or self.entry is not None or len(self.cuts) < 2:
            self.close()
            return None
        try:
            write_workbook(archive, book, self.out, len(self.cuts))
            self.out.close()
            self.handle.flush()
        except OSError:
            self.close()
            return None
        self.out = None
        return _SliceFile(self.handle, self.cuts, self.sentinel)

    def close(self) -> None:
        """Drop the slices (the temporary file goes with its handle)."""
        self.failed = True
        with contextlib.suppress(Exception):
            if self.entry is not None:
                self.entry.close()
            if self.out is not None:
                self.out.close()
        self.entry = None
        self.out = None
        self.handle.close()


@dataclass
class _SliceFile:
    handle: tempfile._TemporaryFileWrapper
    cuts: list[_Cut]
    sentinel: str


def slice_sheet(book: CheckedWorkbook, name: str) -> SlicedSheet | None:
    """The sheet as slices when the archive pass cut it and the guard found it plain
    (no odd markup, no comment or CDATA section a cut could fall in); else None."""
    import fastexcel

    part = book.parts.get(name, "")
    scan, sliced = book.scans.get(part), book.slices.get(part)
    if sliced is None or scan is None or scan.suspect or not scan.settled or scan.markup:
        return None
    try:
        reader = fastexcel.read_excel(sliced.handle.name)
    except Exception as exc:  # fastexcel raises its own error types for bad XML
        raise unreadable_sheet(name, exc) from exc
    # calamine keeps its own handle on the file: it goes away with the reader.
    return SlicedSheet(reader, name, sliced.cuts, sliced.sentinel)


def _find_cut(pending: bytes, target: int, after: int) -> tuple[int, _Cut] | None:
    """The first complete row start at or beyond ``target`` bytes (below the header
    rows for the first cut, and after the previous cut)."""
    if len(pending) < target:
        return None
    position = target
    while True:
        match = _CUT.search(pending, position)
        if match is None or match.end() >= len(pending):
            return None
        row = int(match.group(1))
        # A row start right after a row's end (not inside a cell, however odd the XML).
        ended = pending[max(match.start() - 64, 0) : match.start()].rstrip().endswith(b"</row>")
        if row > max(after, HEADER_SEARCH_ROWS + 1) and ended:
            return match.start(), _Cut(row=row, column=match.group(2).decode())
        position = match.end()
