"""Text a pushed record cannot hold: NUL characters and unpaired surrogates.

JSON may spell both (``"\\u0000"``, ``"\\ud800"``), Python reads them, but neither can be
stored: PostgreSQL's jsonb and text refuse NUL, and UTF-8 has no surrogates. Found
before anything is stored, they are a 400 naming the record and the field, not a
database error deep in the push.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def _bad(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= char <= "\udfff" for char in text)


def _holds_bad(value: Any) -> bool:
    if isinstance(value, str):
        return _bad(value)
    if isinstance(value, list):
        return any(_holds_bad(item) for item in value)
    if isinstance(value, dict):
        return any(_bad(key) or _holds_bad(item) for key, item in value.items())
    return False


def text_problem(records: list[dict]) -> str | None:
    """Why ``records`` cannot be stored as pushed, naming the first bad record (1 = the
    first) and field, or None."""
    for row, record in enumerate(records, start=1):
        for name, value in record.items():
            if _bad(name) or _holds_bad(value):
                shown = name.encode("utf-8", "backslashreplace").decode("utf-8")
                shown = shown.replace("\x00", "\\x00")[:64]
                return _(
                    "第 %(row)d 条记录的字段 %(field)s 含有空字符（NUL）或不成对的代理字符，"
                    "无法存储。"
                ) % {"row": row, "field": shown}
    return None
