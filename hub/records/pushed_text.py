"""Text a pushed record cannot hold: NUL characters, unpaired surrogates, deep nesting.

JSON may spell both (``"\\u0000"``, ``"\\ud800"``), Python reads them, but neither can be
stored: PostgreSQL's jsonb and text refuse NUL, and UTF-8 has no surrogates. A value
nested hundreds of levels deep (``[[[…]]]``) is read by the JSON parser but overflows
Python's recursion limit when it is written back as JSON. Found before anything is
stored, they are a 400 naming the record and the field, not a database error or a
RecursionError deep in the push.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

# Far more than any record value needs (a GeoJSON polygon is 4 levels), far below the
# recursion limit of the JSON encoder that stores it.
MAX_DEPTH = 64


def _bad(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def _problem(value: Any) -> str:
    """ "text", "depth" or "" for one field's value; walked with a stack, not recursion
    (a recursive walk would itself overflow on the values it must refuse)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, str):
            if _bad(item):
                return "text"
        elif isinstance(item, list | dict):
            if depth > MAX_DEPTH:
                return "depth"
            if isinstance(item, dict):
                if any(_bad(key) for key in item):
                    return "text"
                item = list(item.values())
            pending.extend((child, depth + 1) for child in item)
    return ""


def text_problem(records: list[dict]) -> str | None:
    """Why ``records`` cannot be stored as pushed, naming the first bad record (1 = the
    first) and field, or None."""
    for row, record in enumerate(records, start=1):
        for name, value in record.items():
            problem = "text" if _bad(name) else _problem(value)
            if not problem:
                continue
            shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
            shown = shown.replace("\x00", "\\x00")[:64]
            if problem == "depth":
                return _("第 %(row)d 条记录的字段 %(field)s 嵌套超过 %(depth)d 层，无法存储。") % {
                    "row": row,
                    "field": shown,
                    "depth": MAX_DEPTH,
                }
            return _(
                "第 %(row)d 条记录的字段 %(field)s 含有空字符（NUL）或不成对的代理字符，无法存储。"
            ) % {"row": row, "field": shown}
    return None
