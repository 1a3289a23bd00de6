"""Race two database sessions deterministically: one holds a transaction open until the
other is seen blocked on a lock (PostgreSQL's ``pg_stat_activity``), never a sleep."""

from __future__ import annotations

import threading
import time

from django.db import connection, transaction


def wait_until_someone_waits_for_a_lock(deadline_s: float = 30) -> None:
    """Poll pg_stat_activity until another session is blocked on a lock (a condition,
    not a guess about timing)."""
    until = time.monotonic() + deadline_s
    pause = threading.Event()
    while time.monotonic() < until:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            )
            if cursor.fetchone()[0]:
                return
        pause.wait(0.02)
    raise AssertionError("the delete never waited for the load")


def race(load, delete) -> list[BaseException]:
    """Run ``load`` in a transaction held open until ``delete`` (another connection) is
    blocked on it; then commit the load and let the delete finish. Returns the errors
    either side raised."""
    loaded, release, errors = threading.Event(), threading.Event(), []

    def in_thread(work):
        def run():
            try:
                work()
            except BaseException as exc:  # surfaced to the test
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run)

    def hold_load():
        with transaction.atomic():
            load()
            loaded.set()
            assert release.wait(30)

    loader = in_thread(hold_load)
    loader.start()
    assert loaded.wait(30)
    deleter = in_thread(delete)
    deleter.start()
    wait_until_someone_waits_for_a_lock()
    release.set()
    loader.join(30)
    deleter.join(30)
    return errors
