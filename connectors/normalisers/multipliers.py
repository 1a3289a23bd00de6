"""Chinese number multipliers written after a number (万, 亿), shared by the number and
unit normalisers."""

from __future__ import annotations

import pandas as pd

# Chinese number multipliers written after the number ("1.2万", "3.5亿元", "1.5万m³/h").
MULTIPLIERS = {"万": 1e4, "亿": 1e8}


def times(values: pd.Series, factor: float) -> pd.Series:
    """``values`` × ``factor``, a result within binary rounding of a whole number made
    whole (1.1 × 1e4 is 11000.000000000002 in binary: no whole number of 人次 otherwise)."""
    product = values * factor
    whole = product.round()
    near = (product - whole).abs() <= product.abs() * 1e-12
    return product.where(~near, whole)
