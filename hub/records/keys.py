"""Canonical natural keys (规范主键): one spelling of every key component.

Whatever the way in (ingest pipeline for files and API pushes, ``RecordStore.save`` for
ready-made records of the demo and samples), a key component is stored as:

* instants: UTC, ``YYYY-MM-DDTHH:MM:SSZ`` (naive ones are taken as UTC, as the pipeline
  does; sub-second digits are dropped);
* dates: ``YYYY-MM-DD``;
* numbers: the shortest decimal that reads back as the same float64, without exponent,
  trailing zeros or trailing point, and ``0`` for ``-0`` (``2.0`` → ``2``, ``1.50`` →
  ``1.5``, ``1e-7`` → ``0.0000001``);
* booleans: ``true`` / ``false``;
* text and codes: trimmed of surrounding blanks (ASCII and full-width).

``canonical_part`` is the scalar form (ready-made records, migrations, lookups);
``canonical_key_expr`` the vectorised form of the pipeline (polars, no per-row Python but
for the rare float printed with an exponent). Both give the same text for the same value.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

import polars as pl

from hub.catalog.models import DataResource, FieldSpec

KEY_SEPARATOR = "|"
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"
# Blanks trimmed from text key parts (the same set in Python and polars).
BLANKS = " \t\n\r\f\v\u3000\u00a0"
# Floats whose magnitude is below this print as integers through int64 exactly.
_INT_SAFE = 2.0**53

NUMBER_KINDS = ("number", "integer")
INSTANT_KINDS = ("datetime",)


def canonical_number(value: float | int | Decimal) -> str:
    """Shortest round-trip decimal of a float64, without exponent or trailing zeros."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    number = float(value)
    if not math.isfinite(number):
        return str(number)
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < _INT_SAFE:
        return str(int(number))
    text = format(Decimal(repr(number)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def canonical_instant(value: dt.datetime) -> str:
    """An instant in UTC with the one key format (naive values are taken as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime(ISO_UTC)


def _parse_instant(text: str) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None


def canonical_part(value: Any, kind: str | None = None) -> str:
    """One key component in its canonical spelling.

    ``kind`` is the field's type (``FieldSpec.field_type``); it matters for text that
    holds a typed value (a key part read back from a stored key): an instant field's
    text is re-spelt in UTC, a number field's text as a canonical number. Text that does
    not read as its kind is only trimmed.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return canonical_instant(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return canonical_number(value)
    text = str(value).strip(BLANKS)
    if kind in INSTANT_KINDS and text:
        instant = _parse_instant(text)
        return canonical_instant(instant) if instant is not None else text
    if kind in NUMBER_KINDS and text:
        try:
            number = Decimal(text)
        except InvalidOperation:
            return text
        if not number.is_finite():
            return text
        return canonical_number(int(number) if kind == "integer" and number % 1 == 0 else number)
    return text


def canonical_key(parts: Sequence[Any], kinds: Sequence[str | None] | None = None) -> str:
    """The natural key of key-field values (in key-field order)."""
    kinds = list(kinds) if kinds is not None else [None] * len(parts)
    return KEY_SEPARATOR.join(canonical_part(p, k) for p, k in zip(parts, kinds, strict=True))


def recanonicalise(key: str, kinds: Sequence[str | None]) -> str:
    """A stored key re-spelt canonically, given its key fields' types; a key whose part
    count does not match is returned as it is (it cannot be split safely)."""
    parts = key.split(KEY_SEPARATOR)
    if len(parts) != len(kinds):
        return key
    return canonical_key(parts, kinds)


def _number_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    column = pl.col(name)
    integral = (column == column.round(0)) & (column.abs() < _INT_SAFE)
    return (
        pl.when(integral)
        .then(column.cast(pl.Int64).cast(pl.String))
        .otherwise(column.cast(pl.String))
    )


def canonical_part_expr(frame: pl.DataFrame, name: str) -> pl.Expr:
    """A typed polars column as canonical key text; nulls become ""."""
    dtype = frame.schema[name]
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            column = column.dt.replace_time_zone("UTC")
        expr = column.dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)
    elif dtype in (pl.Float32, pl.Float64):
        expr = _number_expr(frame, name)
    elif dtype == pl.Boolean:
        expr = pl.when(column).then(pl.lit("true")).otherwise(pl.lit("false"))
        expr = pl.when(column.is_null()).then(None).otherwise(expr)
    elif dtype == pl.String:
        expr = column.str.strip_chars(BLANKS)
    else:
        expr = column.cast(pl.String)
    return expr.fill_null("")


def canonical_key_series(frame: pl.DataFrame, key_fields: Sequence[str]) -> pl.Series:
    """The canonical natural keys of a typed frame, vectorised.

    Floats polars prints with an exponent or a trailing ".0" (tiny ones, and integral
    ones of 2**53 and above: rare key parts) are re-spelt in Python, only those rows.
    """
    keys = frame.select(
        pl.concat_str(
            [canonical_part_expr(frame, name) for name in key_fields], separator=KEY_SEPARATOR
        ).alias("key")
    )["key"]
    floats = [n for n in key_fields if frame.schema[n] in (pl.Float32, pl.Float64)]
    if not floats:
        return keys
    texts = frame.select(
        pl.any_horizontal(
            [
                canonical_part_expr(frame, n).str.contains("e", literal=True)
                | canonical_part_expr(frame, n).str.ends_with(".0")
                for n in floats
            ]
        ).alias("odd")
    )["odd"]
    odd = texts.arg_true()
    if odd.is_empty():
        return keys
    rows = frame[list(key_fields)].gather(odd)
    fixed = [
        KEY_SEPARATOR.join(canonical_part(value) if value is not None else "" for value in row)
        for row in rows.iter_rows()
    ]
    return keys.scatter(odd, fixed)


def key_kinds(resource: DataResource | int) -> list[str | None]:
    """The field types of a resource's key fields, in key order (a resource or its id)."""
    if not isinstance(resource, DataResource):
        resource = DataResource.objects.only("key_fields").get(pk=resource)
    types = dict(
        FieldSpec.objects.filter(resource_id=resource.pk).values_list("name", "field_type")
    )
    return [types.get(name) for name in resource.key_fields]
