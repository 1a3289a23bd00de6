"""Whether an upload writes numbers with a decimal comma, from its sample.

Evidence for a decimal comma: a ";"-delimited CSV (the comma is free to be the decimal
separator there, unless a cell's dot can only be a decimal point: "3.25"), cells only a
decimal comma reads ("0,75", "12,5", "1.234,5"). Evidence
for a thousands comma: cells only thousands read ("1,234.5", "1,234,567"). "1,250" alone is
no evidence. Both kinds of cells: the proposal says so and decides nothing.
"""

from __future__ import annotations

import re

import pandas as pd

from connectors.normalisers.text import clean
from connectors.proposal.result import CommaGuess

_DECIMAL_ONLY = re.compile(
    r"^[+-]?(?:\d{1,3}(?:\.\d{3})+,\d+|0,\d+|\d+,(?:\d{1,2}|\d{4,}))(?:[^\d,.]|$)"
)
_THOUSANDS_ONLY = re.compile(r"^[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+(?:[^\d,.]|$)|,\d{3}(?:[^\d,.]|$))")
_EXAMPLES = 3
_DOT_DECIMAL = r"^[+-]?\d*\.\d+(?:[eE][+-]?\d+)?(?:[^\d,.]|$)"
_DOT_THOUSANDS = r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:[^\d,.]|$)"


def guess_commas(
    columns: list[pd.Series], *, delimiter: str | None, declared: bool | None
) -> CommaGuess:
    """The decimal-comma reading the sampled number ``columns`` and the file's delimiter
    suggest; ``declared`` is the department's profile's setting."""
    decimal: list[str] = []
    thousands: list[str] = []
    commas: list[str] = []  # every comma cell
    dotted = False  # a cell whose dot can only be a decimal point ("3.25", not "2.000")
    for column in columns:
        text, missing = clean(column)
        plain = text[~missing & ~text.str.contains(",", regex=False)]
        dotted |= bool((plain.str.match(_DOT_DECIMAL) & ~plain.str.match(_DOT_THOUSANDS)).any())
        for cell in pd.unique(text[~missing & text.str.contains(",", regex=False)]):
            commas.append(cell)
            if _DECIMAL_ONLY.match(cell):
                decimal.append(cell)
            elif _THOUSANDS_ONLY.match(cell):
                thousands.append(cell)
    if decimal and thousands:
        return CommaGuess(None, "mixed", tuple(decimal[:_EXAMPLES] + thousands[:_EXAMPLES]))
    if decimal:
        return CommaGuess(True, "cells", tuple(decimal[:_EXAMPLES]))
    if thousands:
        return CommaGuess(False, "cells", tuple(thousands[:_EXAMPLES]))
    # "1,250" beside "3.25" writes decimals with a dot: the delimiter decides nothing.
    if delimiter == ";" and declared is not False and commas and not dotted:
        return CommaGuess(True, "delimiter", tuple(commas[:_EXAMPLES]))
    if declared is not None:
        return CommaGuess(declared, "profile")
    return CommaGuess(None, "none")
