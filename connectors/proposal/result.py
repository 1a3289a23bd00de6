"""The typed result of a proposal: what the assistant believes about an upload's layout,
with the evidence for each belief, and the profile it amounts to."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

# How the page names one column feeding the latitude and the longitude field together.
PAIR_JOIN = "+"


@dataclass(frozen=True)
class FieldMatch:
    """One file column proposed for one field of the resource."""

    position: int
    header: str
    field: str
    score: float  # 0–100; 100 for a known spelling
    # "label" | "name" | "alias" (connector, admin or an earlier profile) | "fuzzy"
    source: str
    alternatives: tuple[tuple[str, float], ...] = ()  # (field, score), next best


@dataclass(frozen=True)
class UnitGuess:
    """The unit a number column is in."""

    field: str
    unit: str  # canonical symbol
    target: str  # the field's unit
    # "header": stated in the header; "cells": the unit the column's other cells state
    # ("0.35MPa") among those fitting the range; "range": the smallest conversion putting the
    # values in the field's range; "assumed": the field's own unit, nothing said otherwise;
    # "unknown": the header states a unit the registry does not know (``unit`` is "")
    source: str
    in_range: float = 1.0  # share of the sampled values inside the range once converted
    stated: str = ""  # the header's unit as written, when it is "unknown"


@dataclass(frozen=True)
class CrsGuess:
    """The coordinate system of the coordinates, with the evidence."""

    crs: str  # "" when there are no coordinates
    # "header" | "districts" (the transform putting most points in their stated district)
    # | "assumed" (nothing decides: WGS-84)
    source: str
    points: int = 0  # points tested
    inside: dict[str, float] = field(default_factory=dict)  # crs → share in their district


@dataclass(frozen=True)
class DateGuess:
    """How a date/time column is written."""

    field: str
    layout: str  # strftime layout, "" when the built-in layouts read every value
    day_first: bool
    timezone: str  # IANA zone of naive times, "" for Asia/Shanghai
    parsed: float  # share of the sampled non-empty values the layout reads
    example: str = ""


@dataclass(frozen=True)
class CommaGuess:
    """Whether the numbers are written with a decimal comma ("0,75", "1.234,5")."""

    # True: decimal comma; False: thousands separator; None: nothing decides (undecided)
    decimal_comma: bool | None
    # "delimiter": a ";"-delimited CSV; "cells": cells only one reading reads ("0,75",
    # "1.234,5" or "1,234.5"); "mixed": cells of both; "profile": the department's
    # profile says; "none": no comma cells; "steward": chosen on the page
    source: str = "none"
    examples: tuple[str, ...] = ()


@dataclass
class Proposal:
    """A proposed profile for one file and resource."""

    resource: str
    headers: list[str]
    header_row: int
    signature: str
    sampled_rows: int
    mapping: list[FieldMatch]
    units: list[UnitGuess]
    crs: CrsGuess
    dates: list[DateGuess]
    ignored: list[str]  # file headers mapped to no field
    missing: list[str]  # required fields no column was found for
    preview_fields: list[str] = field(default_factory=list)
    preview: list[dict[str, Any]] = field(default_factory=list)  # {"row", "values", "errors"}
    commas: CommaGuess = field(default_factory=lambda: CommaGuess(None))

    def field_for(self, header: str) -> str:
        """The field proposed for a header, or ""; a column of pairs names its latitude and
        longitude fields joined by ``PAIR_JOIN`` (the page's choice for it)."""
        return PAIR_JOIN.join(m.field for m in self.mapping if m.header == header)

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-able form (the CLI's ``--propose`` output)."""
        data = asdict(self)
        for match in data["mapping"]:
            match["alternatives"] = [
                {"field": name, "score": score} for name, score in match["alternatives"]
            ]
        data["commas"]["examples"] = list(data["commas"]["examples"])
        return data
