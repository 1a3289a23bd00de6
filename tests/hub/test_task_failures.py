"""Failed and retried Celery tasks are recorded for the admin."""

import pytest
from celery import shared_task

from hub.catalog.models import TaskFailure

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _worker_like_eager():
    """Eager tasks that, like a worker, report failures instead of raising at the caller
    (Celery sends task_failure only when the error is not propagated)."""
    from hub.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


@shared_task(name="tests.always_fails")
def always_fails(batch_id: int) -> None:
    raise ValueError(f"batch {batch_id} is broken")


@shared_task(name="tests.retries_once", bind=True, max_retries=1, default_retry_delay=0)
def retries_once(self) -> str:
    if self.request.retries == 0:
        raise self.retry(exc=ConnectionError("broker hiccup"))
    return "done"


def test_failure_is_recorded_with_type_message_and_arguments():
    result = always_fails.apply_async(args=[42])
    assert result.state == "FAILURE"
    failure = TaskFailure.objects.get()
    assert failure.task_name == "tests.always_fails"
    assert failure.exception_type == "builtins.ValueError"
    assert failure.message == "batch 42 is broken"
    assert "args=[42]" in failure.arguments
    assert "ValueError: batch 42 is broken" in failure.traceback
    assert failure.will_retry is False


def test_retry_is_recorded_as_will_retry():
    assert retries_once.apply_async().get() == "done"
    failure = TaskFailure.objects.get()
    assert failure.task_name == "tests.retries_once"
    assert failure.will_retry is True
    assert failure.message == "broker hiccup"


def test_admin_lists_failures_for_superusers_only(client, make_user, catalog):
    assert always_fails.apply_async(args=[7]).state == "FAILURE"
    client.force_login(make_user(superuser=True, username="root"))
    page = client.get("/admin/catalog/taskfailure/")
    assert page.status_code == 200
    assert "tests.always_fails" in page.content.decode()
    client.force_login(make_user("water"))
    assert client.get("/admin/catalog/taskfailure/").status_code == 403
