"""Idempotency keys of pushes: the header's rule (``hub.records.idempotency``, shared with
the records endpoint) and the MQTT message id, the key of its message behind ``mqtt:``."""

from __future__ import annotations

from django.utils.translation import gettext as _

from hub.records.idempotency import HEADER, MAX_KEY_LENGTH, key_problem, visible_ascii

__all__ = ["HEADER", "MAX_KEY_LENGTH", "MAX_MESSAGE_ID_LENGTH", "key_problem", "message_id_problem"]

MAX_MESSAGE_ID_LENGTH = 100


def message_id_problem(message_id: str) -> str | None:
    """Why ``message_id`` (an MQTT body's ``id``) cannot name its message, or None: the
    header's rule, with room for the ``mqtt:`` prefix."""
    if len(message_id) > MAX_MESSAGE_ID_LENGTH or not visible_ascii(message_id):
        return _("body.id 最长 %(n)d 个字符，只能包含可见的 ASCII 字符和空格。") % {
            "n": MAX_MESSAGE_ID_LENGTH
        }
    return None
