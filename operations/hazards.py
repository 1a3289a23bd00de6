"""Hazard names (风险类型) in the viewer's language.

A rule's hazard is text its author typed, copied onto each alert it raises. The names the
hub itself writes (the governance check's 数据更新超时) and those of the seeded rules are
msgids here, so they render in English in English mode; any other name shows as typed.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from hub.catalog.stored_text import localized

BUILTIN_HAZARDS = (
    gettext_noop("数据更新超时"),
    gettext_noop("燃气管网超压"),
    gettext_noop("燃气压力突变"),
    gettext_noop("道路积水"),
    gettext_noop("供水压力不足"),
    gettext_noop("桥梁结构异常"),
    gettext_noop("城市内涝"),
)


def hazard_label(name: str) -> str:
    """The hazard's name in the active language (as typed when it is not a known name)."""
    return localized(name)
