"""Shared fixtures: the demo catalog, users per department, API clients, a real worker.

Tests that need the real stack are marked and skipped with a reason when it is absent:
``postgres`` (DATABASE_URL is PostgreSQL), ``broker`` (CELERY_BROKER_URL is set; these
also need PostgreSQL, as the worker process cannot see an in-memory SQLite test
database), ``redis`` (CELERY_BROKER_URL is a Redis URL), ``browser`` (headless
Chromium at /usr/bin/chromium), ``mosquitto`` (the tests start their own Mosquitto
broker: the binary must be installed).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from hypothesis import settings as hypothesis_settings
from rest_framework.test import APIClient

ROOT = Path(__file__).resolve().parent.parent

# Property tests check values, not speed (that is bench/'s job): no per-example deadline,
# which a loaded machine (pytest-xdist on two cores) broke for correct code.
hypothesis_settings.register_profile("hub", deadline=None)
hypothesis_settings.load_profile("hub")


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (from /proc; a zombie is not running)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


XDIST_REASON = "starts processes on the shared broker: run without pytest-xdist (make test does)"


def pytest_collection_modifyitems(config, items):
    in_xdist = bool(os.environ.get("PYTEST_XDIST_WORKER"))
    reasons = {
        "postgres": None if _is_postgres() else "needs PostgreSQL: DATABASE_URL is not set",
        "broker": None
        if (os.environ.get("CELERY_BROKER_URL") and _is_postgres())
        else "needs a real broker and PostgreSQL: CELERY_BROKER_URL/DATABASE_URL not set",
        "browser": None
        if Path(CHROMIUM).exists()
        else "needs headless Chromium: apt-get install chromium chromium-driver",
        "redis": None
        if os.environ.get("CELERY_BROKER_URL", "").startswith("redis://")
        else "needs a Redis server: CELERY_BROKER_URL (redis://) not set",
        "mosquitto": None
        if shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()
        else "needs the Mosquitto broker: apt-get install mosquitto",
    }
    for item in items:
        for marker, reason in reasons.items():
            if reason and marker in item.keywords:
                item.add_marker(pytest.mark.skip(reason=reason))
        # Tests that start worker processes on the shared broker run one after another
        # (`make test` runs them in a pass of their own): beside another xdist process's
        # worker on the same queues, either would take the other's tasks.
        if in_xdist and ("broker" in item.keywords or "mosquitto" in item.keywords):
            item.add_marker(pytest.mark.skip(reason=XDIST_REASON))


@pytest.fixture(autouse=True, scope="session")
def _eager_tasks_by_default():
    """Tasks run in-process unless a test starts a real worker (celery_worker_process)."""
    from hub.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(autouse=True)
def _media_root(tmp_path, settings):
    """Every test writes uploads and reports to its own folder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    # Loads confirmed in the admin run in the request, so tests read their outcome at once
    # (tests of the background load turn it on: tests/ingest/test_uploads_trust.py).
    settings.HUB_BACKGROUND_LOADS = False


@pytest.fixture
def catalog(db):
    """The demo catalog (departments, districts, 15 published resources) and role groups."""
    from hub.demo import ensure_role_groups, load_catalog

    load_catalog()
    ensure_role_groups()
    from hub.catalog.models import DataResource, Department

    return {
        "departments": {d.code: d for d in Department.objects.select_related("group")},
        "resources": {r.code: r for r in DataResource.objects.select_related("provider")},
    }


@pytest.fixture
def make_user(db):
    """Create a user in a department: make_user("housing", steward=True)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from hub.catalog.models import Department
    from hub.demo import ROLE_STAFF, ROLE_STEWARD, ensure_role_groups

    def make(
        department: str | None = None,
        *,
        steward: bool = False,
        superuser: bool = False,
        username: str | None = None,
    ):
        ensure_role_groups()
        name = username or f"{department or 'root'}-{'steward' if steward else 'staff'}"
        user = get_user_model().objects.create_user(
            username=name, password="pw-for-tests", is_staff=True, is_superuser=superuser
        )
        if department:
            user.groups.add(Department.objects.get(code=department).group)
            user.groups.add(Group.objects.get(name=ROLE_STEWARD if steward else ROLE_STAFF))
        return user

    return make


@pytest.fixture
def api_client():
    """A DRF test client; use ``api_client.force_authenticate(user)``."""
    return APIClient()


def database_url_for_test_db() -> str:
    """The URL of the test database pytest-django created, for a worker subprocess."""
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path, settings):
    """A real ``celery worker`` process on the test database and the configured broker.

    Tasks sent to it are real messages; tests wait on results or database state with
    deadlines, never with bare sleeps. The fixture yields a handle with ``proc``, the
    Celery ``app`` (pointed at the broker, not eager) and ``env`` for restarts.
    """
    from hub.celery import app

    broker = os.environ["CELERY_BROKER_URL"]
    backend = os.environ.get("CELERY_RESULT_BACKEND") or broker
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_test_db(),
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": backend,
        "DJANGO_MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONUNBUFFERED": "1",
    }
    app.conf.update(task_always_eager=False, broker_url=broker, result_backend=backend)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.control.purge()

    log = tmp_path / "worker.log"

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "hub",
                "worker",
                "-Q",
                "default,ingest,sync",
                "--pool=solo",
                "--concurrency=1",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
                "-n",
                f"test-{os.getpid()}@%h",
                "--loglevel=INFO",
            ],
            cwd=ROOT,
            env=env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    class Worker:
        pass

    worker = Worker()
    worker.app, worker.env, worker.log, worker.start = app, env, log, start
    worker.proc = start()
    try:
        yield worker
    finally:
        worker.proc.terminate()
        try:
            worker.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.proc.kill()
            worker.proc.wait(timeout=10)
        app.conf.update(task_always_eager=True, broker_url="memory://", result_backend=None)
