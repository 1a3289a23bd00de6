"""OpenAPI description of ``GET /api/v1/resources/{code}/records/``: parameters and the
three kinds of 200 (a JSON page, or an export: JSON array, CSV, XLSX)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter

from hub.api.xlsx_stream import CONTENT_TYPE as XLSX_CONTENT_TYPE

NUMBER = r"-?\d{1,3}(\.\d{1,12})?"
MOMENT = {
    "anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]
}

RECORD_PARAMETERS = [
    OpenApiParameter(
        "fields",
        {"type": "string", "pattern": r"^[-\w,]*$"},
        description="Comma-separated field names to return (fields you may read)",
    ),
    OpenApiParameter(
        "format",
        str,
        enum=["csv", "xlsx", "json"],
        description="Streaming export of all matching rows",
    ),
    OpenApiParameter(
        "since",
        MOMENT,
        description="observed_at ≥ (ISO 8601 date or datetime). 400 when the resource's "
        "time field is masked or not visible to you.",
    ),
    OpenApiParameter(
        "until",
        MOMENT,
        description="observed_at ≤ (ISO 8601 date, meaning its end, or datetime). 400 when "
        "the time field is masked or not visible to you.",
    ),
    OpenApiParameter(
        "district",
        {"type": "string", "pattern": r"^\d{6,12}(,\d{6,12}){0,99}$"},
        description="Comma-separated GB/T 2260 district codes. 400 when the district field "
        "is masked or not visible to you.",
    ),
    OpenApiParameter(
        "bbox",
        {"type": "string", "pattern": rf"^{NUMBER},{NUMBER},{NUMBER},{NUMBER}$"},
        description="minlon,minlat,maxlon,maxlat (WGS-84, finite, min ≤ max). 400 when a "
        "coordinate field is masked or not visible to you.",
    ),
    OpenApiParameter(
        "order",
        str,
        enum=["key", "-key"],
        description="Natural key order (default), only when every key field is readable "
        "to you in clear; otherwise pages come in load order and `order` is a 400.",
    ),
    OpenApiParameter(
        "cursor",
        str,
        description="Opaque cursor from the `next`/`previous` link of the previous page",
    ),
    OpenApiParameter(
        "page_size",
        {"type": "integer", "minimum": 1, "maximum": 1000},
        description="Rows per page (default 100)",
    ),
]

ROW = {"type": "object", "additionalProperties": True}
PAGE = {
    "type": "object",
    "required": ["next", "previous", "fields", "results"],
    "properties": {
        "next": {"type": "string", "format": "uri", "nullable": True},
        "previous": {"type": "string", "format": "uri", "nullable": True},
        "fields": {"type": "array", "items": {"type": "string"}},
        "results": {"type": "array", "items": ROW},
    },
}
RECORD_RESPONSES = {
    (200, "application/json"): {
        "oneOf": [PAGE, {"type": "array", "items": ROW, "description": "format=json"}]
    },
    (200, "text/csv"): {"type": "string", "description": "format=csv (UTF-8 with BOM)"},
    (200, XLSX_CONTENT_TYPE): {"type": "string", "format": "binary", "description": "format=xlsx"},
}
