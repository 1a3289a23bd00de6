"""``mqtt_bridge --processes N``: N bridges forked from one loaded parent, kept at N.

The children are bridges configured alike: one serves the session, the others stand by
(``streaming.leadership``). When a child dies the parent forks another at once. Forking
from a parent that has already loaded Django and the hub's code makes the replacement
cost milliseconds of CPU, where a new process spends seconds importing, which on a busy
host delays every message in flight (``bench/README-mqtt.md``). The parent holds no
database connection, broker connection or thread when it forks.

A child ends when its parent is gone (it checks every second), so a killed parent
leaves no bridge behind; SIGTERM or SIGINT to the parent stops every child first.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Protocol

from django.db import connections

logger = logging.getLogger(__name__)

# A child that dies this soon after its start is not replaced at once (a broken
# configuration would otherwise fork in a tight loop).
QUICK_DEATH = 1.0
RESPAWN_DELAY = 1.0


class Runnable(Protocol):
    """What a child runs: ``run()`` until ``stop()``."""

    def run(self) -> None: ...

    def stop(self) -> None: ...


def watch_parent(parent: int, stop: Callable[[], None], stopped: threading.Event) -> None:
    """Call ``stop`` once ``parent`` is no longer this process's parent."""

    def watch() -> None:
        while not stopped.wait(1.0):
            if os.getppid() != parent:
                logger.warning("mqtt bridge: the parent process is gone: stopping")
                stop()
                return

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _child(make: Callable[[], Runnable], parent: int) -> int:
    # Signals were blocked across the fork: the parent's handlers must never run here.
    stopped = threading.Event()
    try:
        bridge = make()
        for signum in STOP_SIGNALS:
            signal.signal(signum, lambda *_: bridge.stop())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        watch_parent(parent, bridge.stop, stopped)
        bridge.run()
        return 0
    except Exception:
        logger.exception("mqtt bridge process %s failed", os.getpid())
        return 1
    finally:
        stopped.set()


class Supervisor:
    """Keep ``processes`` children running ``make()``; ``run()`` until told to stop."""

    def __init__(self, make: Callable[[], Runnable], *, processes: int):
        self.make, self.processes = make, processes
        self.children: dict[int, float] = {}  # pid -> started (monotonic)
        self.stopping = False

    def _spawn(self) -> None:
        connections.close_all()  # a child must open its own
        parent = os.getpid()
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            pid = os.fork()
            if pid == 0:  # the child
                code = 1
                try:
                    code = _child(self.make, parent)
                finally:
                    logging.shutdown()
                    os._exit(code)
            # Known before a stop held back during the fork runs (on unblocking).
            self.children[pid] = time.monotonic()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        if self.stopping:  # the stop ran before this child was known to it
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        logger.info("mqtt bridge: process %s started", pid)

    def stop(self, *_args) -> None:
        self.stopping = True
        for pid in list(self.children):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)

    def run(self) -> None:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.stop)
        while len(self.children) < self.processes and not self.stopping:
            self._spawn()
        while self.children:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            started = self.children.pop(pid, None)
            if started is None or self.stopping:
                continue
            logger.warning(
                "mqtt bridge: process %s ended (%s): starting another",
                pid,
                _describe(status),
            )
            if time.monotonic() - started < QUICK_DEATH:
                time.sleep(RESPAWN_DELAY)  # back off: not a synchronisation
            if not self.stopping:
                self._spawn()


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.waitstatus_to_exitcode(status)}"
