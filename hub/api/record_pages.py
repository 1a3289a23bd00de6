"""Pages of records: the order a caller may see, and opaque cursors into it.

The order never depends on a value the caller cannot read: by natural key when every key
field is readable in clear (the ``(resource, key)`` index serves it), otherwise in load
order (batch, source row, id), which the hidden values do not decide.

A cursor is sealed: its JSON (resource, order, position) is a Fernet token
(``cryptography``: AES-128-CBC with a random IV, then HMAC-SHA256), under a key derived
from SECRET_KEY with ``salted_hmac`` (SECRET_KEY_FALLBACKS still open cursors issued
before a key rotation). A caller learns nothing from it (not a key, not a row id, whose
order follows the keys on PostgreSQL) and cannot forge one; a tampered cursor, or one of
another resource or order, is a 400. Tokens differ at each issue (random IV, issue time);
what they decode to does not depend on a hidden value.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db.models import BigIntegerField, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hub.records.models import Record

SALT = "hub.records.cursor"
MAX_CURSOR_CHARS = 4096


@dataclass(frozen=True)
class Ordering:
    """One page order: ``columns`` (annotation or field names) and their direction."""

    name: str
    columns: tuple[str, ...]
    descending: bool = False
    annotations: tuple[tuple[str, Any], ...] = ()

    def prepare(self, queryset: QuerySet[Record]) -> QuerySet[Record]:
        """``queryset`` with this order's annotations (none for the key order)."""
        return queryset.annotate(**dict(self.annotations)) if self.annotations else queryset

    def order_by(self, *, reverse: bool = False) -> list[str]:
        descending = self.descending != reverse
        return [f"-{column}" if descending else column for column in self.columns]

    def after(self, position: list, *, reverse: bool = False) -> Q:
        """Rows strictly after ``position`` in this order (before it when ``reverse``)."""
        lookup = "lt" if self.descending != reverse else "gt"
        condition = Q()
        if len(self.columns) > 1:
            # The leading column bounded alone too, so an index on it can start there.
            condition = Q(**{f"{self.columns[0]}__{lookup}e": position[0]})
        tie = Q()
        alternatives = Q()
        for column, value in zip(self.columns, position, strict=True):
            alternatives |= tie & Q(**{f"{column}__{lookup}": value})
            tie &= Q(**{column: value})
        return condition & alternatives

    def position(self, row: dict) -> list:
        return [row[column] for column in self.columns]


KEY = Ordering("key", ("key",))
KEY_DESCENDING = Ordering("-key", ("key",), descending=True)
LOAD = Ordering(
    "load",
    ("load_batch", "load_row", "id"),
    annotations=(
        ("load_batch", Coalesce(F("batch_id"), Value(0), output_field=BigIntegerField())),
        ("load_row", Coalesce(F("source_row"), Value(0), output_field=BigIntegerField())),
    ),
)
ORDERS = {"key": KEY, "-key": KEY_DESCENDING}


def choose_ordering(requested: str | None, *, key_readable: bool) -> Ordering:
    """The order of a page: ``order=key|-key`` when the key is readable, else load order."""
    if requested is None:
        return KEY if key_readable else LOAD
    if requested not in ORDERS:
        raise ValidationError({"order": [_("排序只能是 key 或 -key。")]})
    if not key_readable:
        raise ValidationError({"order": [_("主键字段对您脱敏或不可见，不能按主键排序。")]})
    return ORDERS[requested]


@dataclass(frozen=True)
class Cursor:
    """A position in one resource's records and the direction to read from it."""

    resource_id: int
    ordering: str
    position: list
    before: bool = False


def _fernet_key(secret: str) -> bytes:
    digest = salted_hmac(SALT, b"cursor-key", secret=secret, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=4)
def _fernet_of(secrets: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(_fernet_key(secret)) for secret in secrets])


def _fernet() -> MultiFernet:
    """Encrypts under SECRET_KEY; decrypts under it and SECRET_KEY_FALLBACKS."""
    return _fernet_of((settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])))


def encode_cursor(cursor: Cursor) -> str:
    """The sealed token of ``cursor`` (URL-safe base64, padding dropped)."""
    plain = json.dumps(
        [cursor.resource_id, cursor.ordering, cursor.position, cursor.before],
        separators=(",", ":"),
        default=str,
    ).encode()
    return _fernet().encrypt(plain).decode().rstrip("=")


def open_cursor(token: str) -> list:
    """The JSON list sealed in ``token``; ``InvalidToken`` or ``ValueError`` if not ours."""
    if len(token) > MAX_CURSOR_CHARS or not token.isascii():
        raise InvalidToken
    plain = _fernet().decrypt((token + "=" * (-len(token) % 4)).encode())
    found = json.loads(plain)
    if not isinstance(found, list):
        raise ValueError("not a cursor")
    return found


def decode_cursor(token: str, *, resource_id: int, ordering: Ordering) -> Cursor:
    """The cursor in ``token``, or a 400 naming ``cursor``."""
    invalid = ValidationError({"cursor": [_("游标无效或已被篡改，请使用上一页返回的链接。")]})
    try:
        found, name, position, before = open_cursor(token)
    except (InvalidToken, ValueError, TypeError) as exc:
        raise invalid from exc
    if found != resource_id or name != ordering.name:
        raise ValidationError({"cursor": [_("游标不属于该资源或当前排序。")]})
    if not isinstance(position, list) or len(position) != len(ordering.columns):
        raise invalid
    return Cursor(resource_id, name, position, bool(before))


@dataclass
class Page:
    rows: list[dict]
    next: Cursor | None
    previous: Cursor | None


def read_page(
    values: QuerySet, ordering: Ordering, cursor: Cursor | None, size: int, resource_id: int
) -> Page:
    """One page of ``values`` (a ``values()`` queryset prepared with ``ordering``).

    Reads ``size + 1`` rows to know whether another page follows, in one query.
    """
    backwards = cursor is not None and cursor.before
    if cursor is not None:
        values = values.filter(ordering.after(cursor.position, reverse=backwards))
    fetched = list(values.order_by(*ordering.order_by(reverse=backwards))[: size + 1])
    more = len(fetched) > size
    rows = fetched[:size]
    if backwards:
        rows.reverse()
    has_next = more if not backwards else True
    has_previous = more if backwards else cursor is not None
    if not rows:
        return Page(rows, None, None)
    name = ordering.name
    return Page(
        rows,
        Cursor(resource_id, name, ordering.position(rows[-1])) if has_next else None,
        Cursor(resource_id, name, ordering.position(rows[0]), True) if has_previous else None,
    )
