"""Indicator names (风险指标) in the viewer's language.

An indicator's name is stored text; the seeded ones (``risk.seed``) are msgids, so they
render in English in English mode, as hazard names do (``operations.hazards``); a name
an operator typed shows as typed.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import pgettext

from hub.catalog.stored_text import localized


def indicator_label(name: str) -> str:
    """The indicator's name in the active language (as stored when not a known name)."""
    return localized(name)


def join_names(names: Iterable[str]) -> str:
    """Names joined with the active language's list separator (、 in Chinese)."""
    return pgettext("list separator", "、").join(names)
