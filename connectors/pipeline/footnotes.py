"""Notes and total rows under a table (表尾注释与合计行), left out of the data.

Departments' sheets end with lines people write for people: "注：压力为日均值",
"数据来源：…", "制表单位：…", or a "合计" / "平均值" row. Read as data, each is a row
with its required fields empty, and one of them rejected a whole file. A row whose first
cell is such a note and whose other cells are empty, or whose first cell is only a total
word, is dropped and counted in a warning (``notices.SKIPPED_ROWS``), never silently.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.readers.base import RawChunk
from hub.records import notices
from hub.records.notices import Notice

# RE2 syntax (pyarrow): a note's first words, then something that ends the label.
_NOTE = (
    r"^\s*(?:注\s*[:：\d①-⑳一二三四五（(、.．]|注释|注意|备注|说明\s*[:：]|制表|填表|填报|"
    r"审核|数据来源|资料来源|统计口径|(?i:notes?|sources?)\s*[:：])"
)
_TOTAL = (
    r"^\s*(?:合\s*计|总\s*计|小\s*计|累\s*计|共\s*计|平\s*均\s*值?|"
    r"(?i:total|sum|subtotal|grand\s*total|average))\s*[:：]?\s*$"
)


def _text(column) -> pa.Array:
    array = pa.array(column, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.fill_null(array.cast(pa.string()), "")


def drop_notes(raw: RawChunk) -> tuple[RawChunk, Notice | None]:
    """The chunk without its note and total rows, and the warning naming them."""
    frame = raw.frame
    if frame.empty or frame.shape[1] < 2:
        return raw, None  # a one-column table's cells are its data
    first = _text(frame.iloc[:, 0])
    total = pc.match_substring_regex(first, _TOTAL)
    note = pc.match_substring_regex(first, _NOTE)
    skip = pc.or_(total, note).to_numpy(zero_copy_only=False)
    if not skip.any():
        return raw, None
    candidates = np.flatnonzero(skip)
    rest = frame.iloc[candidates, 1:]
    rest_empty = (rest.fillna("").astype(str).apply(lambda c: c.str.strip()) == "").all(axis=1)
    is_total = total.to_numpy(zero_copy_only=False)[candidates]
    # A total row may carry its sums; a note row has nothing beside it.
    dropped = candidates[is_total | rest_empty.to_numpy()]
    if not len(dropped):
        return raw, None
    keep = np.ones(len(frame), dtype=bool)
    keep[dropped] = False
    rows = raw.source_rows[dropped]
    notice = Notice(notices.SKIPPED_ROWS, "", {"rows": len(dropped), "first": int(rows.min())})
    kept = replace(
        raw,
        frame=frame.iloc[keep].reset_index(drop=True),
        source_rows=raw.source_rows[keep],
        fingerprints=None if raw.fingerprints is None else raw.fingerprints[keep],
    )
    return kept, notice
