"""How large a grid calamine will allocate for a sheet, checked before it does.

calamine builds a dense grid from the first to the last row and column that any cell
with content names (~32 bytes a cell): a 1 kB sheet holding A1 and XFD1048576 asks for
512 GB, and the process aborts. Two checks, both streamed over the sheet's XML:

* **fast** (every sheet): RE2 patterns (pyarrow) looking for anything they cannot vouch
  for: a reference beyond the rows the sheet claims (or its size could hold) plus a
  quarter, or beyond the columns that keep the grid within MAX_SHEET_CELLS; a reference
  not written plainly (`` r="AB12"``: after a space, upper-case letters, digits, double
  quotes, no blanks around "=", no entities, no prefix); a cell or row element with a
  namespace prefix, or whose first attribute is not a plain ``r``. A sheet written by
  Excel, WPS, LibreOffice, openpyxl or xlsxwriter matches none of them.
* **exact** (sheets the fast check flagged): an XML parser (expat) places every cell as
  calamine does (its ``r``, else the one after the previous cell; rows likewise) and the
  grid is refused above MAX_SHEET_CELLS.
"""

from __future__ import annotations

import re
from xml.parsers import expat

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from django.utils.translation import gettext as _

from connectors.base import InputError

# calamine's dense grid costs ~32 bytes a cell: 16M cells is ~0.5 GB, and no sheet
# within the archive's size limit holds that many cells with values.
MAX_SHEET_CELLS = 16_000_000
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
MIN_ROW_BYTES = 32  # <row r="1"><c r="A1"><v>1</v></c></row> is 39
# Blocks are checked with this many bytes of the previous one in front: longer than any
# text the patterns need to see whole (the longest: a hidden row's start tag and the
# "<c" after it, sheet_scan.note_hidden; Excel writes it in under 200 bytes).
OVERLAP = 512
BLOCK = 1 << 20  # bytes of a part inflated at a time
# Each pattern starts with a literal byte: RE2 then skips ahead with memchr, ~4-30 ms
# per 43 MB, where a leading class such as \s costs 70 ms.
_UNPLAIN = [
    # an r attribute after a space: blanks around "=", another quote, or a value that is
    # not upper-case letters then digits
    r' r(?:\s|=[^"]|="(?:[^A-Z0-9]|[A-Z]{4}|[A-Z]{1,3}[^A-Z0-9]|[A-Z]{0,3}[0-9]{8}'
    r'|[A-Z]{0,3}[0-9]{1,7}[^0-9"]))',
    # an r attribute after other white space (calamine ignores a prefixed "x:r", and
    # every workbook declares xmlns:r)
    r"\tr[\s=]",
    r"\nr[\s=]",
    r"\rr[\s=]",
    # cells and rows: a prefix, no attributes, a first attribute other than r, long blanks
    # (ELEMENTS below)
]
# The one check led by "<", the commonest byte of XML (no memchr skip): a caller looking
# for other "<"-led markup too can run both in one scan (sheet_scan.scan_block).
ELEMENTS = r"<[^\s<>/!?]+:(?:c|row)[\s>/]|<(?:c|row)(?:[>/]|\s+[^r\s]|\s+r[^=]|\s{20})"
_LETTERS = re.compile(r"([A-Za-z]*)([0-9]*)$")


def fast_checks(rows: int) -> list[str]:
    """The RE2 patterns of the fast check for a sheet of about ``rows`` rows."""
    rows = min(EXCEL_ROWS, rows + max(rows // 4, 1024))
    columns = max(1, min(EXCEL_COLUMNS, MAX_SHEET_CELLS // rows))
    beyond = f' r="(?:{_letters_above(columns)}[0-9]|[A-Z]*{_number_above(rows)}")'
    # One scan for both " r" patterns: with a common literal start RE2 runs their
    # alternation as fast as either.
    return [f"(?:{beyond})|(?:{_UNPLAIN[0]})", *_UNPLAIN[1:], ELEMENTS]


def rows_guess(claimed: int | None, size: int) -> int:
    """The rows to size the fast check by: <dimension>'s, else what the size could hold."""
    return claimed or min(EXCEL_ROWS, max(size // MIN_ROW_BYTES, 1))


def window(data: bytes) -> pa.Array:
    """``data`` as a one-value binary array over the same memory: RE2 reads it in place
    (``pa.array([data])`` copied each block first, with the GIL held)."""
    offsets = np.array([0, len(data)], dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(data)]
    )


def matches_any(data: bytes | pa.Array, patterns: list[str]) -> bool:
    """Whether any RE2 pattern matches ``data`` (bytes, or their ``window``): one C++ scan
    each, no Python per tag, the GIL released; separate patterns because RE2 runs each
    far faster than their alternation unless they start alike."""
    cells = window(data) if isinstance(data, bytes | bytearray) else data
    return any(pc.any(pc.match_substring_regex(cells, pattern)).as_py() for pattern in patterns)


def too_large(name: str, cells: int) -> InputError:
    return InputError(
        _(
            "工作表“%(name)s”的单元格范围过大（约 %(cells)d 个单元格，最多 %(max)d 个），"
            "请删除表格右侧或下方的多余内容后重新上传。"
        )
        % {"name": name, "cells": cells, "max": MAX_SHEET_CELLS}
    )


class ExactExtent:
    """Cells placed as calamine places them, fed the sheet's XML block by block.

    Element and attribute names are compared by local name (any prefix); a cell counts
    when it has any child element or text (over-counting is safe); every reference-like
    attribute of a cell or row counts (a writer's duplicate "x:r" included)."""

    def __init__(self, name: str):
        self.name = name
        self.last_row = self.last_column = 0
        self._row = 0  # 1-based row being read
        self._column = 0  # 1-based column of the previous cell in the row
        self._cell: tuple[int, int] | None = None
        self._parser = expat.ParserCreate()
        self._parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        self._parser.StartDoctypeDeclHandler = self._refuse_doctype
        self._parser.StartElementHandler = self._start
        self._parser.EndElementHandler = self._end
        self._parser.CharacterDataHandler = self._text

    def feed(self, block: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(block, final)
        except expat.ExpatError as exc:
            raise InputError(
                _("Excel 工作表“%(name)s”的 XML 无效：%(detail)s")
                % {"name": self.name, "detail": exc}
            ) from exc
        cells = self.last_row * self.last_column
        if self.last_row > EXCEL_ROWS or self.last_column > EXCEL_COLUMNS:
            raise too_large(self.name, cells)
        if cells > MAX_SHEET_CELLS:
            raise too_large(self.name, cells)

    def _refuse_doctype(self, *args) -> None:
        raise InputError(
            _("Excel 文件含有不允许的 XML 实体声明（%(part)s），已拒绝。") % {"part": self.name}
        )

    def _start(self, tag: str, attributes: dict[str, str]) -> None:
        local = tag.rpartition(":")[2]
        if self._cell is not None:
            self._count_cell()
        if local == "row":
            rows = [self._row_number(v) for k, v in attributes.items() if _is_r(k)]
            self._row = max(rows) if rows else self._row + 1
            self._column = 0
        elif local == "c":
            places = [self._place(v) for k, v in attributes.items() if _is_r(k)]
            if places:
                row = max(place[0] for place in places)
                column = max(place[1] for place in places)
            else:
                row, column = max(self._row, 1), self._column + 1
            self._column = column
            self._cell = (row, column)

    def _end(self, tag: str) -> None:
        if tag.rpartition(":")[2] == "c":
            self._cell = None

    def _text(self, text: str) -> None:
        if self._cell is not None and text.strip():
            self._count_cell()

    def _count_cell(self) -> None:
        row, column = self._cell
        self.last_row = max(self.last_row, row)
        self.last_column = max(self.last_column, column)
        self._cell = None

    def _row_number(self, value: str) -> int:
        value = value.strip()
        if not value.isascii() or not value.isdigit() or len(value) > 9:
            raise too_large(self.name, EXCEL_ROWS * EXCEL_COLUMNS)
        return int(value)

    def _place(self, value: str) -> tuple[int, int]:
        match = _LETTERS.match(value.strip())
        if match is None or len(match.group(1)) > 4 or len(match.group(2)) > 9:
            raise too_large(self.name, EXCEL_ROWS * EXCEL_COLUMNS)
        letters, digits = match.group(1).upper(), match.group(2)
        column = 0
        for char in letters:
            column = column * 26 + (ord(char) - 64)
        return (int(digits) if digits else max(self._row, 1)), max(column, 1)


def _is_r(attribute: str) -> bool:
    return attribute.rpartition(":")[2] == "r"


def _number_above(limit: int) -> str:
    """A regular expression for the decimal numbers (no sign) greater than ``limit``."""
    return _above(str(limit), "0", "9")


def _letters_above(columns: int) -> str:
    """A regular expression for the column letters after column number ``columns``."""
    return _above(column_letters(columns), "A", "Z")


def _above(text: str, low: str, high: str) -> str:
    """The strings over ``low``-``high`` greater than ``text`` when longer strings are
    greater and equal lengths compare place by place (digits of a number, letters of a
    column): one more place, or the same prefix and a greater character somewhere."""
    any_char = f"[{low}-{high}]"
    options = [f"{any_char}{{{len(text) + 1},}}"]
    for position, char in enumerate(text):
        if char != high:
            rest = len(text) - position - 1
            options.append(f"{text[:position]}[{chr(ord(char) + 1)}-{high}]{any_char}{{{rest}}}")
    return "(?:" + "|".join(options) + ")"


def column_index(letters: str) -> int:
    """0-based column of "A", "B", …, "AA"."""
    index = 0
    for char in letters:
        index = index * 26 + (ord(char) - 64)
    return index - 1


def column_letters(number: int) -> str:
    """Letters of the 1-based column ``number``."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
