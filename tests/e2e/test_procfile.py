"""`honcho start` runs the Procfile (web, ingest and sync workers, beat, the MQTT bridge)
on the real stack."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ROOT, database_url_for_test_db

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_ready(url: str, proc: subprocess.Popen, deadline_s: float = 90) -> dict:
    """Poll the readiness probe until it answers 200 (the condition), within a deadline."""
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        assert proc.poll() is None, "honcho exited before the web process was ready"
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                return json.loads(response.read())
        except (urllib.error.URLError, OSError):  # refused, reset or timed out while booting
            time.sleep(0.25)  # back-off between connection attempts, not synchronisation
    raise AssertionError(f"{url} not ready within {deadline_s} s")


def test_procfile_runs_web_workers_and_beat(transactional_db, catalog, tmp_path):
    from hub.celery import app
    from hub.tasks import healthcheck

    port = free_port()
    broker = os.environ["CELERY_BROKER_URL"]
    backend = os.environ.get("CELERY_RESULT_BACKEND") or broker
    env = {
        **os.environ,
        "PORT": str(port),
        "DATABASE_URL": database_url_for_test_db(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        "PYTHONUNBUFFERED": "1",
    }
    log = Path(os.environ.get("HONCHO_LOG", tmp_path / "honcho.log"))
    honcho = Path(ROOT) / ".venv" / "bin" / "honcho"
    proc = subprocess.Popen(
        [str(honcho), "start", "-f", "Procfile"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    app.conf.update(task_always_eager=False, broker_url=broker, result_backend=backend)
    try:
        ready = wait_for_ready(f"http://127.0.0.1:{port}/readyz", proc)
        assert ready["status"] == "ok"
        assert ready["checks"]["broker"]["ok"] is True

        # Both workers consume "default"; each named queue reaches its own worker.
        for queue, worker in (("ingest", "ingest@"), ("sync", "sync@")):
            outcome = healthcheck.apply_async(queue=queue).get(timeout=90)
            assert outcome["resources"] == 15
            assert outcome["pid"] != os.getpid()
        replies = app.control.ping(timeout=5)
        names = {name.split("@")[0] for reply in replies for name in reply}
        assert {"ingest", "sync"} <= names
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        app.conf.update(task_always_eager=True, broker_url="memory://", result_backend=None)
    output = log.read_text(errors="replace")
    assert "beat.1          | celery beat v" in output
    assert "scheduler -> django_celery_beat.schedulers.DatabaseScheduler" in output
