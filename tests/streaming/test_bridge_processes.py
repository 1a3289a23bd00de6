"""``mqtt_bridge --processes N``'s parent: N children kept running, a dead one replaced,
all stopped with the parent (SIGTERM) and ending on their own when it is killed.

The children here run a stand-in for the bridge that records its pid and waits to be
stopped, so the test needs no broker; tests/e2e/test_mqtt_bridge.py runs real bridges.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.conftest import ROOT, process_alive
from tests.e2e.test_faults import wait_until

SCRIPT = textwrap.dedent(
    """
    import os, sys, threading
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
    import django
    django.setup()
    from streaming.bridge_processes import Supervisor

    class StandIn:
        def __init__(self):
            self.stopped = threading.Event()

        def run(self):
            open(os.path.join(sys.argv[1], str(os.getpid())), "w").close()
            self.stopped.wait()

        def stop(self):
            self.stopped.set()

    Supervisor(StandIn, processes=int(sys.argv[2])).run()
    """
)


@pytest.fixture
def supervisor(tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT, str(pids), "2"], cwd=ROOT, env=env)
    proc.children = lambda: sorted(int(p.name) for p in pids.iterdir())
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_a_dead_child_is_replaced_and_a_stop_ends_them_all(supervisor):
    first = wait_until(lambda: len(supervisor.children()) == 2 and supervisor.children(), 60,
                       "two children")  # fmt: skip
    os.kill(first[0], signal.SIGKILL)
    now = wait_until(lambda: len(supervisor.children()) == 3 and supervisor.children(), 60,
                     "a replacement")  # fmt: skip
    (replacement,) = set(now) - set(first)
    assert process_alive(first[1]) and process_alive(replacement) and not process_alive(first[0])

    supervisor.terminate()
    assert supervisor.wait(timeout=60) == 0
    assert not process_alive(first[1]) and not process_alive(replacement)


@pytest.mark.skipif(not Path("/proc").exists(), reason="reads /proc")
def test_children_end_when_their_parent_is_killed(supervisor):
    children = wait_until(lambda: len(supervisor.children()) == 2 and supervisor.children(),
                          60, "two children")  # fmt: skip
    supervisor.kill()
    supervisor.wait(timeout=30)
    wait_until(lambda: not any(process_alive(pid) for pid in children), 60, "the orphans to end")
