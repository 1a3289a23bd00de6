"""Property-based runs of every API operation from the OpenAPI schema.

``test_no_server_errors``: in-process over WSGI, as a partner system with an API key, a
bounded number of examples per operation: zero server errors.

``test_live_server_checks_all``: ``schemathesis run --checks all`` (the CLI, as a partner
would run it) against a live server on a free port, on the demo city, once with a
partner's API key and once anonymous: responses match the schema (status codes, content
types, bodies), invalid input is refused, valid input accepted. Runs on the database of
the suite (SQLite, and PostgreSQL in CI).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import schemathesis
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.utils import timezone
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db

EXAMPLES = 15
SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
# Examples per operation and phases of the live runs, bounded so that each backend stays
# within minutes. Anonymous requests all end at authentication (401), so the coverage
# phase's thousands of parameter variants would test nothing more there.
LIVE_RUNS = {
    "partner": ("8", "examples,coverage,fuzzing"),
    "anonymous": ("10", "examples,fuzzing"),
}


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
    from permissions.api_key_services import create_api_key

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


# Valid per schema yet refused (400) by design, for the reason given; everything else in
# these operations must still be accepted.
POSITIVE_400 = {
    # cursor: only tokens the server issued are valid; fields: names of the resource's
    # fields; district/bbox/since/until/order: refused on parts hidden from the caller.
    ("GET", "/api/v1/resources/{code}/records/"),
    # fields/districts must name the resource's fields and real district codes; the
    # requester must be one of the caller's departments.
    ("POST", "/api/v1/access-requests/"),
    # objections: the record key, field name and batch must name data the caller reads;
    # corrections take exactly one of value and batch; a rejection's reason is not blank.
    ("POST", "/api/v1/objections/"),
    ("POST", "/api/v1/objections/{id}/correct/"),
    ("POST", "/api/v1/objections/{id}/reject/"),
    # data needs: texts not blank, districts real codes, the department one of the
    # caller's; routing names an active department and its own resources; answers need a
    # routed need and the provider's resource, a date from today, a basis not blank; each
    # step is refused in a state that does not allow it (answered, closed).
    ("POST", "/api/v1/needs/"),
    ("POST", "/api/v1/needs/{id}/route/"),
    ("POST", "/api/v1/needs/{id}/link/"),
    ("POST", "/api/v1/needs/{id}/commit/"),
    ("POST", "/api/v1/needs/{id}/refuse/"),
    ("POST", "/api/v1/needs/{id}/close/"),
}


def schemathesis_config(path: Path, codes: list[str], ids: list[int]) -> Path:
    """A schemathesis.toml: real codes and ids for path parameters (some of the time, so
    that requests reach real objects), no NUL bytes (refused by the middleware, tested
    in test_bad_input), and the POSITIVE_400 exceptions."""
    lines = [
        "[generation]",
        "allow-x00 = false",
        "[dictionaries.codes]",
        f"values = {json.dumps(codes, ensure_ascii=False)}",
        "[dictionaries.ids]",
        f"values = {json.dumps(ids)}",
        "[parameters]",
        '"path.code" = { dictionary = "codes", probability = 0.6 }',
        '"path.id" = { dictionary = "ids", probability = 0.6 }',
    ]
    accepted = ["2xx", "3xx", "400", "401", "403", "404", "409", "429"]
    for method, operation in sorted(POSITIVE_400):
        lines += [
            "[[operations]]",
            f'include-path = "{operation}"',
            f'include-method = "{method}"',
            "[operations.checks.positive_data_acceptance]",
            f"expected-statuses = {json.dumps(accepted)}",
        ]
    config = path / "schemathesis.toml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture
def demo_city(transactional_db, tmp_path, monkeypatch):
    """The demo city (catalog, samples, points, alerts, work orders, a grant, a request)
    and a partner key of bigdata, which reads fire-incidents in full (masked fields
    masked) besides the open resources."""
    from hub.catalog.models import DataResource, Department
    from hub.records.models import UploadBatch
    from operations.models import Alert, MonitoringPoint, WorkOrder
    from permissions.api_key_services import create_api_key
    from permissions.authentication import ApiKeyRateThrottle
    from permissions.models import AccessRequest
    from permissions.services import grant_access

    monkeypatch.setattr("hub.demo.LOGINS_FILE", tmp_path / "demo_logins.json")
    # Thousands of requests a minute: the throttle would answer 429 to most of them.
    monkeypatch.setattr(ApiKeyRateThrottle, "THROTTLE_RATES", {"api_key": "1000000/min"})
    call_command("load_demo", "--force", stdout=io.StringIO())
    bigdata = Department.objects.get(code="bigdata")
    grant_access(
        user=None,
        resource=DataResource.objects.get(code="fire-incidents"),
        department=bigdata,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    _key, plaintext = create_api_key(department=bigdata, name="schemathesis")
    codes = sorted(
        {*DataResource.objects.values_list("code", flat=True)}
        | {*Department.objects.values_list("code", flat=True)}
    )
    ids = sorted(
        {
            pk
            for model in (MonitoringPoint, Alert, WorkOrder, AccessRequest, UploadBatch)
            for pk in model.objects.values_list("pk", flat=True)[:20]
        }
    )
    return {"key": plaintext, "codes": codes, "ids": ids}


@pytest.mark.parametrize("identity", ["partner", "anonymous"])
def test_live_server_checks_all(live_server, demo_city, tmp_path, identity):
    config = schemathesis_config(tmp_path, demo_city["codes"], demo_city["ids"])
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(config),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--checks",
        "all",
        "--max-examples",
        LIVE_RUNS[identity][0],
        "--generation-deterministic",
        "--phases",
        LIVE_RUNS[identity][1],
        "--workers",
        "1",
        "--request-timeout",
        "60",
        # Django's live server (http.server) answers a request it rejects early and closes
        # the socket; a client still writing the body then sees "connection aborted" on a
        # slow host. A network-level failure is retried; every response is still checked.
        "--request-retries",
        "2",
    ]
    if identity == "partner":
        command += ["--header", f"Authorization: Api-Key {demo_city['key']}"]
    done = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    summary = done.stdout[-6000:]
    print(summary)  # shown by pytest when the test fails (or with -rP)
    assert done.returncode == 0, summary
    assert " passed" in done.stdout or "No issues found" in done.stdout, summary
