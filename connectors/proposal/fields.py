"""Header → field: by the field's label and name, the aliases (the connector's, the
admin's, every earlier profile's of the resource) and, for the rest, fuzzy similarity
weighed by what the column's values look like.

Similarity is rapidfuzz's, on folded headers with the unit split off (``压力(kPa)`` is
compared as ``压力``), character by character: Chinese headers have no spaces to
tokenise on, so ``ratio`` and ``partial_ratio`` (a label inside a longer header,
``管网压力值``) are the measures. A column whose values do not fit the field's type
(text in a number field, numbers outside a coordinate's range) loses half its score; a
column whose values are the field's codes (districts, enumerations) gains a floor even
when its header says nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors.normalisers import numbers
from connectors.normalisers.geopoints import pair_halves
from connectors.normalisers.headers import fold_header, pair_header, split_unit
from connectors.normalisers.schema import FieldInfo
from connectors.proposal.dates import guess_dates
from connectors.proposal.result import FieldMatch

# Below this a header is proposed for no field.
MIN_SCORE = 55.0
# What a column whose values are mostly the field's codes (or inside a narrow range,
# such as the city's coordinates) scores at least.
CODE_FLOOR = 70.0
# How many of a column's values the type fit looks at (a share: a few hundred suffice).
FIT_VALUES = 200
CODE_VALUES = 50


@dataclass
class Spelling:
    text: str  # folded, unit split off
    source: str  # "label" | "name" | "alias"


def spellings_for(
    infos: list[FieldInfo], aliases: dict[str, list[str]]
) -> dict[str, list[Spelling]]:
    """Field → its folded spellings with where each comes from."""
    found: dict[str, list[Spelling]] = {}
    for info in infos:
        entries = [(info.label, "label"), (info.name, "name")]
        entries += [(alias, "alias") for alias in aliases.get(info.name, [])]
        seen: set[str] = set()
        items = []
        for text, source in entries:
            folded = fold_header(split_unit(str(text))[0])
            if folded and folded not in seen:
                seen.add(folded)
                items.append(Spelling(folded, source))
        found[info.name] = items
    return found


class _Column:
    """One column's first non-empty values, with what they parse as (computed once)."""

    def __init__(self, column: pd.Series):
        text = column.astype(str).str.strip()
        self.filled = text[text != ""].iloc[:FIT_VALUES].reset_index(drop=True)
        self._numbers: tuple[np.ndarray, float] | None = None
        self._dates: float | None = None
        self._codes: dict[int, float] = {}

    def numbers(self) -> tuple[np.ndarray, float]:
        """(readable numbers, share readable)."""
        if self._numbers is None:
            values, _units, missing, bad = numbers.split_numbers(self.filled)
            ok = (~bad & ~missing).to_numpy()
            self._numbers = values.to_numpy(dtype="float64")[ok], float(ok.mean())
        return self._numbers

    def dates(self) -> float:
        """Share read as dates (bare numbers count a little: serials, epochs)."""
        if self._dates is None:
            parsed = guess_dates("", "", self.filled).parsed
            numeric = float(pd.to_numeric(self.filled, errors="coerce").notna().mean())
            self._dates = parsed * (0.6 if numeric > 0.9 else 1.0)
        return self._dates

    def codes(self, matcher) -> float:
        """Share that are codes of the matcher."""
        if id(matcher) not in self._codes:
            # Codes are looked up one distinct value at a time: fewer values suffice.
            _codes, missing, bad = matcher.map(self.filled.iloc[:CODE_VALUES])
            self._codes[id(matcher)] = float((~bad & ~missing).mean())
        return self._codes[id(matcher)]


def _fit(info: FieldInfo, column: _Column) -> float:
    """Share of the column's non-empty values that fit the field's type (0–1)."""
    if column.filled.empty:
        return 0.5
    kind = info.field_type
    if kind in ("number", "integer"):
        finite, share = column.numbers()
        if info.min_value is not None and info.max_value is not None and info.unit == "":
            # Unit-less bounded numbers (coordinates): the range tells them apart.
            span = (info.max_value - info.min_value) * 0.05
            inside = (finite >= info.min_value - span) & (finite <= info.max_value + span)
            share *= float(inside.mean()) if len(finite) else 0.0
        return share
    if kind in ("datetime", "date"):
        return column.dates()
    if info.matcher is not None:
        return column.codes(info.matcher)
    if info.pattern:
        return float(column.filled.str.fullmatch(info.pattern.strip("^$")).mean())
    return 0.8  # free text fits anything, a little less than a typed match


def _narrow(info: FieldInfo) -> bool:
    """A unit-less number whose range is narrow for its size (a city's coordinates):
    values inside it say which field the column is."""
    if info.field_type != "number" or info.unit or info.min_value is None:
        return False
    if info.max_value is None:
        return False
    size = max(abs(info.min_value), abs(info.max_value))
    return size > 0 and info.max_value - info.min_value <= 0.2 * size


def _similarity(header: str, spellings: list[Spelling]) -> tuple[float, str]:
    """Best score of a folded header against a field's spellings, and its source."""
    from rapidfuzz import fuzz

    best, source = 0.0, ""
    for spelling in spellings:
        if header == spelling.text:
            return 100.0, spelling.source
        shorter, longer = sorted((header, spelling.text), key=len)
        if len(shorter) >= 3:
            partial = fuzz.partial_ratio(header, spelling.text)
        else:
            # Two characters match by chance: only whole containment counts ("压力").
            partial = 100.0 if len(shorter) == 2 and shorter in longer else 0.0
        # A spelling inside a longer header ("管网压力值") scores a little below equal.
        score = max(fuzz.ratio(header, spelling.text), 0.9 * partial)
        if score > best:
            best, source = score, "fuzzy"
    return best, source


def _pair_column(
    headers: list[str],
    frame: pd.DataFrame,
    infos: list[FieldInfo],
    spellings: dict[str, list[Spelling]],
    pair: tuple[str, str],
) -> tuple[int, float, str] | None:
    """(position, score, source) of a column of "经度,纬度" pairs for the resource's
    separate latitude and longitude fields: named so ("经纬度", or a spelling both fields
    have), else holding pairs inside both fields' ranges; None without one."""
    lat_spellings, lon_spellings = ({s.text for s in spellings[name]} for name in pair)
    by_name = {info.name: info for info in infos}
    best: tuple[int, float, str] | None = None
    folded = [fold_header(split_unit(header)[0]) for header in headers]
    for i, header in enumerate(headers):
        if pair_header(header) or (folded[i] and folded[i] in lat_spellings & lon_spellings):
            return i, 100.0, "label" if pair_header(header) else "alias"
    if any(text and text in lat_spellings | lon_spellings for text in folded):
        return None  # the file names its latitude or longitude column: no pairs to look for
    for i in range(len(headers)):
        if not folded[i]:
            continue
        column = frame.iloc[:, i] if i < frame.shape[1] else pd.Series([], dtype=object)
        text = column.astype(str).str.strip()
        filled = text[text != ""].iloc[:FIT_VALUES]
        if filled.empty:
            continue
        first, second, _missing, _problems = pair_halves(filled)
        lon_first = _inside(by_name[pair[0]], second) & _inside(by_name[pair[1]], first)
        lat_first = _inside(by_name[pair[0]], first) & _inside(by_name[pair[1]], second)
        share = float((lon_first | lat_first).mean())
        if share >= 0.9 and (best is None or CODE_FLOOR * share > best[1]):
            best = (i, CODE_FLOOR * share, "values")
    return best


def _inside(info: FieldInfo, values: np.ndarray) -> np.ndarray:
    """Values inside a coordinate field's range (any value when it has none)."""
    with np.errstate(invalid="ignore"):
        inside = ~np.isnan(values)
        if info.min_value is not None:
            inside &= values >= info.min_value
        if info.max_value is not None:
            inside &= values <= info.max_value
    return inside


def match_fields(
    headers: list[str],
    frame: pd.DataFrame,
    infos: list[FieldInfo],
    aliases: dict[str, list[str]],
    pair: tuple[str, str] | None = None,
) -> tuple[list[FieldMatch], list[str]]:
    """Propose a field for each header (each field at most once; a column of pairs for
    the ``pair`` of separate latitude and longitude fields proposes both, first);
    (matches, ignored)."""
    spellings = spellings_for(infos, aliases)
    folded = [fold_header(split_unit(h)[0]) for h in headers]
    n, m = len(headers), len(infos)
    scores = np.zeros((n, m))
    sources = [["" for _ in range(m)] for _ in range(n)]
    paired: list[FieldMatch] = []
    found = _pair_column(headers, frame, infos, spellings, pair) if pair else None
    if found is not None:
        position, score, source = found
        paired = [
            FieldMatch(position, str(headers[position]), name, round(score, 1), source)
            for name in pair
        ]
        folded[position] = ""  # the column is taken: no other field for it
    for i in range(n):
        if not folded[i]:
            continue
        column = _Column(frame.iloc[:, i] if i < frame.shape[1] else pd.Series([], dtype=object))
        for j, info in enumerate(infos):
            similarity, source = _similarity(folded[i], spellings[info.name])
            hopeless = similarity < MIN_SCORE and info.matcher is None and not _narrow(info)
            if similarity < 100.0 and not hopeless:
                fit = _fit(info, column)
                similarity *= 0.5 + 0.5 * fit
                by_values = fit >= 0.9 and (info.matcher is not None or _narrow(info))
                if by_values and CODE_FLOOR * fit > similarity:
                    similarity, source = CODE_FLOOR * fit, "values"
            scores[i, j] = similarity
            sources[i][j] = source or "fuzzy"
    # Greedy assignment, best pair first: exact spellings win, then the closest.
    matches: dict[int, FieldMatch] = {}
    taken: set[int] = {j for j, info in enumerate(infos) if paired and info.name in pair}
    order = sorted(
        ((scores[i, j], i, j) for i in range(n) for j in range(m)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    for score, i, j in order:
        if score < MIN_SCORE:
            break
        if i in matches or j in taken:
            continue
        ranked = sorted(
            ((infos[k].name, round(float(scores[i, k]), 1)) for k in range(m) if k != j),
            key=lambda item: -item[1],
        )
        matches[i] = FieldMatch(
            position=i,
            header=str(headers[i]),
            field=infos[j].name,
            score=round(float(score), 1),
            source=sources[i][j],
            alternatives=tuple(item for item in ranked[:2] if item[1] >= MIN_SCORE / 2),
        )
        taken.add(j)
    for match in paired:
        matches.setdefault(match.position, match)
    ignored = [str(h) for i, h in enumerate(headers) if i not in matches and str(h).strip()]
    ordered = [matches[i] for i in sorted(matches)]
    if paired:  # the pair's second field right after its first
        at = ordered.index(paired[0]) + 1
        ordered[at:at] = paired[1:]
    return ordered, ignored
