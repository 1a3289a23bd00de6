"""Field-by-field changes of a model instance, as the audit log records them.

The checked write services (catalog, rules, mappings) apply a caller's ``changes`` to a
locked copy of the row and audit exactly what differed, old and new value side by side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import models

# {"sharing_type": {"old": "unconditional", "new": "conditional"}, ...}
Changes = dict[str, dict[str, Any]]


def plain(value: Any) -> Any:
    """A JSON value for the audit detail: related rows by code (or id), times in ISO."""
    if isinstance(value, models.Model):
        return getattr(value, "code", None) or value.pk
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def field_value(instance: models.Model, name: str) -> Any:
    """The value of one concrete field (the related row for a foreign key)."""
    return getattr(instance, name)


def apply_changes(
    instance: models.Model, changes: Mapping[str, Any], allowed: Iterable[str]
) -> Changes:
    """Set ``changes`` on ``instance`` and return those that differ from its old values.

    Names outside ``allowed`` raise ``TypeError``: a service edits only what it declares.
    """
    allowed = set(allowed)
    unknown = sorted(set(changes) - allowed)
    if unknown:
        raise TypeError(f"cannot change {sorted(unknown)} of {type(instance).__name__}")
    diff: Changes = {}
    for name, new in changes.items():
        old = field_value(instance, name)
        if plain(old) != plain(new):
            diff[name] = {"old": plain(old), "new": plain(new)}
        setattr(instance, name, new)
    return diff


def initial_values(instance: models.Model, names: Iterable[str]) -> Changes:
    """The values of a new row as changes from nothing (``old`` is None)."""
    values: Changes = {}
    for name in names:
        value = plain(field_value(instance, name))
        if value not in (None, "", [], {}):
            values[name] = {"old": None, "new": value}
    return values


def editable_fields(model: type[models.Model], exclude: Iterable[str] = ()) -> tuple[str, ...]:
    """Names of the model's editable concrete fields (the id and ``exclude`` left out)."""
    skip = {"id", *exclude}
    return tuple(
        f.name
        for f in model._meta.concrete_fields
        if f.editable and not f.primary_key and f.name not in skip
    )
