"""Audit of the ops centre's reads under the 一网统管 policy (``operations.policies``).

Ops centre staff view the alerts, points, readings and work orders of every department;
each such read (a page of /ops/, a call of the ops API) appends one ``read`` event naming
what was read and how many rows, so the providers can see who looked at their data.
"""

from __future__ import annotations

from typing import Any

from operations.policies import ops_centre_code, ops_centre_wide
from permissions.audit import log_event
from permissions.selectors import UserLike


def log_ops_centre_read(
    user: UserLike, *, view: str, rows: int = 0, detail: dict[str, Any] | None = None
) -> bool:
    """Append a ``read`` event when ``user`` reads as the ops centre; True if logged."""
    if not ops_centre_wide(user):
        return False
    log_event(
        actor=user,
        action="read",
        rows=rows,
        detail={"ops_centre": ops_centre_code(), "view": view, **(detail or {})},
    )
    return True
