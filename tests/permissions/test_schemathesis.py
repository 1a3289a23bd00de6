"""Property-based run of every API operation from the OpenAPI schema: zero server errors.

In-process over WSGI (no live server), as a partner system with an API key, with a
bounded number of examples per operation so the run stays well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db

EXAMPLES = 15


@pytest.fixture
def keep_connection():
    """Like Django's test client: the WSGI handler must not close the test transaction's
    connection at the end of each request (PostgreSQL would lose the test data)."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def test_no_server_errors(records, key_client, grant, keep_connection):
    grant(records["fire-incidents"], "bigdata", districts=["310101"], fields=["incident_id"])
    _client, api_key = key_client("bigdata")
    from permissions.services import create_api_key

    _key, plaintext = create_api_key(department=api_key.department, name="schemathesis")
    headers = {"Authorization": f"Api-Key {plaintext}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    failures: list[str] = []
    statuses: set[int] = set()
    operations = 0
    for result in schema.get_all_operations():
        operations += 1
        exercise(result.ok(), headers, failures, statuses)
    assert operations >= 10
    assert failures == []
    # The key authenticates and real data comes back, not only errors.
    assert {200, 404} <= statuses


def exercise(operation, headers: dict, failures: list[str], statuses: set[int]) -> None:
    """Run a bounded number of generated cases of one operation, collecting 5xx."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=headers)
        statuses.add(response.status_code)
        if response.status_code >= 500:
            failures.append(f"{operation.label} {case.path_parameters} {case.query}: 5xx")

    run()
