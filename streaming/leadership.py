"""Which of several ``mqtt_bridge`` processes serves the broker session (one at a time).

Bridges configured alike share one persistent MQTT session: its client id. Two live
connections with one client id take the session from each other, so only the holder of a
PostgreSQL advisory lock keyed by the client id connects; the others stand by, trying for
the lock every ``poll`` seconds. The lock lives on a database connection of its own: when
the serving process dies, PostgreSQL ends that session and frees the lock, and a standby
takes the MQTT session over (the messages the dead bridge held unacknowledged included)
within a poll interval, with Django already loaded.

A server that cannot show it still holds the lock (its lock connection broke: a database
restart, a network cut) stops serving at once, so two bridges never fight over the session.
On SQLite (one host, development) the lock is an exclusive ``flock`` on a file in the
temporary directory, which the kernel frees when its process dies, so the same holds there
for bridges on that host.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import threading
from pathlib import Path

from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

# Waiting for a lock the database cannot be asked about: try again this much later.
RETRY_AFTER_ERROR = 1.0


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for ``name`` (PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"hub.mqtt_bridge:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


# The lock's connection notices a dead peer within seconds on both sides: the server ends
# the session of a crashed bridge host (freeing the lock for a standby elsewhere) instead of
# after the operating system's two hours, and a bridge cut off from the server learns it
# has lost the lock instead of waiting minutes for TCP to give up.
LIBPQ_WATCH = {
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 10000,
}
SERVER_WATCH = (
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3"
    " -c tcp_user_timeout=10000 -c statement_timeout=10000"
)


def _watched(settings_dict: dict) -> dict:
    options = dict(settings_dict.get("OPTIONS") or {})
    options.update(LIBPQ_WATCH)
    options["options"] = f"{options.get('options', '')} {SERVER_WATCH}".strip()
    return {**settings_dict, "OPTIONS": options}


class Leadership:
    """``wait(stopping)`` until this process serves ``name``; ``held()``; ``release()``."""

    def __init__(self, name: str, *, alias: str = "default", poll: float = 0.1):
        self.name, self.alias, self.poll = name, alias, poll
        self.key = lock_key(name)
        self.enabled = connections[alias].vendor == "postgresql"
        self._connection = None
        self._held = False
        self._file: int | None = None  # the flock's descriptor, without PostgreSQL

    def _cursor(self):
        if self._connection is None:
            # Not the thread's default connection: that one's transactions and
            # reconnects (connections.close_all() after an error) must not end the lock.
            connection = connections.create_connection(self.alias)
            connection.settings_dict = _watched(connection.settings_dict)
            self._connection = connection
        return self._connection.cursor()

    def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(DatabaseError):
                self._connection.close()
        self._connection, self._held = None, False

    def _try_file_lock(self) -> bool:
        if self._file is None:
            path = (
                Path(tempfile.gettempdir()) / f"hub-mqtt-bridge-{self.key & (2**64 - 1):016x}.lock"
            )
            descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                return False
            self._file = descriptor
        return True

    def try_acquire(self) -> bool:
        """One attempt; False when another process holds it or the database is away."""
        if not self.enabled:
            return self._try_file_lock()  # held while the descriptor is open
        try:
            with self._cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [self.key])
                self._held = bool(cursor.fetchone()[0])
        except DatabaseError as exc:
            logger.warning("mqtt bridge: cannot ask the database for the lock (%s)", exc)
            self._drop_connection()
            raise
        return self._held

    def wait(self, stopping: threading.Event) -> bool:
        """Block until this process holds the lock (True) or ``stopping`` is set (False)."""
        announced = False
        while not stopping.is_set():
            try:
                if self.try_acquire():
                    return True
                delay = self.poll
            except DatabaseError:
                delay = RETRY_AFTER_ERROR
            if not announced:
                logger.info(
                    "mqtt bridge: standing by (another bridge serves %s; process %s)",
                    self.name,
                    os.getpid(),
                )
                announced = True
            stopping.wait(delay)
        return False

    def held(self) -> bool:
        """Whether the lock is still this process's: its session answers (a session's
        advisory lock lasts as long as the session)."""
        if not self.enabled:
            return self._file is not None
        if not self._held:
            return False
        try:
            with self._cursor() as cursor:
                cursor.execute("SELECT 1")
                cursor.fetchone()
        except DatabaseError as exc:
            logger.warning("mqtt bridge: lost the lock's database session (%s)", exc)
            self._drop_connection()
            return False
        return True

    def release(self) -> None:
        # Unlock first: closing the session frees the lock too, but only once the server has
        # noticed the disconnect, and a standby asking in between would be refused.
        # Closing it afterwards (or the file) leaves nothing half-released.
        if self.enabled and self._held and self._connection is not None:
            with contextlib.suppress(DatabaseError), self._connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [self.key])
        self._drop_connection()
        if self._file is not None:
            os.close(self._file)
            self._file = None
