"""Queries of the group commit compiled once (预编译查询).

Every group commit asks the same two questions with other values: is this API key
usable now, and may its service user push to this resource (the door,
``DataResource.objects.restrict(user, UPLOAD_RECORDS)``). Building and compiling them
through the ORM took several times as long as running them. Here each question is built
by the ORM once (the door by ``restrict`` itself), and run again with its SQL, its
parameters (the one that varies set in place of a placeholder value) and the ORM's own
converters for the values it reads. Only the SQL is kept: every answer is read from the
database, in the caller's transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any

from django.db import connection
from django.db.models import QuerySet

# Stands for the varying value while a query is compiled: no real parameter equals it.
PLACEHOLDER = "\x00compiled-query-slot\x00"
MAX_KEPT = 1_000


class CompiledQuery:
    """One ORM query's SQL, parameters and converters; ``rows(value)`` runs it with
    ``value`` in the placeholder's place on the current thread's connection."""

    def __init__(self, queryset: QuerySet) -> None:
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        self.sql = sql
        self.params = list(params)
        slots = [i for i, param in enumerate(self.params) if param == PLACEHOLDER]
        if len(slots) != 1:
            raise ValueError(f"expected one placeholder in the query's parameters: {slots}")
        self.slot = slots[0]
        fields = [column[0] for column in compiler.select[: compiler.col_count]]
        self.converters = list(compiler.get_converters(fields).items())

    def bound(self, value: Any) -> tuple[str, list[Any]]:
        """The SQL and its parameters with ``value`` in the placeholder's place (to run,
        or to nest in a larger statement)."""
        params = list(self.params)
        params[self.slot] = value
        return self.sql, params

    def rows(self, value: Any) -> list[list[Any]]:
        with connection.cursor() as cursor:
            cursor.execute(*self.bound(value))
            rows = [list(row) for row in cursor.fetchall()]
        for row in rows:
            for position, (converters, expression) in self.converters:
                for converter in converters:
                    row[position] = converter(row[position], expression, connection)
        return rows


class CompiledQueries:
    """Compiled queries by key (e.g. the door per service user and memberships), each
    built on first use by the caller's ``build()``: a queryset with PLACEHOLDER where
    the value goes. The key must name everything the built SQL depends on."""

    def __init__(self) -> None:
        self.kept: dict[Hashable, CompiledQuery] = {}
        self.lock = threading.Lock()

    def rows(self, key: Hashable, value: Any, build: Callable[[], QuerySet]) -> list[list[Any]]:
        return self.query(key, build).rows(value)

    def query(self, key: Hashable, build: Callable[[], QuerySet]) -> CompiledQuery:
        """The compiled query kept under ``key`` (built now when it is not)."""
        kept_key = (connection.alias, connection.vendor, key)
        query = self.kept.get(kept_key)
        if query is None:
            query = CompiledQuery(build())
            with self.lock:
                if len(self.kept) >= MAX_KEPT:
                    self.kept.clear()
                self.kept[kept_key] = query
        return query
