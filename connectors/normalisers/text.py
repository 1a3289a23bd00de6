"""Cell text clean-up shared by all normalisers: full-width forms and missing markers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# Full-width ASCII variants (U+FF01..U+FF5E) map to ASCII by a fixed offset; the
# ideographic space and a few look-alike punctuation marks are folded too.
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH.update(
    {
        0x3000: ord(" "),
        0x00A0: ord(" "),
        0x2212: ord("-"),  # minus sign
        0x3002: ord("."),  # ideographic full stop, seen as a decimal point
        0xFF61: ord("."),
    }
)
HALFWIDTH_TABLE = str.maketrans(_FULLWIDTH)

# Cell values that mean "no value" in departmental spreadsheets (compared after folding).
MISSING_MARKERS = frozenset(
    {
        "",
        "—",
        "——",
        "-",
        "--",
        "/",
        "\\",
        "暂无",
        "无",
        "空",
        "NULL",
        "null",
        "Null",
        "N/A",
        "n/a",
        "NA",
        "na",
        "nan",
        "NaN",
        "None",
        "none",
        "#N/A",
        "…",
        "...",
    }
)


def halfwidth(text: str) -> str:
    """Fold full-width digits, letters and punctuation of one string to ASCII."""
    return text.translate(HALFWIDTH_TABLE)


def clean(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Fold full-width forms and strip; return (object Series of str, missing mask).

    Missing cells (NaN/None or a missing marker) come back as "" with the mask set.
    """
    text = series if series.dtype == "str" else series.astype(object).astype("str")
    if text.hasnans:
        text = text.fillna("")
    # Every character folded lies outside ASCII: a column of ASCII cells (numbers, codes,
    # times) skips the search. translate() is a C-level loop, run only where needed.
    if not pc.all(pc.string_is_ascii(pa.array(text))).as_py():
        needs_fold = text.str.contains("[\uff01-\uff5e\u3000\u00a0\u2212\u3002]", regex=True)
        if needs_fold.any():
            text = text.where(~needs_fold, text[needs_fold].str.translate(HALFWIDTH_TABLE))
    text = text.str.strip()
    missing = text.isin(MISSING_MARKERS)
    text = text.where(~missing, "")
    return text, missing


# What ``arrow_cells`` answers for a column pandas holds as numbers, dates or booleans
# (no text), and for one whose cells Arrow cannot give one type.
NO_TEXT = object()
UNTYPED = object()


def arrow_cells(series: pd.Series):
    """The cells of a column pandas holds as objects or strings, as an Arrow array;
    NO_TEXT or UNTYPED otherwise."""
    if not (series.dtype == object or pd.api.types.is_string_dtype(series.dtype)):
        return NO_TEXT
    try:
        return pa.array(series, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return UNTYPED


def any_cell_has(series: pd.Series, characters: str) -> bool:
    """Whether a cell's text, as written, holds one of ``characters``: a quick test before
    a rule cleans and searches every cell of a column that cannot need it. Columns of
    numbers, dates or booleans hold no text; cells of mixed types answer True (the rule
    then looks at them itself), and so may a column with empty cells (the bytes Arrow
    keeps under one are not looked at cell by cell).

    The cells' bytes lie end to end in one Arrow buffer, and one character cannot run
    from one cell's bytes into the next's (each cell is whole UTF-8): one ``memchr``-fast
    search of the buffer per character instead of a kernel call per cell."""
    arrow = arrow_cells(series)
    if arrow is NO_TEXT:
        return False
    if arrow is UNTYPED:
        return True
    if pa.types.is_null(arrow.type):
        return False
    if not (pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type)):
        return True
    chunks = arrow.chunks if isinstance(arrow, pa.ChunkedArray) else [arrow]
    needles = [character.encode() for character in characters]
    for chunk in chunks:
        cells = _cell_bytes(chunk)
        if any(needle in cells for needle in needles):
            return True
    return False


def _cell_bytes(cells: pa.Array) -> bytes:
    """The bytes of every cell of a string array, end to end (those under null cells too)."""
    if len(cells) == 0:
        return b""
    width = np.int64 if pa.types.is_large_string(cells.type) else np.int32
    offsets = np.frombuffer(cells.buffers()[1], dtype=width)
    start, end = int(offsets[cells.offset]), int(offsets[cells.offset + len(cells)])
    return cells.buffers()[2].slice(start, end - start).to_pybytes() if end > start else b""
