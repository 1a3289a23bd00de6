"""Server-side prepared statements for the per-request permission statements.

The records view's two permission-bearing statements (the resource lookup with
``restrict()`` and the caller's active grants; the page query that appends its ``read``
audit event) are the most complex SQL of a request, and PostgreSQL spends more time
parsing and planning them than executing them (≈ 0.3 ms and 0.4 ms on the benchmark
host). Inside ``prepared_statements()`` the ORM's cursors bind parameters on the server,
so psycopg prepares a statement once its text was executed ``prepare_threshold`` times on
the connection and then reuses the parsed statement and its cached plan.

The SQL and its parameters are unchanged: the same conditions are evaluated on every
execution, only parsing and planning are skipped. Django disables prepared statements by
default (transaction-mode connection poolers lose them); the hub enables them through
``OPTIONS["prepare_threshold"]`` (``HUB_DB_PREPARE_THRESHOLD``, see docs/DEPLOY.md) and
only for the statements run in this context: the ORM's ordinary client-side-binding
cursors never prepare. Without a threshold, or on another database, this is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connections


@contextmanager
def prepared_statements(using: str = "default") -> Iterator[None]:
    """Run the ORM's queries of the block with server-side binding, so psycopg may
    prepare them (after ``prepare_threshold`` executions of the same text on this
    connection). A no-op unless the database is PostgreSQL with a threshold set."""
    wrapper = connections[using]
    if wrapper.vendor != "postgresql":
        yield
        return
    wrapper.ensure_connection()
    raw = wrapper.connection
    if getattr(raw, "prepare_threshold", None) is None:  # Disabled (Django's default).
        yield
        return
    from django.db.backends.postgresql.base import ServerBindingCursor

    previous = raw.cursor_factory
    raw.cursor_factory = ServerBindingCursor
    try:
        yield
    finally:
        raw.cursor_factory = previous
