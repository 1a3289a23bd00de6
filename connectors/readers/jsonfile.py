"""The JSON reader: an array of objects (or {"records": [...]}) as one table of
string cells; pushed records use the same table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.base import InputError
from connectors.readers.base import RawChunk, Scorer, Table, check_columns, max_json_bytes


def open_json(*, path: Path, scorer: Scorer, chunk_rows: int) -> Table:
    """A JSON array of objects (or {"records": [...]}), bounded by HUB_MAX_JSON_BYTES."""
    if path.stat().st_size > max_json_bytes():
        raise InputError(
            _("JSON 文件过大：最大允许 %(max)d MB，请改用 CSV。")
            % {"max": max_json_bytes() // 2**20}
        )
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(_("JSON 格式错误：%(detail)s") % {"detail": exc}) from exc
    return records_table(data, scorer=scorer, chunk_rows=chunk_rows)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _float_text(value: float) -> str:
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else str(value)


def _column_text(values: list) -> list[str]:
    """``_cell_text`` of every value of one column, by the column's types: pushed
    columns are nearly always all text or all numbers, and one call per cell was the
    largest part of a window's parse."""
    kinds = set(map(type, values))
    if kinds == {str}:
        return values
    if kinds == {float}:
        return list(map(_float_text, values))
    if kinds == {int}:
        return list(map(str, values))
    return list(map(_cell_text, values))


def records_table(data: object, *, scorer: Scorer, chunk_rows: int) -> Table:
    """A table over a list of JSON objects; row numbers are 1-based record positions."""
    if isinstance(data, dict) and isinstance(data.get("records"), list):
        data = data["records"]
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise InputError(_('JSON 内容必须是对象数组，例如 [{"字段": 值}, …]。'))
    if not data:
        raise InputError(_("没有数据记录。"))
    headers: list[str] = []
    seen: set[str] = set()
    for item in data:
        for key in item:
            if key not in seen:
                seen.add(key)
                headers.append(str(key))
                check_columns(len(headers))
    if scorer(headers) == 0:
        raise InputError(_("记录中没有本资源的任何字段。"))
    columns = [_column_text([item.get(key) for item in data]) for key in headers]

    def chunks() -> Iterator[RawChunk]:
        for start in range(0, len(data), chunk_rows):
            end = min(start + chunk_rows, len(data))
            frame = pd.DataFrame(
                {i: column[start:end] for i, column in enumerate(columns)},
                index=pd.RangeIndex(end - start),
                dtype=str,
            )
            rows = np.arange(start + 1, end + 1, dtype="int64")
            yield RawChunk(frame=frame, source_rows=rows)

    return Table(headers=headers, header_row=0, chunks=chunks(), kind="json")
