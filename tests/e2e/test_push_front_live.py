"""The push front on the real stack: gunicorn as the Procfile runs it (gthread workers, so
one process's pushes share group commits), PostgreSQL, Redis and a Celery worker.

Eight clients push over keep-alive connections; one gunicorn worker is SIGKILLed while
they push. A client whose request failed retries it with the same Idempotency-Key, as a
sensor platform does. Every acknowledged push is loaded exactly once and the revoked key
is refused on its next push. Synchronisation by polling with deadlines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from http.client import HTTPConnection, HTTPException
from pathlib import Path

import pytest

from hub.records.models import Record
from streaming.models import PushReceipt
from tests.conftest import ROOT
from tests.e2e.test_faults import wait_until
from tests.e2e.test_procfile import free_port
from tests.streaming.conftest import PUSHES, RESOURCE, readings

pytestmark = [pytest.mark.broker, pytest.mark.postgres]

CLIENTS, PUSHES_EACH = 8, 15


def _procfile_web_arguments() -> list[str]:
    """The web line of the Procfile after ``hub.wsgi`` (workers, worker class, threads)."""
    line = next(
        line for line in (ROOT / "Procfile").read_text().splitlines() if line.startswith("web:")
    )
    words = line.split()
    return [w for w in words[words.index("hub.wsgi") + 1 :] if "PORT" not in w and w != "--bind"]


@pytest.fixture
def gunicorn(celery_worker_process, tmp_path: Path):
    port = free_port()
    env = {**celery_worker_process.env, "DATABASE_CONN_MAX_AGE": "60"}
    arguments = [a for a in _procfile_web_arguments() if a not in ("--access-logfile", "-")]
    assert "gthread" in arguments, arguments
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "hub.wsgi", "--bind", f"127.0.0.1:{port}", *arguments],
        cwd=ROOT,
        env=env,
        stdout=(tmp_path / "web.log").open("ab"),
        stderr=subprocess.STDOUT,
    )

    def answering() -> bool:
        try:
            connection = HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v1/")
            return connection.getresponse().status < 500
        except OSError:
            return False

    try:
        wait_until(answering, 90, "gunicorn to answer")
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _workers(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return [int(pid) for pid in children]


def test_every_acknowledged_push_is_loaded_once_when_a_web_worker_is_killed(gunicorn, catalog):
    from permissions.api_key_services import create_api_key

    port, master = gunicorn
    api_key, key = create_api_key(
        department=catalog["departments"]["housing"], name="scada", scopes=["read", "push"]
    )
    acknowledged: dict[str, int] = {}
    retried: list[str] = []
    lock = threading.Lock()
    halfway = threading.Event()

    def client(n: int) -> None:
        connection = HTTPConnection("127.0.0.1", port, timeout=30)
        for seq in range(PUSHES_EACH):
            idempotency = f"live-{n}-{seq}"
            body = json.dumps(readings(1000 * n + 10 * seq, 10))
            headers = {
                "Authorization": f"Api-Key {key}",
                "Content-Type": "application/json",
                "Idempotency-Key": idempotency,
            }
            for _attempt in range(20):
                try:
                    connection.request("POST", PUSHES, body=body, headers=headers)
                    response = connection.getresponse()
                    payload = response.read()
                except (OSError, HTTPException):
                    # Killed mid-answer (a reset, or the headers without the body): not
                    # acknowledged, so the same push again.
                    connection.close()
                    connection = HTTPConnection("127.0.0.1", port, timeout=30)
                    with lock:
                        retried.append(idempotency)
                    continue
                if response.status in (200, 202):
                    with lock:
                        acknowledged[idempotency] = json.loads(payload)["id"]
                        if len(acknowledged) >= CLIENTS * PUSHES_EACH // 3:
                            halfway.set()
                    break
                # 503 (not committed): the same push again
                assert response.status == 503, (response.status, payload)
            else:
                pytest.fail(f"push {idempotency} never acknowledged")
        connection.close()

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    assert halfway.wait(120), "the clients did not get a third of their pushes acknowledged"
    victim = _workers(master.pid)[0]
    os.kill(victim, signal.SIGKILL)
    for thread in threads:
        thread.join(timeout=180)
    assert len(acknowledged) == CLIENTS * PUSHES_EACH

    ids = set(acknowledged.values())
    assert len(ids) == CLIENTS * PUSHES_EACH  # one receipt per push, retries included
    wait_until(
        lambda: PushReceipt.objects.filter(pk__in=ids, status="loaded").count() == len(ids),
        180,
        "every acknowledged push to be loaded",
    )
    receipts = PushReceipt.objects.filter(resource__code=RESOURCE)
    assert receipts.count() == len(ids)  # nothing stored that was not acknowledged, once
    records = Record.objects.filter(resource__code=RESOURCE)
    assert records.count() == CLIENTS * PUSHES_EACH * 10
    assert records.values("key").distinct().count() == CLIENTS * PUSHES_EACH * 10

    # Revoked now: the very next push is refused, although the front saw the key a moment ago.
    from permissions.api_key_services import revoke_api_key

    revoke_api_key(user=None, api_key=api_key)
    connection = HTTPConnection("127.0.0.1", port, timeout=30)
    statuses = set()
    for n in range(4):  # reaches both web workers' fronts
        connection.request(
            "POST",
            PUSHES,
            body=json.dumps(readings(900_000 + n, 1)),
            headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        )
        response = connection.getresponse()
        response.read()
        statuses.add(response.status)
    assert statuses <= {401, 403}, statuses
    assert PushReceipt.objects.filter(resource__code=RESOURCE).count() == len(ids)
