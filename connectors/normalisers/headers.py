"""Header mapping: which source column is which field, and in which unit.

A header matches a field by its name, its Chinese label, the connector's aliases or the
admin's :class:`~connectors.models.HeaderAlias` rows, compared after folding (full-width
brackets, whitespace, case, required marks). A unit in the header — ``压力(MPa)``,
``压力（kPa）``, ``积水深度/cm``, ``温度℃`` — is split off and returned with the match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from connectors.normalisers.text import halfwidth
from connectors.normalisers.units import canonical_unit

_BRACKETED = re.compile(r"^(?P<base>.*?)[(\[{<](?:单位[:：]?)?(?P<unit>[^()\[\]]+)[)\]}>]$")
_SLASHED = re.compile(r"^(?P<base>[^/]+?)/(?P<unit>[^/]+(?:/[^/]+)?)$")
_NOTE = re.compile(r"\s*[(\[][^()\[\]]*[)\]]\s*$")
_REQUIRED_MARKS = re.compile(r"[*＊※]+")
_ASCII_ALNUM = re.compile(r"[A-Za-z0-9]")
_CJK = re.compile(r"[\u3400-\u9fff]")
# Bracketed text that reads as a unit, as opposed to a note ("（区县）", "（表压）"), an
# instrument tag ("PT-101", "P1") or a qualifier ("max", "24h"): a ratio of unit words
# ("m³/x", "立方米/旬"), or a short Latin symbol ("mmHg", "kgf"). Anything else is left
# to the field's unit, as a header without a unit is.
_UNIT_RATIO = re.compile(
    r"^[A-Za-zμµ°℃%‰³²·.万千百十吨方升米克帕天日时秒分钟小度立平公里毫微厘兆亩顷斤]+"
    r"(?:[23²³])?/[A-Za-zμµ°℃³²·.天日时秒分钟小度立平公里米升吨方克帕亩旬月年周]+[23²³]?$"
)
_UNIT_SYMBOL = re.compile(r"^[A-Za-zμµ°]{2,4}[23²³]?$")
_QUALIFIERS = frozenset(
    {"max", "min", "avg", "mean", "sum", "std", "ave", "id", "no", "gps", "rtu", "plc", "dcs"}
)
# A rate of a known unit over a time ("mm/h": the amount in an hour) is the known unit's
# quantity per reporting interval, not an unknown unit.
_PER_TIME = re.compile(r"^(?P<unit>.+)/(?:h|hr|hour|min|s|d|day|小时|时|分钟|分|秒|天|日)$")


def _unit_like(text: str) -> bool:
    if text.lower() in _QUALIFIERS:
        return False
    if _UNIT_SYMBOL.match(text):
        return True
    if not _UNIT_RATIO.match(text):
        return False
    per_time = _PER_TIME.match(text.lower())
    return not (per_time and canonical_unit(per_time.group("unit")) is not None)


def fold_header(text: object) -> str:
    """Comparable form of a header: ASCII brackets, no spaces or required marks, lower."""
    folded = halfwidth("" if text is None else str(text))
    folded = re.sub(r"[\s*＊※]+", "", folded)
    return folded.lower()


def _trailing_unit(text: str) -> tuple[str, str] | None:
    """(base, unit) for the longest known unit at the end of ``text`` (spaces kept).

    After a space anything the registry knows counts ("排水能力 m³/s", "PM10 mg/m3");
    glued on, a unit must not continue a Latin word or number ("流速m/s", not "pH" or
    "H2S"; a symbol may follow anything: "LEL%", "PM10μg/m³"), and a Chinese unit must be
    longer than one character ("温度" is no "度"). The longest known unit decides, so
    "瞬时流量m³/h" is m³/h, not h.
    """
    for start in range(1, len(text)):
        unit_text, before = text[start:], text[:start]
        if unit_text[0].isspace():
            continue
        unit = canonical_unit(unit_text)
        if unit is None:
            continue
        base = re.sub(r"[\s/]+$", "", before)
        if not base:
            continue
        spaced = before[-1].isspace()
        symbol = not _ASCII_ALNUM.match(unit_text[0]) and not _CJK.match(unit_text[0])
        glued_ok = (
            not _ASCII_ALNUM.match(before[-1])
            and (not _CJK.match(unit_text[0]) or len(unit_text) > 1)
        ) or symbol
        if not (spaced or glued_ok):
            return None  # "PM10μg/m³": not the shorter "g/m³" either
        return re.sub(r"\s+", "", base), unit
    return None


def split_unit(header: str) -> tuple[str, str | None]:
    """("压力", "MPa") from "压力(MPa)"; the unit is None when the header has none.

    A unit is bracketed ("压力（kPa）", "压力(单位：MPa)"), after a slash ("积水深度/cm"),
    after a space or glued on ("瞬时流量 m³/h", "温度℃").
    """
    spaced = _REQUIRED_MARKS.sub("", halfwidth(str(header))).strip()
    text = re.sub(r"\s+", "", spaced)
    match = _BRACKETED.match(text)
    if match and match.group("base"):
        unit = canonical_unit(match.group("unit"))
        if unit is not None:
            return match.group("base"), unit
    found = _trailing_unit(spaced)
    if found is not None:
        return found
    match = _SLASHED.match(text)
    if match and match.group("base"):
        unit = canonical_unit(match.group("unit"))
        if unit is not None:
            return match.group("base"), unit
    return text, None


def unknown_unit(header: str) -> str | None:
    """The unit text of a header whose bracketed or slashed unit the registry does not
    know ("瞬时流量(m³/x)" -> "m³/x"), else None (no unit, a known one, a note or a
    coordinate system)."""
    if split_unit(header)[1] is not None or header_crs(header) is not None:
        return None
    text = re.sub(r"[\s*＊※]+", "", halfwidth(str(header)))
    for pattern in (_BRACKETED, _SLASHED):
        match = pattern.match(text)
        if match and match.group("base") and _unit_like(match.group("unit")):
            return match.group("unit")
    return None


_CRS = re.compile(r"(WGS-?84|GCJ-?02|BD-?09|CGCS-?2000|国测局|百度)", re.IGNORECASE)
_CRS_NAMES = {"国测局": "gcj02", "百度": "bd09"}


def header_crs(header: object) -> str | None:
    """The coordinate system a header names ("经度(BD-09)" -> "bd09"), else None."""
    found = _CRS.search(halfwidth(str(header)))
    if not found:
        return None
    token = found.group(1)
    return _CRS_NAMES.get(token) or token.lower().replace("-", "")


@dataclass(frozen=True)
class ColumnMatch:
    """One source column mapped to a field."""

    position: int
    header: str
    field: str
    unit: str | None  # unit stated in the header (canonical), if any
    crs: str | None = None  # coordinate system stated in the header, e.g. "纬度(GCJ02)"
    # A unit the header states but the registry does not know ("流量(m³/x)"): never
    # to be replaced by an assumed one.
    unknown_unit: str | None = None
    # One column of "经度,纬度" pairs feeding both the latitude and the longitude field
    # (``HeaderIndex`` pairs): each field takes its half of the cell.
    pair: bool = False


# Headers of one column holding both coordinates ("121.47,31.23"), folded.
PAIR_HEADERS = frozenset(
    fold_header(text)
    for text in (
        "经纬度",
        "经纬度坐标",
        "坐标经纬度",
        "经度纬度",
        "经度,纬度",
        "经度/纬度",
        "经度、纬度",
        "lnglat",
        "lonlat",
        "lng,lat",
        "lon,lat",
    )
)


def pair_header(header: object) -> bool:
    """Whether a header names one column of longitude-latitude pairs ("经纬度",
    "经纬度(BD-09)", "经度,纬度")."""
    text = halfwidth(str(header or ""))
    return fold_header(text) in PAIR_HEADERS or fold_header(_NOTE.sub("", text)) in PAIR_HEADERS


class HeaderIndex:
    """Folded header spellings → field names for one resource and connector."""

    def __init__(self, spellings: dict[str, list[str]], pair: tuple[str, str] | None = None):
        """``spellings``: field name → its name, label and aliases (any order); ``pair``:
        the resource's separate latitude and longitude fields, which one column of pairs
        may feed together (a ``PAIR_HEADERS`` header, or a spelling both fields list)."""
        self._pair = pair
        self._pair_keys: set[str] = set()
        if pair:
            lat, lon = (
                {fold_header(name) for name in spellings.get(field, []) if name} for field in pair
            )
            self._pair_keys = (lat & lon) - {""}
        self._index: dict[str, str] = {}
        self._spellings = {name: [str(n) for n in names if n] for name, names in spellings.items()}
        for field_name, names in spellings.items():
            for name in names:
                key = fold_header(name)
                if key:
                    self._index.setdefault(key, field_name)
                    base, _unit = split_unit(name)
                    self._index.setdefault(fold_header(base), field_name)

    def pair_match(self, header: object) -> bool:
        """Whether ``header`` is one column feeding both coordinate fields."""
        if not self._pair or header is None or not str(header).strip():
            return False
        stripped = _NOTE.sub("", halfwidth(str(header)))  # "位置(GCJ02)": a CRS note
        spelled = {fold_header(header), fold_header(stripped)}
        return pair_header(header) or not spelled.isdisjoint(self._pair_keys)

    def match(self, header: object) -> tuple[str | None, str | None]:
        """(field, header unit) for one header, or (None, None)."""
        if header is None or str(header).strip() == "":
            return None, None
        base, unit = split_unit(str(header))
        if unit is not None:
            field = self._index.get(fold_header(base))
            if field is not None:
                return field, unit
        field = self._index.get(fold_header(header))
        if field is None:
            # A bracketed note that is not a unit: "所属区（区县）".
            stripped = _NOTE.sub("", halfwidth(str(header)))
            if stripped and stripped != str(header):
                field = self._index.get(fold_header(stripped))
        return field, None

    def closest(self, field: str, headers: list[str], *, limit: int = 3) -> list[str]:
        """The file headers most like one of the field's spellings, best first.

        Compared character by character (rapidfuzz's ratio on the folded texts, no
        tokenising on spaces, which Chinese headers have none of); headers scoring
        under 40 of 100 are no suggestion.
        """
        from rapidfuzz import fuzz, process

        spellings = {fold_header(split_unit(name)[0]) for name in self._spellings.get(field, [])}
        spellings.discard("")
        choices = {
            i: fold_header(split_unit(h)[0]) for i, h in enumerate(headers) if str(h).strip()
        }
        best: dict[int, float] = {}
        for spelling in spellings:
            for _text, score, index in process.extract(
                spelling, choices, scorer=fuzz.ratio, limit=None, score_cutoff=40
            ):
                best[index] = max(best.get(index, 0.0), score)
        ranked = sorted(best, key=lambda i: (-best[i], i))
        return [str(headers[i]) for i in ranked[:limit]]

    def score(self, row: list[object]) -> int:
        """How many distinct fields a candidate header row names."""
        named = {field for field in (self.match(cell)[0] for cell in row) if field}
        if self._pair and any(self.pair_match(cell) for cell in row):
            named.update(self._pair)
        return len(named)

    def map_columns(self, headers: list[str]) -> tuple[list[ColumnMatch], list[str]]:
        """Map headers; return (matches, unknown or duplicate headers to warn about)."""
        matches: list[ColumnMatch] = []
        seen: set[str] = set()
        ignored: list[str] = []
        for position, header in enumerate(headers):
            if self._pair and self.pair_match(header) and not seen & set(self._pair):
                crs = header_crs(header)
                matches += [
                    ColumnMatch(position, str(header), f, None, crs, pair=True) for f in self._pair
                ]
                seen.update(self._pair)
                continue
            field, unit = self.match(header)
            if field is None or field in seen:
                if str(header).strip():
                    ignored.append(str(header))
                continue
            seen.add(field)
            unknown = unknown_unit(str(header)) if unit is None else None
            matches.append(
                ColumnMatch(position, str(header), field, unit, header_crs(header), unknown)
            )
        return matches, ignored
