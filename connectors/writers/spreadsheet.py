"""Helpers shared by the XLSX writers: formula-injection neutralising and styles."""

from __future__ import annotations

import re

from openpyxl.styles import Font, PatternFill

# Text starting with these characters is run as a formula by spreadsheet programs
# (CSV/DDE injection); a leading apostrophe makes it plain text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")

ERROR_FILL = PatternFill(fill_type="solid", start_color="FFFFC7CE", end_color="FFFFC7CE")
HEADER_FILL = PatternFill(fill_type="solid", start_color="FFDDEBF7", end_color="FFDDEBF7")
REQUIRED_FONT = Font(bold=True, color="FFC00000")
BOLD = Font(bold=True)


def safe_text(value: object) -> object:
    """The value to write into a cell: text that could run as a formula is quoted.

    Plain numbers such as "-3" stay as they are (they cannot run as formulas).
    """
    if not isinstance(value, str):
        return value
    if value.startswith(FORMULA_START) and not PLAIN_NUMBER.match(value):
        return "'" + value
    return value
