"""The arithmetic of the district risk index (风险谱系), after the INFORM risk model (JRC).

Pure functions, no database: the services feed them raw indicator values per district.

1. Normalisation, per indicator, over the districts that have a value (min–max):
   ``n = 10 · (x − lo) / (hi − lo)`` when a higher value means more risk, and
   ``n = 10 · (hi − x) / (hi − lo)`` when it means less risk (coping capacity: beds,
   shelters). ``lo``/``hi`` are the indicator's fixed goalposts when configured (values
   outside are clipped, as INFORM does for skewed indicators), else the observed minimum
   and maximum over the districts. When every district has the same value (``hi == lo``)
   the indicator ranks no district above another: each gets ``ALL_EQUAL`` (5.0, the middle
   of the scale), so it neither zeroes nor saturates the geometric mean below.
2. Dimension score (0–10) per district: the weighted arithmetic mean of the normalised
   values of the dimension's indicators that have a value there; weights are renormalised
   over the indicators present. No indicator present: the dimension is missing.
3. Risk (0–10), INFORM's geometric mean of the three dimensions:
   ``risk = HE^(1/3) · V^(1/3) · LCC^(1/3)`` (hazard & exposure, vulnerability, lack of
   coping capacity). A missing dimension leaves the risk missing (shown as 无数据, never
   guessed).
4. Classes: INFORM's published risk classes (see ``DEFAULT_CLASSES``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

SCALE = 10.0
ALL_EQUAL = 5.0
DIMENSIONS = ("hazard_exposure", "vulnerability", "coping")

# INFORM risk classes (lower bound inclusive): very low < 2.0 ≤ low < 3.5 ≤ medium < 5.0 ≤
# high < 6.5 ≤ very high. Overridable with the setting RISK_CLASSES.
DEFAULT_CLASSES: tuple[tuple[str, float], ...] = (
    ("very_low", 0.0),
    ("low", 2.0),
    ("medium", 3.5),
    ("high", 5.0),
    ("very_high", 6.5),
)


def normalise(
    values: Mapping[str, float | None],
    *,
    higher_is_riskier: bool = True,
    lower_bound: float | None = None,
    upper_bound: float | None = None,
) -> dict[str, float | None]:
    """Min–max normalise ``values`` (district → raw, None = missing) to 0–10."""
    present = [v for v in values.values() if v is not None]
    if not present:
        return dict.fromkeys(values)
    lo = min(present) if lower_bound is None else lower_bound
    hi = max(present) if upper_bound is None else upper_bound
    result: dict[str, float | None] = {}
    for district, value in values.items():
        if value is None:
            result[district] = None
            continue
        if hi <= lo:
            result[district] = ALL_EQUAL
            continue
        share = (min(max(value, lo), hi) - lo) / (hi - lo)
        result[district] = round(SCALE * (share if higher_is_riskier else 1.0 - share), 6)
    return result


def weighted_mean(pairs: Sequence[tuple[float | None, float]]) -> float | None:
    """The weighted arithmetic mean of the (value, weight) pairs whose value is present."""
    present = [(v, w) for v, w in pairs if v is not None and w > 0]
    total = sum(w for _v, w in present)
    if not present or total <= 0:
        return None
    return sum(v * w for v, w in present) / total


def geometric_risk(
    hazard_exposure: float | None, vulnerability: float | None, coping: float | None
) -> float | None:
    """INFORM: the geometric mean of the three dimensions (0–10), or None if one is
    missing."""
    dims = (hazard_exposure, vulnerability, coping)
    if any(d is None for d in dims):
        return None
    product = 1.0
    for d in dims:
        product *= max(0.0, min(SCALE, d))
    return min(SCALE, product ** (1.0 / 3.0))


def risk_class(risk: float | None, classes: Sequence[tuple[str, float]] = DEFAULT_CLASSES) -> str:
    """The class of a risk value ("no_data" when missing); values are rounded half up to
    one decimal first, as INFORM publishes them."""
    if risk is None:
        return "no_data"
    rounded = float(Decimal(repr(risk)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    chosen = classes[0][0]
    for name, lower in classes:
        if rounded >= lower:
            chosen = name
    return chosen


@dataclass(frozen=True)
class IndicatorInput:
    """One indicator of a computation: its dimension, weight, direction and raw values."""

    code: str
    dimension: str
    weight: float
    raw: Mapping[str, float | None]
    higher_is_riskier: bool = True
    lower_bound: float | None = None
    upper_bound: float | None = None


@dataclass(frozen=True)
class DistrictRisk:
    """The result for one district: dimension scores, risk and class."""

    hazard_exposure: float | None
    vulnerability: float | None
    coping: float | None
    risk: float | None
    risk_class: str


def normalise_all(indicators: Sequence[IndicatorInput]) -> dict[str, dict[str, float | None]]:
    """Normalised values per indicator code and district."""
    return {
        i.code: normalise(
            i.raw,
            higher_is_riskier=i.higher_is_riskier,
            lower_bound=i.lower_bound,
            upper_bound=i.upper_bound,
        )
        for i in indicators
    }


def district_risk(
    district: str,
    indicators: Sequence[IndicatorInput],
    normalised: Mapping[str, Mapping[str, float | None]],
    classes: Sequence[tuple[str, float]] = DEFAULT_CLASSES,
) -> DistrictRisk:
    """Aggregate one district: weighted mean within each dimension, geometric across."""
    scores: dict[str, float | None] = {}
    for dimension in DIMENSIONS:
        pairs = [
            (normalised[i.code].get(district), i.weight)
            for i in indicators
            if i.dimension == dimension
        ]
        mean = weighted_mean(pairs)
        # Float error of the mean must not push a score past the scale.
        scores[dimension] = None if mean is None else max(0.0, min(SCALE, mean))
    risk = geometric_risk(scores["hazard_exposure"], scores["vulnerability"], scores["coping"])
    return DistrictRisk(
        hazard_exposure=scores["hazard_exposure"],
        vulnerability=scores["vulnerability"],
        coping=scores["coping"],
        risk=risk,
        risk_class=risk_class(risk, classes),
    )
