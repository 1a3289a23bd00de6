"""Source unit of a number column: the header's text, else the value ranges (and the units
the column's other cells state).

A header stating a unit the registry does not know ("瞬时流量(m³/x)") is reported as
such ("unknown", no unit): guessing one from the values would hide what the file says.

From the values: of the units of the field's dimension, those that put (nearly) as many
sampled values inside the field's range as the best one are candidates; the field's own
unit wins among them (no conversion is the usual case), else the smallest conversion
(pressure values of 350 for a field in MPa with range 0–1.6: kPa gives 0.35, Pa gives
0.00035; kPa is the smaller step). A field without a range, or values no unit fits,
keep the unit a profile declared, else the field's own ("assumed").
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from connectors.normalisers import numbers
from connectors.normalisers.headers import split_unit, unknown_unit
from connectors.normalisers.schema import FieldInfo
from connectors.normalisers.units import UNITS, canonical_unit, convert
from connectors.proposal.result import UnitGuess

# Candidates within this share of the best one count as fitting as well.
TIE = 0.02
# Fewer sampled values inside the range than this and the range decides nothing.
MIN_INSIDE = 0.5


def _inside(values: np.ndarray, info: FieldInfo) -> np.ndarray:
    inside = np.ones(len(values), dtype=bool)
    if info.min_value is not None:
        inside &= values >= info.min_value
    if info.max_value is not None:
        inside &= values <= info.max_value
    return inside


def _magnitude(values: np.ndarray) -> float:
    """Median order of magnitude of the non-zero values (NaN without any)."""
    values = np.abs(values[np.isfinite(values) & (values != 0)])
    return float(np.median(np.log10(values))) if len(values) else math.nan


def _stated(values: pd.Series, cell_units: pd.Series, plain: np.ndarray, fitting: list) -> str:
    """Of the fitting units the column's cells state ("0.35MPa"), the one whose cells'
    numbers are nearest the bare ones in size ("0.285" is written as "0.35MPa" is, not as
    "280kPa"), else "" (none stated, or none of a like size)."""
    symbols = cell_units.map(lambda text: canonical_unit(text) if text else None)
    amounts = values.to_numpy(dtype="float64")
    bare = _magnitude(amounts[plain])
    stated = [s for s in symbols.dropna().unique() if s in fitting]
    if not stated or math.isnan(bare):
        return ""

    def distance(symbol: str) -> tuple[float, int, str]:
        mine = (symbols == symbol).to_numpy()
        gap = abs(_magnitude(amounts[mine]) - bare)
        return (gap if not math.isnan(gap) else math.inf, -int(mine.sum()), symbol)

    nearest = min(stated, key=distance)
    # Numbers ten times apart or more are no evidence ("0.9" beside "280kPa").
    return nearest if distance(nearest)[0] < 1 else ""


def from_range(column: pd.Series, info: FieldInfo) -> tuple[str, float, str] | None:
    """(unit, share inside the range, "range" or "cells") inferred from the values, or
    None. Among the units that fit, the one the column's other cells state ("0.35MPa"
    beside a bare "0.285") wins: their writer did not change units between rows."""
    target = info.unit
    if target not in UNITS or (info.min_value is None and info.max_value is None):
        return None
    values, cell_units, missing, bad = numbers.split_numbers(column)
    plain = (~missing & ~bad & (cell_units.fillna("") == "")).to_numpy()
    sample = values.to_numpy(dtype="float64")[plain]
    if not len(sample):
        return None
    dimension = UNITS[target].dimension
    shares = {}
    for symbol, unit in UNITS.items():
        if unit.dimension == dimension and symbol:
            shares[symbol] = float(_inside(convert(sample, symbol, target), info).mean())
    best = max(shares.values())
    if best < MIN_INSIDE:
        return None
    fitting = [symbol for symbol, share in shares.items() if share >= best - TIE]
    usable = (~missing & ~bad).to_numpy()
    stated = _stated(values[usable], cell_units.fillna("")[usable], plain[usable], fitting)
    if stated:
        return stated, shares[stated], "cells"
    if target in fitting:
        return target, shares[target], "range"

    def step(symbol: str) -> float:
        return abs(math.log10(UNITS[symbol].scale / UNITS[target].scale))

    chosen = min(fitting, key=lambda symbol: (step(symbol), symbol))
    return chosen, shares[chosen], "range"


def guess_unit(header: str, column: pd.Series, info: FieldInfo, declared: str = "") -> UnitGuess:
    """The unit of one number column (see the module docstring)."""
    target = info.unit
    _base, stated = split_unit(header)
    if stated:
        return UnitGuess(info.name, stated, target, "header")
    unknown = unknown_unit(header) if target and target in UNITS else None
    if unknown:
        return UnitGuess(info.name, "", target, "unknown", stated=unknown)
    found = from_range(column, info)
    if found is not None:
        return UnitGuess(info.name, found[0], target, found[2], round(found[1], 3))
    declared = canonical_unit(declared or "") or ""
    if declared:
        return UnitGuess(info.name, declared, target, "profile")
    return UnitGuess(info.name, target, target, "assumed")
