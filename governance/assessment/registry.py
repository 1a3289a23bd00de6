"""The indicator registry, the weights and the score.

An indicator counts, for every department and one period, a few figures from raw rows
(``values``) and a sub-score in [0, 1] (``score``; ``None`` when the department had
nothing to assess in that period, e.g. no request was due). The weights come from
``HUB_ASSESSMENT_WEIGHTS`` (indicator code → weight); an indicator without a weight is
shown but not scored. Another app adds an indicator with ``register(...)`` in its
``AppConfig.ready`` (the 需求清单's ``needs`` indicator is built in the same way).

Score (0–100) = 100 × Σ wᵢ·sᵢ / Σ wᵢ over the weighted indicators whose sᵢ is not None;
``None`` when none of them has one. So a department is not punished for what it had no
occasion to do, and the weights need not sum to 100.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from governance.assessment.periods import Period
from permissions.selectors import UserLike

COUNT, RATE = "count", "rate"
DEFAULT_WEIGHTS = {
    "catalog": 15,
    "freshness": 25,
    "requests": 20,
    "objections": 15,
    "quality": 15,
    "needs": 10,
}


@dataclass(frozen=True)
class Column:
    """One figure of an indicator: a count or a rate (0–1, ``None`` when undefined)."""

    key: str
    label: Any  # a lazy translation
    kind: str = COUNT


@dataclass
class Figures:
    """One department's figures of one indicator for one period."""

    values: dict[str, int | float | None] = field(default_factory=dict)
    score: float | None = None


class Indicator(Protocol):
    code: str
    label: Any
    columns: tuple[Column, ...]

    def compute(
        self, *, user: UserLike, period: Period, departments: list[int], now: dt.datetime
    ) -> dict[int, Figures]:
        """Figures of every department in ``departments`` (ids), read through the
        ``assess`` door of each model with ``user``."""


_INDICATORS: dict[str, Indicator] = {}


def register(indicator: Indicator) -> None:
    """Add (or replace) an indicator; the order of registration is the order shown."""
    _INDICATORS[indicator.code] = indicator


def indicators() -> list[Indicator]:
    return list(_INDICATORS.values())


def weights() -> dict[str, float]:
    """``HUB_ASSESSMENT_WEIGHTS`` for the registered indicators (missing ones weigh 0)."""
    configured = getattr(settings, "HUB_ASSESSMENT_WEIGHTS", None) or DEFAULT_WEIGHTS
    if not isinstance(configured, Mapping):
        raise ImproperlyConfigured("HUB_ASSESSMENT_WEIGHTS must map indicator codes to weights")
    result = {}
    for code in _INDICATORS:
        value = configured.get(code, 0)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise ImproperlyConfigured(f"HUB_ASSESSMENT_WEIGHTS[{code!r}] must be a number >= 0")
        result[code] = float(value)
    return result


def score(subscores: Mapping[str, float | None], weight_of: Mapping[str, float]) -> float | None:
    """The weighted score (0–100, one decimal) over the indicators that have a sub-score."""
    present = [(weight_of.get(code, 0.0), value) for code, value in subscores.items()]
    present = [(w, v) for w, v in present if w > 0 and v is not None]
    total = sum(w for w, _v in present)
    if not total:
        return None
    return round(100 * sum(w * v for w, v in present) / total, 1)


def ratio(part: int | float, whole: int | float) -> float | None:
    """``part / whole`` rounded to four decimals; ``None`` for an empty whole."""
    return round(part / whole, 4) if whole else None


def codes(items: Iterable[Indicator]) -> list[str]:
    return [item.code for item in items]
