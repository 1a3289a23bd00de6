"""Enumerations and code lists: map the many spellings of a value to its canonical code.

Matching is by a folded key (full width → ASCII, spaces removed, Roman numerals unified,
decorative suffixes such as 色/类/级/预警 dropped), so "红", "红色预警" and "红色" all
match the enum value "红色", and "II", "2类" and "Ⅱ类" match "Ⅱ类". Lookups run once per
distinct cell value (``Series.map`` over a dict), not per cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from connectors.normalisers.text import clean, halfwidth

_ROMAN = {"IV": "Ⅳ", "III": "Ⅲ", "II": "Ⅱ", "I": "Ⅰ", "V": "Ⅴ"}
_ARABIC_TO_ROMAN = {"1": "Ⅰ", "2": "Ⅱ", "3": "Ⅲ", "4": "Ⅳ", "5": "Ⅴ"}
_SUFFIXES = ("预警信号", "预警", "信号", "色", "类", "级")


def fold_key(text: str) -> str:
    """The matching key of one value (see the module docstring)."""
    key = re.sub(r"\s+", "", halfwidth(str(text))).upper()
    for suffix in _SUFFIXES:
        if key.endswith(suffix) and len(key) > len(suffix):
            key = key[: -len(suffix)]
    if key in _ROMAN:
        key = _ROMAN[key]
    elif key in _ARABIC_TO_ROMAN:
        key = _ARABIC_TO_ROMAN[key]
    return key


class CodeMatcher:
    """Maps spellings to canonical codes for one enum or code list."""

    def __init__(self, entries: Iterable[tuple[str, Iterable[str]]]):
        """``entries``: (canonical code, [spellings, including its name and aliases])."""
        self.exact: dict[str, str] = {}
        folded: dict[str, set[str]] = {}
        for code, spellings in entries:
            for spelling in {code, *spellings}:
                if not spelling:
                    continue
                self.exact.setdefault(halfwidth(str(spelling)).strip(), code)
                folded.setdefault(fold_key(spelling), set()).add(code)
        # A folded key shared by two codes is ambiguous and only matches exactly.
        self.folded = {key: next(iter(codes)) for key, codes in folded.items() if len(codes) == 1}
        self.codes = set(self.exact.values())

    @classmethod
    def from_enum(cls, values: Iterable[str], aliases: Mapping[str, str] | None = None):
        """A matcher for an enum field; ``aliases`` maps extra spellings to values."""
        entries: dict[str, list[str]] = {str(v): [] for v in values}
        for spelling, value in (aliases or {}).items():
            if value in entries:
                entries[value].append(spelling)
        return cls(entries.items())

    def lookup(self, value: str) -> str | None:
        """The code for one spelling, or None."""
        text = halfwidth(value).strip()
        return self.exact.get(text) or self.folded.get(fold_key(text))

    def map(self, series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
        """Map a column; return (object codes or None, missing, bad)."""
        text, missing = clean(series)
        positions, uniques = pd.factorize(text)
        table = np.array([self.lookup(value) for value in uniques] + [None], dtype=object)
        codes = pd.Series(table[positions], index=series.index, dtype=object)
        codes[missing] = None
        bad = codes.isna() & ~missing
        return codes, missing, bad
