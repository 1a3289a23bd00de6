"""Panels that apps above operations add to the 运行态势 page (/ops/).

Operations may not import the apps built on it (risk, governance, …), so they register a
template here from their ``AppConfig.ready``; the dashboard includes each in order.
"""

from __future__ import annotations

_panels: list[str] = []


def register_panel(template_name: str) -> None:
    """Add ``template_name`` (rendered with the dashboard's request) to /ops/, once."""
    if template_name not in _panels:
        _panels.append(template_name)


def registered_panels() -> tuple[str, ...]:
    return tuple(_panels)
