"""A real Celery worker process on Redis executes a task against the test database."""

import os

import pytest

pytestmark = [pytest.mark.broker, pytest.mark.postgres]


def test_real_worker_executes_task_on_same_database(celery_worker_process, catalog):
    from hub.tasks import healthcheck

    result = healthcheck.apply_async(queue="default")
    outcome = result.get(timeout=60)

    assert outcome["pid"] != os.getpid()
    assert outcome["pid"] == celery_worker_process.proc.pid
    assert outcome["resources"] == len(catalog["resources"]) == 15
