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
    records = [[_cell_text(item.get(key)) for key in headers] for item in data]

    def chunks() -> Iterator[RawChunk]:
        for start in range(0, len(records), chunk_rows):
            part = records[start : start + chunk_rows]
            frame = pd.DataFrame(part, columns=list(range(len(headers))), dtype=str)
            rows = np.arange(start + 1, start + 1 + len(part), dtype="int64")
            yield RawChunk(frame=frame, source_rows=rows)

    return Table(headers=headers, header_row=0, chunks=chunks(), kind="json")
