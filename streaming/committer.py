"""Group commit of pushes (推送合并提交): many requests, one transaction.

Each web process runs one committer thread. A request thread hands it a push and waits;
the thread takes every push waiting at that moment and accepts them all in one
transaction (``intake.accept_key_pushes``: the keys re-checked, the door asked once per
key and resource, one insert, one audit event per key and resource, one WAL flush),
then wakes each request with its own outcome. Under load the groups grow by themselves
(the pushes that arrive while a group commits form the next one), so no linger is
needed and a lone push waits for nobody.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
)

logger = logging.getLogger(__name__)

# At most this many pushes share one transaction (one INSERT of their receipts).
MAX_GROUP = 256
# While requests of this process are still reading their bodies, a group waits for them
# at most this long: under load a commit then carries the pushes of every busy thread
# instead of one (the group's fixed cost, not its rows, is most of a commit).
GATHER_SECONDS = 0.004

# The outcome of a push the group could not settle for an unexpected reason: the
# request is answered by the ordinary view instead, alone.
DELEGATE = "delegate"
# The outcome of every push of a group the database did not commit (answered 503).
UNCOMMITTED = "uncommitted"


class Done:
    """A one-shot wake-up for one waiting request: a lock held until ``set``. Cheaper
    for the committer than an Event (whose ``set`` takes a condition's lock and walks
    its waiters), and the committer wakes every request of every group."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:  # set by the committer thread only
            self._set = True
            self._lock.release()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        if self._set:
            return True
        if self._lock.acquire(timeout=-1 if timeout is None else timeout):
            self._lock.release()  # a later wait returns at once
            return True
        return self._set


@dataclass
class Waiting:
    """One push handed to the committer, and its outcome once committed. ``state``
    (under ``lock``): queued → taken by a group, or cancelled by its request's timeout
    before any group took it (then it is never stored)."""

    push: Any
    done: Done = field(default_factory=Done)
    outcome: Any = None
    state: str = "queued"
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self) -> bool:
        with self.lock:
            if self.state == "cancelled":
                return False
            self.state = "taken"
            return True

    def cancel(self) -> bool:
        with self.lock:
            if self.state == "taken":
                return False
            self.state = "cancelled"
            return True


class Committer:
    """Commits handed-in pushes in groups on its own thread (started on first use, again
    after a fork: gunicorn forks its workers after importing the app)."""

    def __init__(self, accept, arriving=lambda: 0) -> None:
        self.accept = accept  # list of pushes -> list of outcomes, one transaction
        self.arriving = arriving  # how many requests are about to hand a push in
        self.inbox: queue.SimpleQueue[Waiting] = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.pid = 0

    def submit(self, push: Any, *, timeout: float) -> Any:
        """The push's outcome, or UNCOMMITTED when no commit answered within ``timeout``
        seconds (the caller answers 503; a retry with the same Idempotency-Key is safe)."""
        self._ensure_thread()
        waiting = Waiting(push)
        self.inbox.put(waiting)
        if not waiting.done.wait(timeout) and waiting.cancel():
            return UNCOMMITTED  # never taken: not stored, safe to retry
        # Taken by a group: its outcome, whatever the wait (answering 503 for a push
        # that may still commit would store it twice when retried without a key).
        waiting.done.wait()
        return waiting.outcome

    def _ensure_thread(self) -> None:
        if self.thread is not None and self.pid == os.getpid() and self.thread.is_alive():
            return
        with self.lock:
            if self.thread is None or self.pid != os.getpid() or not self.thread.is_alive():
                if self.pid != os.getpid():
                    self.inbox = queue.SimpleQueue()  # a forked child: the parent's is not ours
                self.pid = os.getpid()
                self.thread = threading.Thread(target=self._run, name="push-committer", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """End the thread after the pushes handed in before (it closes its connection)."""
        if self.thread is not None and self.thread.is_alive():
            self.inbox.put(None)  # type: ignore[arg-type]
            self.thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            first = self.inbox.get()
            if first is None:
                connections.close_all()
                return
            group: list[Waiting] = []
            try:
                stopping = self._gather(first, group)
                if group:
                    self.commit(group)
            except Exception:  # the thread must outlive any group
                logger.exception("push committer: group of %d failed", len(group))
                for waiting in group:
                    if not waiting.done.is_set():
                        waiting.outcome = DELEGATE
                        waiting.done.set()
                stopping = False
            if stopping:
                connections.close_all()
                return

    def _gather(self, first: Waiting, group: list[Waiting]) -> bool:
        """Fill ``group`` with the pushes waiting now (and those about to arrive, for at
        most GATHER_SECONDS); True when told to stop."""
        if first.take():
            group.append(first)
        deadline = time.monotonic() + GATHER_SECONDS
        while len(group) < MAX_GROUP:
            try:
                waiting = self.inbox.get_nowait()
            except queue.Empty:
                left = deadline - time.monotonic()
                if self.arriving() <= 0 or left <= 0:
                    return False
                try:
                    waiting = self.inbox.get(timeout=left)
                except queue.Empty:
                    return False
            if waiting is None:
                return True
            if waiting.take():
                group.append(waiting)
        return False

    def commit(self, group: list[Waiting]) -> None:
        """Accept the group in one transaction and wake its requests. A lost database
        answers every push of the group UNCOMMITTED (nothing acknowledged, 503); a push
        the database refuses (a value it cannot store) fails only itself: the group is
        committed again without it, push by push."""
        close_old_connections()
        pushes = [waiting.push for waiting in group]
        try:
            outcomes = self.accept(pushes)
        except (OperationalError, InterfaceError):
            logger.warning("push group of %d not committed", len(group), exc_info=True)
            connection.close()  # a fresh connection for the next group
            outcomes = [UNCOMMITTED] * len(group)
        except DatabaseError:
            logger.warning("push group of %d refused: one push at a time", len(group))
            outcomes = [self._alone(push) for push in pushes]
        except Exception:
            logger.exception("push group of %d failed: each push goes the ordinary way", len(group))
            outcomes = [DELEGATE] * len(group)
        for waiting, outcome in zip(group, outcomes, strict=True):
            waiting.outcome = outcome
            waiting.done.set()

    def _alone(self, push: Any) -> Any:
        try:
            return self.accept([push])[0]
        except (OperationalError, InterfaceError):
            connection.close()
            return UNCOMMITTED
        except Exception:
            return DELEGATE  # the view answers it (a 400 naming what it cannot store)
