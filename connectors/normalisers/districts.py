"""Districts: names, short names, old names, English names and codes → GB/T 2260 codes.

The spellings come from the code list in the database (CodeList "gb2260-shanghai", whose
items carry aliases); a "上海市"/"上海" prefix and the suffixes 区/新区/县 are tolerated.
"""

from __future__ import annotations

import re

import pandas as pd

from connectors.normalisers.codes import CodeMatcher
from connectors.normalisers.text import halfwidth

DISTRICT_CODE_LIST = "gb2260-shanghai"
_PREFIX = re.compile(r"^(?:中国)?上海(?:市)?(?:市辖区)?")


def _bare(name: str) -> str:
    """A name without the city prefix and the administrative suffix."""
    name = _PREFIX.sub("", re.sub(r"\s+", "", halfwidth(name)))
    return re.sub(r"(新区|区|县)$", "", name) or name


class DistrictMatcher(CodeMatcher):
    """A code matcher that also strips the city prefix and district suffixes."""

    def __init__(self, items: list[tuple[str, str, list[str]]]):
        """``items``: (code, name, aliases) of the code list."""
        entries = []
        for code, name, aliases in items:
            spellings = {name, *aliases, _bare(name), *(_bare(alias) for alias in aliases)}
            entries.append((code, sorted(spellings)))
        super().__init__(entries)

    def lookup(self, value: str) -> str | None:
        """Exact spelling first, then without prefix/suffix (case-insensitive for pinyin)."""
        text = re.sub(r"\s+", "", halfwidth(value))
        if text.endswith(".0") and text[:-2].isdigit():
            text = text[:-2]  # a code typed into a numeric Excel cell
        found = super().lookup(text) or super().lookup(_PREFIX.sub("", text))
        if found:
            return found
        bare = _bare(text)
        return super().lookup(bare) or self._by_lower.get(bare.lower())

    @property
    def _by_lower(self) -> dict[str, str]:
        cached = getattr(self, "_lower_cache", None)
        if cached is None:
            cached = {key.lower(): code for key, code in self.exact.items()}
            self._lower_cache = cached
        return cached


def matcher_for_code_list(code_list) -> CodeMatcher:
    """A matcher for a CodeList instance (districts get the prefix/suffix rules)."""
    items = [
        (item.code, item.name, list(item.aliases or []))
        for item in code_list.items.all().order_by("order", "code")
    ]
    if code_list.code.startswith("gb2260"):
        return DistrictMatcher(items)
    return CodeMatcher((code, [name, *aliases]) for code, name, aliases in items)


def normalise_districts(series: pd.Series, matcher: CodeMatcher):
    """Map district cells to codes; return (object codes or None, missing, bad)."""
    return matcher.map(series)
