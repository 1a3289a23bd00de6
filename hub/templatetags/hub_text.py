"""``{{ text|localized }}``: a message the hub stored, in the viewer's language."""

from __future__ import annotations

from django import template

from hub.catalog.stored_text import localized as localized_text

register = template.Library()


@register.filter
def localized(text: str | None) -> str:
    return localized_text(text)
