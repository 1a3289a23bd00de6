"""The rule of an Idempotency-Key (the HTTP header of pushes and record posts).

A key is at most as long as ``UploadBatch.idempotency_key`` and
``PushReceipt.idempotency_key`` store, and is made of visible ASCII characters and
spaces (a header carries no other text reliably). A key that breaks the rule is refused,
never cut to fit: two keys sharing their first 128 characters were one key.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 128


def visible_ascii(text: str) -> bool:
    """Only visible ASCII characters and spaces (no control characters, nothing else)."""
    return all(" " <= char <= "~" for char in text)


def key_problem(key: str) -> str | None:
    """Why ``key`` (the header's value, stripped) is no Idempotency-Key, or None."""
    if len(key) > MAX_KEY_LENGTH:
        return _("Idempotency-Key 最长 %(n)d 个字符。") % {"n": MAX_KEY_LENGTH}
    if not visible_ascii(key):
        return _("Idempotency-Key 只能包含可见的 ASCII 字符和空格。")
    return None
