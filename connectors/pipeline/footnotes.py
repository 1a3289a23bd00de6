"""Notes and total rows under a table (表尾注释与合计行), left out of the data.

Departments' sheets end with lines people write for people: "注：压力为日均值",
"数据来源：…", "制表：… 审核：…", or a "合计" / "平均值" row, and grouped reports have a
"浦东新区小计" row under each group (in the second column when the first holds 序号).
Read as data, each is a row with its required fields empty, and one of them rejected a
whole file. A row whose first non-empty cell is such a note and whose other cells are
empty or notes and signatures too (and a one-cell row continuing it: "2. …"), or whose
first non-empty cell is a total word (alone or after what it totals), is dropped and
counted in a warning (``notices.SKIPPED_ROWS``), never silently.
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
# The other cells of a note line: who signs the sheet and when ("审核：王工", "日期：…").
_SIGNED = (
    _NOTE + r"|^\s*(?:审批|复核|校对|签发|(?:单位|部门|统计)?负责人|联系人|联系电话|电话|"
    r"(?:报出|报送|填报|制表)?日期)[^:：]{0,6}[:：]"
)
# A total word, alone or after what it totals ("浦东新区小计", "泵站合计").
_TOTAL = (
    r"^\s*(?:[^\s\d][^:：]{0,11}?\s*)?(?:合\s*计|总\s*计|小\s*计|累\s*计|共\s*计|"
    r"平\s*均\s*值?|(?i:total|sum|subtotal|grand\s*total|average))\s*[:：]?\s*$"
)


def _text(column) -> pa.Array:
    array = pa.array(column, from_pandas=True)
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    return pc.utf8_trim_whitespace(pc.fill_null(array.cast(pa.string()), ""))


def _leading(frame) -> tuple[pa.Array, np.ndarray]:
    """Each row's first non-empty cell and its column. Rows whose first cell is empty are
    few (the first column is mostly an id): only they are looked at further."""
    first = _text(frame.iloc[:, 0])
    where = np.zeros(len(frame), dtype=np.int64)
    blank = np.flatnonzero(pc.equal(first, "").to_numpy(zero_copy_only=False))
    if not len(blank):
        return first, where
    cells = first.to_numpy(zero_copy_only=False).astype(object)
    found = np.zeros(len(blank), dtype=bool)
    for column in range(1, frame.shape[1]):
        text = _text(frame.iloc[blank, column]).to_numpy(zero_copy_only=False)
        take = ~found & (text != "")
        cells[blank[take]] = text[take]
        where[blank[take]] = column
        found |= take
    return pa.array(cells, type=pa.string()), where


def _continued(frame, notes: np.ndarray) -> np.ndarray:
    """Rows continuing a note ("注：1. …" then "2. 坐标为百度坐标。"): each row right below
    a note row, or below such a row, that holds one cell only. Only the rows after the
    first note are looked at (notes close a table)."""
    start = int(notes.min()) + 1
    if start >= len(frame):
        return np.empty(0, dtype=np.int64)
    tail = frame.iloc[start:]
    filled = np.zeros(len(tail), dtype=np.int64)
    for column in range(frame.shape[1]):
        filled += pc.not_equal(_text(tail.iloc[:, column]), "").to_numpy(zero_copy_only=False)
    marked = set(notes.tolist())
    found: list[int] = []
    for row in (np.flatnonzero(filled == 1) + start).tolist():  # ascending: chains grow
        if row not in marked and row - 1 in marked:
            marked.add(row)
            found.append(row)
    return np.asarray(found, dtype=np.int64)


def drop_notes(raw: RawChunk) -> tuple[RawChunk, Notice | None]:
    """The chunk without its note and total rows, and the warning naming them."""
    frame = raw.frame
    if frame.empty or frame.shape[1] < 2:
        return raw, None  # a one-column table's cells are its data
    first, where = _leading(frame)
    total = pc.match_substring_regex(first, _TOTAL)
    note = pc.match_substring_regex(first, _NOTE)
    skip = pc.or_(total, note).to_numpy(zero_copy_only=False)
    if not skip.any():
        return raw, None
    candidates = np.flatnonzero(skip)
    # A note row has nothing beside it but other notes and signatures ("审核：王工").
    unsigned = np.zeros(len(candidates), dtype=bool)
    for column in range(frame.shape[1]):
        text = _text(frame.iloc[candidates, column])
        other = pc.and_(
            pc.not_equal(text, ""), pc.invert(pc.match_substring_regex(text, _SIGNED))
        ).to_numpy(zero_copy_only=False)
        unsigned |= other & (where[candidates] != column)
    is_total = total.to_numpy(zero_copy_only=False)[candidates]
    # A total row may carry its sums.
    dropped = candidates[is_total | ~unsigned]
    if not len(dropped):
        return raw, None
    notes = candidates[~is_total & ~unsigned]
    if len(notes):
        dropped = np.union1d(dropped, _continued(frame, notes))
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
