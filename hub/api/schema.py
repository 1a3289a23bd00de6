"""OpenAPI post-processing: the error answers every operation can give are declared.

Every operation may answer 400 (bad parameters or body), 401 (no or bad credentials),
403 (authenticated but not allowed, e.g. an API key without the scope), 404 (unknown or
not visible) and 429 (throttled), all with a JSON body: ``{"detail": "..."}`` or
``{"<parameter>": ["..."]}``.
"""

from __future__ import annotations

from typing import Any

ERROR_COMPONENT = "Error"
ERROR_SCHEMA = {
    "type": "object",
    "description": 'Either {"detail": "<message>"} or {"<parameter>": ["<message>", ...]}',
    "additionalProperties": True,
}
ERRORS = {
    "400": "Invalid parameters or body; the body names each parameter",
    "401": "No credentials, or an invalid, expired or revoked API key",
    "403": "Not allowed (e.g. an API key without the scope this method needs)",
    "404": "Unknown, or not visible to you",
    "429": "Throttled; retry after the Retry-After header's seconds",
}
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}
MAX_ID = 2**63 - 1  # Object ids are 64-bit integers.


def add_error_responses(result: dict[str, Any], generator, request, public) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: declare ERRORS on every operation, and
    the range of integer ids in paths."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault(ERROR_COMPONENT, ERROR_SCHEMA)
    error = {"schema": {"$ref": f"#/components/schemas/{ERROR_COMPONENT}"}}
    for item in result.get("paths", {}).values():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") == "path" and schema.get("type") == "integer":
                    schema.setdefault("minimum", 1)
                    schema.setdefault("maximum", MAX_ID)
            responses = operation.setdefault("responses", {})
            # Errors are rendered like the operation's JSON answers (JSON-LD for the catalog).
            json_types = {
                media
                for status, response in responses.items()
                if status.startswith("2")
                for media in response.get("content", {})
                if media.endswith("json")
            }
            content = {media: error for media in sorted({"application/json", *json_types})}
            for status, description in ERRORS.items():
                responses.setdefault(status, {"description": description, "content": content})
    return result
