"""Readers: turn an uploaded file into chunks of string cells with bounded memory.

Every reader finds the header row (the first row naming the most fields of the resource,
so title rows and blank rows above it are skipped) and yields :class:`RawChunk` objects
whose frame has positional columns (0..n-1, all strings, "" for empty) and the source
row number of every row, as the user sees it in a spreadsheet (1-based, header counted).
"""

from __future__ import annotations

import codecs
import csv
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.utils.translation import gettext as _

from connectors.base import InputError, RowError
from connectors.normalisers.headers import fold_header, header_crs
from hub.records.notices import Notice

SAMPLE_BYTES = 64 * 1024
HEADER_SEARCH_ROWS = 30
MAX_COLUMNS = 500
DELIMITERS = (",", ";", "\t", "|")
# Extra positional columns read beyond the header so that rows longer than the header
# become a row error instead of a parser failure.
SPARE_COLUMNS = 16

Scorer = Callable[[list[object]], int]


@dataclass
class RawChunk:
    """Positional string cells of some rows, their source row numbers, reader errors."""

    frame: pd.DataFrame
    source_rows: np.ndarray
    errors: list[RowError] = field(default_factory=list)
    # (n, 2) uint64 fingerprints of the rows' cells, once computed
    # (connectors.pipeline.fingerprints).
    fingerprints: np.ndarray | None = None


@dataclass
class Table:
    """An opened source: its header texts and a lazy iterator over row chunks."""

    headers: list[str]
    header_row: int
    chunks: Iterator[RawChunk]
    kind: str
    warnings: list[Notice] = field(default_factory=list)
    # a CSV's delimiter: in a ";"-delimited file the comma is the decimal separator
    # (connectors.pipeline.commas); None for spreadsheets and JSON
    delimiter: str | None = None
    # XLSX columns hidden in Excel: position among the headers -> sheet column letters
    # (a notice when such a column maps to a field, connectors.pipeline.parsing)
    hidden_columns: dict[int, str] = field(default_factory=dict)


def max_upload_bytes() -> int:
    """The configured upload limit (HUB_MAX_UPLOAD_BYTES)."""
    return int(getattr(settings, "HUB_MAX_UPLOAD_BYTES", 512 * 1024 * 1024))


def max_json_bytes() -> int:
    """JSON is parsed whole, so it has its own, smaller limit (HUB_MAX_JSON_BYTES)."""
    return int(getattr(settings, "HUB_MAX_JSON_BYTES", 64 * 1024 * 1024))


def sniff_kind(head: bytes, filename: str) -> str:
    """ "xlsx", "xls", "json" or "csv" from the leading bytes; the name only breaks ties."""
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "xlsx"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "xls"
    stripped = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if stripped[:1] in (b"[", b"{") and filename.lower().endswith(".json"):
        return "json"
    if filename.lower().endswith(".json") and stripped[:1] not in (b"[", b"{"):
        raise InputError(_("文件扩展名为 .json，但内容不是 JSON 数组。"))
    return "csv"


def detect_encoding(sample: bytes) -> str:
    """BOM first, then strict UTF-8, then GB18030, then charset-normalizer's best guess."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        unmarked = _utf16_without_bom(sample)
        if unmarked:
            return unmarked
        raise InputError(_("文件不是文本表格（含有二进制内容），请上传 CSV 或 XLSX 文件。"))
    for encoding in ("utf-8", "gb18030"):
        try:
            # The sample may end inside a multi-byte character: decode incrementally.
            codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
            return encoding
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    if best is None:
        raise InputError(_("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV。"))
    return best.encoding


def _utf16_without_bom(sample: bytes) -> str | None:
    """ "utf-16-le" or "utf-16-be" for UTF-16 text saved without a BOM (some Windows
    exports), else None. Its ASCII characters (digits, separators, line ends) have their
    zero byte on one side, more zeros than the other side's (CJK characters such as 一,
    U+4E00, put a few there); binary data does not decode as text without control,
    private-use or unassigned characters."""
    sample = sample[: len(sample) // 2 * 2]
    odd, even = sample[1::2].count(0), sample[0::2].count(0)
    if odd == even:
        return None
    encoding = "utf-16-le" if odd > even else "utf-16-be"
    try:
        text = codecs.getincrementaldecoder(encoding)("strict").decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    for char in set(text):
        if char in "\t\r\n":
            continue
        if unicodedata.category(char) in ("Cc", "Co", "Cn", "Cs"):
            return None
    return encoding


def sniff_delimiter(text: str) -> str:
    """The delimiter giving the most rows with the same (and > 1) number of fields."""
    lines = [line for line in text.splitlines()[:200] if line.strip()]
    best, best_score = ",", -1
    for delimiter in DELIMITERS:
        counts: dict[int, int] = {}
        for row in csv.reader(lines, delimiter=delimiter):
            if len(row) > 1:
                counts[len(row)] = counts.get(len(row), 0) + 1
        score = max(counts.values(), default=0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def find_header(rows: list[list[object]], scorer: Scorer) -> int:
    """Index of the first row naming the most fields (raises when none names any)."""
    scores = [scorer(row) for row in rows[:HEADER_SEARCH_ROWS]]
    if not scores or max(scores) == 0:
        raise InputError(
            _("未找到表头：前 %(n)d 行中没有一行包含本资源的字段名称。") % {"n": HEADER_SEARCH_ROWS}
        )
    return scores.index(max(scores))


def is_unit_cell(cell: object) -> bool:
    """A cell that is only a unit: "m", "m³/s", "(MPa)", "[kPa]", "/cm"."""
    from connectors.normalisers.units import canonical_unit

    text = str(cell or "").strip().strip("()（）[]/ ")
    return bool(text) and canonical_unit(text) not in (None, "")


def with_unit_row(headers: list[str], below: list[object]) -> list[str] | None:
    """The headers with the units of the row under them ("前池水位" over "m" becomes
    "前池水位(m)"), when that row holds only units, each under a header; else None."""
    cells = [str(cell or "").strip() for cell in below]
    filled = [i for i, cell in enumerate(cells) if cell]
    if not filled or any(i >= len(headers) or not headers[i] for i in filled):
        return None
    if not all(is_unit_cell(cells[i]) for i in filled):
        return None
    merged = list(headers)
    for i in filled:
        unit = cells[i].strip("()（）[]/ ")
        merged[i] = f"{headers[i]}({unit})"
    return merged


# A coordinate system as a header spells it (``header_crs`` reads it back).
_CRS_LABELS = {"wgs84": "WGS-84", "gcj02": "GCJ-02", "bd09": "BD-09", "cgcs2000": "CGCS2000"}


def _spread(row: list[str], below: list[str]) -> list[str]:
    """A group header row as it looked before a CSV export dropped its merges: a group cell
    ("坐标(BD-09)") is spread over the blank cells right of it that have a sub-header
    below, when the group cell has one too. A row with fewer than two texts (a title) is
    no group row."""
    if sum(1 for cell in row if cell) < 2:
        return row
    spread = list(row)
    for c, top in enumerate(row):
        if not top or c >= len(below) or not below[c]:
            continue
        for right in range(c + 1, len(row)):
            if row[right] or right >= len(below) or not below[right]:
                break
            spread[right] = top
    return spread


def _joined(top: list[str], below: list[str]) -> list[str]:
    """One header from a row and the row under it ("压力" over "(MPa)" is "压力(MPa)")."""
    joined = []
    for c, upper in enumerate(top):
        lower = below[c] if c < len(below) else ""
        if upper and lower and fold_header(upper) != fold_header(lower):
            if lower[:1] in "(（/[":
                joined.append(f"{upper}{lower}")
            elif is_unit_cell(lower):  # "前池水位" over a bare "m"
                joined.append(f"{upper}({lower})")
            else:
                # "坐标(GCJ-02)" over "纬度": the coordinate system stays said.
                crs = header_crs(upper)
                stated = crs and not header_crs(lower)
                joined.append(f"{lower}({_CRS_LABELS[crs]})" if stated else lower)
        else:
            joined.append(upper or lower)
    return joined


def header_candidates(
    rows: list[list[str]], merged: list[tuple], *, implied: bool = False
) -> list[tuple[int, list[str]]]:
    """(last header row index, header texts) for single rows and two-row headers.

    Cells covered by a merge are empty (in calamine, or in a CSV saved from a merged
    sheet) except the first: forward-fill them across the merge, then join a row with the
    one below ("压力" over "(MPa)"). ``implied``: a CSV has no merges, so a group cell
    is spread over the blanks right of it for the join only (``_spread``).
    """
    filled = [[str(cell or "") for cell in row] for row in rows]
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
            top = _spread(row, below) if implied else row
            candidates.append((index + 1, _joined(top, below)))
    return candidates


def is_unit_row(row: list[object]) -> bool:
    """Whether a row looks like the unit line of a two-row header: "(MPa)", "/cm"."""
    cells = [cell for cell in row if cell]
    return bool(cells) and all(is_unit_cell(cell) for cell in cells)


def best_header(
    rows: list[list[str]], merged: list[tuple], scorer: Scorer, *, implied: bool = False
) -> tuple[int, int, list[str]]:
    """(first row, last row, texts) of the header among ``rows``: the candidate naming
    the most fields (raises when none names any); on a tie a two-row header whose lower
    row holds units ("(MPa)") beats the top row alone, so the unit row is not read as
    data, else the higher candidate wins."""
    candidates = header_candidates(rows, merged, implied=implied)
    find_header([texts for _index, texts in candidates], scorer)  # raises when none fits
    ranked = [
        (scorer(texts) + (0.5 if index > 0 and is_unit_row(rows[index]) else 0.0), -position)
        for position, (index, texts) in enumerate(candidates)
    ]
    best = max(range(len(candidates)), key=ranked.__getitem__)
    last, texts = candidates[best]
    first = last - 1 if best % 2 else last  # joined candidates sit at odd positions
    return first, last, texts


def check_columns(count: int) -> None:
    """Reject absurdly wide sheets before reading them."""
    if count > MAX_COLUMNS:
        raise InputError(
            _("列数过多：表头有 %(count)d 列，最多允许 %(max)d 列。")
            % {"count": count, "max": MAX_COLUMNS}
        )


def long_row_errors(
    frame: pd.DataFrame, width: int, source_rows: np.ndarray
) -> tuple[pd.DataFrame, list[RowError]]:
    """Drop the spare columns, reporting rows that had content in them."""
    errors: list[RowError] = []
    if frame.shape[1] > width:
        errors = overflow_errors((frame.iloc[:, width:] != "").to_numpy(), width, source_rows)
        frame = frame.iloc[:, :width]
    return frame, errors


def overflow_errors(filled: np.ndarray, width: int, source_rows: np.ndarray) -> list[RowError]:
    """One error per row with content beyond the header (``filled``: rows x spare
    columns, True where a cell has content)."""
    errors: list[RowError] = []
    for position in np.flatnonzero(filled.any(axis=1)):
        cells = int(np.flatnonzero(filled[position]).max()) + 1
        errors.append(
            RowError(
                row=int(source_rows[position]),
                column=_("第%(n)d列") % {"n": width + 1},
                message=_("该行比表头多出 %(extra)d 个单元格（表头共 %(width)d 列）。")
                % {"extra": cells, "width": width},
            )
        )
    return errors


def arrow_chunk(table: pa.Table, first_row: int) -> RawChunk:
    """Positional string columns of consecutive rows and their source row numbers;
    all-empty rows dropped."""
    rows = np.arange(first_row, first_row + table.num_rows, dtype="int64")
    blank = None
    for column in table.columns:
        empty = pc.equal(pc.utf8_length(column), 0)
        blank = empty if blank is None else pc.and_(blank, empty)
    if blank is not None and pc.any(blank).as_py():
        keep = pc.invert(blank)
        table, rows = table.filter(keep), rows[keep.to_numpy(zero_copy_only=False)]
    frame = table.to_pandas()
    frame.columns = list(range(table.num_columns))
    return RawChunk(frame=frame, source_rows=rows)
