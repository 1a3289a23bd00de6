"""A small unit registry: unit text -> (dimension, scale, offset) and vectorised conversion.

A value ``v`` in unit ``u`` equals ``v * scale(u) + offset(u)`` in the base unit of the
dimension, so converting from ``u`` to ``t`` is ``(v * s_u + o_u - o_t) / s_t``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from connectors.normalisers.multipliers import MULTIPLIERS, times
from connectors.normalisers.text import halfwidth


@dataclass(frozen=True)
class Unit:
    """One unit: its dimension and its affine relation to the dimension's base unit."""

    symbol: str
    dimension: str
    scale: float = 1.0
    offset: float = 0.0


_UNITS: list[Unit] = [
    Unit("Pa", "pressure"),
    Unit("kPa", "pressure", 1e3),
    Unit("MPa", "pressure", 1e6),
    Unit("bar", "pressure", 1e5),
    Unit("kgf/cm²", "pressure", 98066.5),  # technical atmosphere, by definition
    Unit("mm", "length", 1e-3),
    Unit("cm", "length", 1e-2),
    Unit("dm", "length", 1e-1),
    Unit("m", "length"),
    Unit("km", "length", 1e3),
    Unit("m³/s", "flow"),
    Unit("m³/min", "flow", 1 / 60),
    Unit("m³/h", "flow", 1 / 3600),
    Unit("m³/d", "flow", 1 / 86400),
    Unit("万m³/d", "flow", 1e4 / 86400),
    Unit("L/s", "flow", 1e-3),
    Unit("L/min", "flow", 1e-3 / 60),
    Unit("L/h", "flow", 1e-3 / 3600),
    Unit("°C", "temperature"),
    Unit("K", "temperature", 1.0, -273.15),
    Unit("°F", "temperature", 5 / 9, -32 * 5 / 9),
    Unit("μg/m³", "mass_concentration"),
    Unit("mg/m³", "mass_concentration", 1e3),
    Unit("g/m³", "mass_concentration", 1e6),
    Unit("km/h", "speed"),
    Unit("m/s", "speed", 3.6),
    Unit("m²", "area"),
    Unit("km²", "area", 1e6),
    Unit("ha", "area", 1e4),
    Unit("亩", "area", 10000 / 15),
    Unit("%", "ratio", 1e-2),
    Unit("‰", "ratio", 1e-3),
    Unit("", "ratio"),
    Unit("%LEL", "lel"),
    Unit("με", "strain"),
    Unit("Hz", "frequency"),
    Unit("NTU", "turbidity"),
    Unit("s", "time"),
    Unit("min", "time", 60),
    Unit("h", "time", 3600),
]
UNITS: dict[str, Unit] = {unit.symbol: unit for unit in _UNITS}

# Spellings met in the wild -> canonical symbol (looked up after fold_unit()).
_SYNONYMS = {
    "pa": "Pa",
    "帕": "Pa",
    "kpa": "kPa",
    "千帕": "kPa",
    "mpa": "MPa",
    "兆帕": "MPa",
    "毫米": "mm",
    "厘米": "cm",
    "分米": "dm",
    "米": "m",
    "公里": "km",
    "千米": "km",
    "立方米/秒": "m³/s",
    "立方米/小时": "m³/h",
    "方/小时": "m³/h",
    "t/h": "m³/h",  # water: one tonne per hour is one cubic metre per hour
    "吨/小时": "m³/h",
    "立方米/分钟": "m³/min",
    "立方米/天": "m³/d",
    "立方米/日": "m³/d",
    "方/天": "m³/d",
    "方/日": "m³/d",
    "m³/天": "m³/d",
    "t/d": "m³/d",  # water, as t/h
    "吨/天": "m³/d",
    "吨/日": "m³/d",
    "万立方米/天": "万m³/d",
    "万立方米/日": "万m³/d",
    "万方/天": "万m³/d",
    "万方/日": "万m³/d",
    "万m³/天": "万m³/d",
    "万t/d": "万m³/d",
    "万吨/天": "万m³/d",
    "万吨/日": "万m³/d",
    "升/秒": "L/s",
    "升/分钟": "L/min",
    "升/小时": "L/h",
    "l/s": "L/s",
    "l/min": "L/min",
    "l/h": "L/h",
    "kg/cm²": "kgf/cm²",  # the usual gauge marking of the same unit
    "公斤/平方厘米": "kgf/cm²",
    "℃": "°C",
    "摄氏度": "°C",
    "度": "°C",
    "c": "°C",
    "oc": "°C",  # a letter o for the degree sign
    "ug/m³": "μg/m³",
    "µg/m³": "μg/m³",
    "微克/立方米": "μg/m³",
    "毫克/立方米": "mg/m³",
    "kmh": "km/h",
    "公里/小时": "km/h",
    "千米/小时": "km/h",
    "米/秒": "m/s",
    "平方米": "m²",
    "平米": "m²",
    "平方公里": "km²",
    "公顷": "ha",
    "百分比": "%",
    "lel": "%LEL",
    "%lel": "%LEL",
    "ue": "με",
    "微应变": "με",
    "hz": "Hz",
    "赫兹": "Hz",
    "ntu": "NTU",
    "秒": "s",
    "分钟": "min",
    "小时": "h",
}
_FOLDED = {symbol.lower(): symbol for symbol in UNITS}
_FOLDED.update({key.lower(): value for key, value in _SYNONYMS.items()})


def fold_unit(text: str) -> str:
    """Fold a unit spelling: full width, micro sign, superscripts, spaces, case.

    Case is folded first, so "M3/H" is "m³/h"; every registry symbol stays distinct once
    lower-cased (no milli-pascal beside MPa), so this loses nothing.
    """
    text = halfwidth(text).strip().replace(" ", "").replace("µ", "μ").lower()
    text = text.replace("³", "3").replace("²", "2")
    text = re.sub(r"(?<=m)3", "³", text)  # m3 -> m³ (no other unit ends its stem with 3)
    text = re.sub(r"(?<=m)2(?![.\d])", "²", text)
    return text.replace("每", "/")


# The words of a rate, spelled every way ("立方米/时", "m³/秒", "km/hr"), as the
# registry's: numerator and denominator are folded apart.
_NUMERATORS = {"立方米": "m³", "方": "m³", "公里": "km", "千米": "km", "米": "m", "升": "l"}
_PER = {
    "小时": "h", "时": "h", "hr": "h", "hour": "h",
    "秒": "s", "sec": "s",
    "分钟": "min", "分": "min",
    "天": "d", "日": "d", "day": "d",
}  # fmt: skip


def canonical_unit(text: str) -> str | None:
    """The registry symbol for a unit spelling, or None when it is not a known unit."""
    if text is None:
        return None
    folded = fold_unit(text)
    found = _FOLDED.get(folded)
    if found is None and folded.count("/") == 1:
        numerator, denominator = folded.split("/")
        numerator = _NUMERATORS.get(numerator, numerator)
        found = _FOLDED.get(f"{numerator}/{_PER.get(denominator, denominator)}")
    return found


def compatible(source: str, target: str) -> bool:
    """Whether two canonical units measure the same dimension."""
    return (
        source in UNITS and target in UNITS and UNITS[source].dimension == UNITS[target].dimension
    )


def convert(values: np.ndarray | pd.Series, source: str, target: str) -> np.ndarray:
    """Convert float values from canonical unit ``source`` to ``target`` (same dimension)."""
    if not compatible(source, target):
        raise ValueError(f"cannot convert {source!r} to {target!r}")
    src, dst = UNITS[source], UNITS[target]
    array = np.asarray(values, dtype="float64")
    if src is dst:
        return array
    return (array * src.scale + src.offset - dst.offset) / dst.scale


def convert_cells(
    values: pd.Series, cell_units: pd.Series, default_unit: str, target: str
) -> tuple[pd.Series, pd.Series]:
    """Convert per-cell units (e.g. "350kPa"); empty cell unit means ``default_unit``.

    Returns (float64 values in ``target``, mask of cells whose unit is unknown or of the
    wrong dimension). Conversion runs once per distinct unit, not per cell.
    """
    result = values.astype("float64").copy()
    bad = pd.Series(False, index=values.index)
    units = cell_units.fillna("")
    spellings = units.unique()
    if len(spellings) == 1 and spellings[0] == "":
        # No cell writes a unit (the common column): the loop below for "" alone,
        # without a mask over every cell.
        if target != default_unit and not compatible(default_unit, target):
            return pd.Series(np.nan, index=values.index), ~bad
        if default_unit != target:
            result[:] = convert(result.to_numpy(), default_unit, target)
        return result, bad
    for spelling in spellings:
        mask = units == spelling
        unit = default_unit if spelling == "" else canonical_unit(spelling)
        if unit is None and spelling[:1] in ("万", "亿"):
            # "2.4万", "1.5万m³/h": a multiplier before the unit (or before the column's
            # unit, unless that has one of its own: "2.4万" under 万m³/d is unclear).
            rest = spelling[1:].strip()
            unit = canonical_unit(rest) if rest else default_unit
            if unit is not None and not (rest == "" and default_unit[:1] in ("万", "亿")):
                result[mask] = times(result[mask], MULTIPLIERS[spelling[0]])
            else:
                unit = None
        if unit is None or (target != unit and not compatible(unit, target)):
            bad |= mask
            result[mask] = np.nan
        elif unit != target:
            result[mask] = convert(result[mask].to_numpy(), unit, target)
    return result, bad
