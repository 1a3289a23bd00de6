"""Pagination of the list endpoints: ``limit``/``offset`` within bounds, or a 400 naming them.

DRF's ``LimitOffsetPagination`` falls back to the default on a bad ``limit`` and passes a
huge ``offset`` to the database (an overflow, a 500); here both are checked, and the
OpenAPI schema states the bounds.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import LimitOffsetPagination

MAX_LIMIT = 1000
# Far beyond any list here, far below the 64-bit OFFSET databases accept.
MAX_OFFSET = 1_000_000_000


def bounded_int(
    params: Mapping[str, str], name: str, *, minimum: int, maximum: int, default: int | None
) -> int | None:
    """The integer query parameter ``name`` in [minimum, maximum], ``default`` when absent."""
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip()) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        raise ValidationError(
            {name: [_("应为 %(min)s 到 %(max)s 之间的整数。") % {"min": minimum, "max": maximum}]}
        )
    return value


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """``limit`` in 1..MAX_LIMIT (default PAGE_SIZE), ``offset`` in 0..MAX_OFFSET."""

    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return bounded_int(
            request.query_params,
            self.limit_query_param,
            minimum=1,
            maximum=self.max_limit,
            default=self.default_limit,
        )

    def get_offset(self, request) -> int:
        return bounded_int(
            request.query_params,
            self.offset_query_param,
            minimum=0,
            maximum=MAX_OFFSET,
            default=0,
        )

    def get_schema_operation_parameters(self, view) -> list[dict]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": MAX_OFFSET},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
