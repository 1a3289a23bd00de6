"""The push front (streaming/front.py): the WSGI door of pushes with an API key.

Its answers are compared with the ordinary view's for the same requests: it settles only
new pushes (202), over-rate keys (429) and uncommitted groups (503); everything else is
handed to the view unchanged. The committer runs inline here (one push per group) except
in the concurrency test, which uses the real committer thread on PostgreSQL.
"""

from __future__ import annotations

import io
import json
import re
import threading

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.db import OperationalError, connection

from permissions.models import AuditEvent
from streaming.front import PushFront
from streaming.models import PushReceipt
from tests.streaming.conftest import PUSHES, RESOURCE, reading, readings

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_RESOURCE_PUSHES = "/api/v1/resources/water-supply-pressure/pushes/"  # water's


class Answer:
    def __init__(self, status: str, headers: list[tuple[str, str]], body: bytes):
        self.status_code = int(status.split()[0])
        self.headers = dict(headers)
        self.body = body

    def json(self):
        return json.loads(self.body)


def call(app, *, key: str | None, body, path: str = PUSHES, host: str = "testserver", **extra):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "QUERY_STRING": "",
        "SERVER_NAME": "testserver",
        "SERVER_PORT": "80",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": host,
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(raw),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": extra.pop("content_type", "application/json"),
        "CONTENT_LENGTH": str(len(raw)),
        **extra,
    }
    if key is not None:
        environ["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    captured: list = []
    chunks = app(environ, lambda status, headers, *_: captured.extend([status, headers]))
    return Answer(captured[0], captured[1], b"".join(chunks))


@pytest.fixture
def partner(catalog, key_client, no_flush):
    """A push-scoped key of housing (the gas resource's provider) and its plaintext."""
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    api_key, plaintext = create_api_key(
        department=Department.objects.get(code="housing"), name="scada", scopes=["read", "push"]
    )
    return api_key, plaintext


def test_a_new_push_is_stored_in_a_group_and_answered_like_the_view(app, partner, no_flush):
    api_key, key = partner
    answer = call(app, key=key, body=readings(0, 10), HTTP_IDEMPOTENCY_KEY="s-1")
    assert answer.status_code == 202, answer.body
    assert app.committer.groups == 1
    body = answer.json()
    receipt = PushReceipt.objects.get(pk=body["id"])
    assert (receipt.status, receipt.row_count, receipt.idempotency_key) == ("accepted", 10, "s-1")
    assert receipt.api_key_prefix == api_key.prefix and receipt.department.code == "housing"
    assert receipt.records == readings(0, 10)
    assert body["url"] == f"http://testserver/api/v1/push-receipts/{receipt.pk}/"
    assert answer.headers["Location"] == body["url"]
    assert (body["resource"], body["status"], body["rows"], body["replayed"]) == (
        RESOURCE,
        "accepted",
        10,
        False,
    )
    # The view's headers, the same names (values differ by the receipt only).
    assert sorted(answer.headers) == sorted(_view(key, readings(20, 1)).headers)
    assert answer.headers["Vary"] == "Accept, Accept-Language"
    assert answer.headers["Content-Length"] == str(len(answer.body))
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["Content-Language"] == "zh-hans"
    event = AuditEvent.objects.get(action="upload", detail__receipts=[receipt.pk])
    assert (event.api_key_prefix, event.rows, event.outcome) == (api_key.prefix, 10, "ok")
    assert len(no_flush) == 2  # on commit: this push's load, then the view's push's
    # Its receipt reads back through the view, for its department.
    polled = call_get(key, receipt.pk)
    assert polled["id"] == receipt.pk and polled["status"] == "accepted"


def call_get(key: str, pk: int) -> dict:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client.get(f"/api/v1/push-receipts/{pk}/").json()


def _view(key: str | None, body, **headers):
    """The same request through Django only (the view's own answer)."""
    front = PushFront(WSGIHandler())
    front._enabled = False
    return call(front, key=key, body=body, **headers)


@pytest.mark.parametrize(
    ("case", "body", "extra", "status"),
    [
        ("empty list", [], {}, 400),
        ("not a list", {"a": 1}, {}, 400),
        ("not objects", [1, 2], {}, 400),
        ("too many rows", [reading(1)] * 1001, {}, 400),
        ("not JSON", b"[{]", {}, 400),
        ("nested too deep", b"[" * 5000 + b"]" * 5000, {}, 400),
        ("Idempotency-Key too long", [reading(1)], {"HTTP_IDEMPOTENCY_KEY": "k" * 129}, 400),
        ("control in Idempotency-Key", [reading(1)], {"HTTP_IDEMPOTENCY_KEY": "k\x01"}, 400),
        ("NUL in a value", b'[{"point_id": "GP\\u0000"}]', {}, None),
        ("other content type", b"point_id\nGP1\n", {"content_type": "text/csv"}, 415),
        ("host not allowed", [reading(1)], {"host": "evil.example"}, 400),
        ("other resource", [reading(1)], {"path": OTHER_RESOURCE_PUSHES}, 404),
        ("no such resource", [reading(1)], {"path": "/api/v1/resources/nope/pushes/"}, 404),
        ("NaN", b'[{"point_id": "GP1", "pressure": NaN}]', {}, 400),
        ("Infinity", b'[{"point_id": "GP1", "pressure": -Infinity}]', {}, 400),
        ("huge number", b'[{"point_id": "GP1", "pressure": 1e999}]', {}, None),
        ("byte-order mark", b'\xef\xbb\xbf[{"point_id": "GP1"}]', {}, None),
        ("UTF-16", '[{"point_id": "GP1"}]'.encode("utf-16"), {}, 400),
        ("lone surrogate", b'[{"point_id": "GP\\ud800"}]', {}, None),
        (
            "latin-1 charset",
            b'[{"point_id": "GP\xe9"}]',
            {"content_type": "application/json; charset=latin-1"},
            None,
        ),
        ("other JSON type", [reading(1)], {"content_type": "application/json-patch+json"}, 415),
        ("query with NUL", [reading(1)], {"QUERY_STRING": "x=%00"}, 400),
        ("path with a newline", [reading(1)], {"path": PUSHES + "\n"}, 404),
    ],
)
def test_what_the_front_does_not_settle_is_the_views_answer(
    app, partner, case, body, extra, status
):
    _api_key, key = partner
    answer = call(app, key=key, body=body, **extra)
    assert status is None or answer.status_code == status, (case, answer.body)
    # Handed to the view before any group, but for resources: the group's door refuses.
    assert app.committer.groups == (1 if "resource" in case else 0), case
    expected = _view(key, body, **extra)
    assert answer.status_code == expected.status_code
    if answer.status_code >= 400 and "json" in answer.headers.get("Content-Type", ""):
        assert answer.json() == expected.json()
    if status is not None:
        assert not PushReceipt.objects.exists()


@pytest.mark.parametrize(
    ("case", "key", "status"),
    [("no key", None, 401), ("unknown key", "AbCd1234.nope", 401), ("empty key", "", 401)],
)
def test_requests_without_a_usable_key_go_to_the_view(app, partner, case, key, status):
    answer = call(app, key=key, body=[reading(1)])
    expected = _view(key, [reading(1)])
    assert answer.status_code == expected.status_code == status, case
    assert app.committer.groups == 0 and not PushReceipt.objects.exists()


def test_denied_pushes_are_the_views_403_or_404(app, catalog, no_flush):
    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    # A read-only key of the provider, and a push key of another department.
    _k, read_only = create_api_key(department=Department.objects.get(code="housing"), name="r")
    _k, other = create_api_key(
        department=Department.objects.get(code="fire"), name="p", scopes=["push"]
    )
    statuses = [call(app, key=key, body=[reading(1)]).status_code for key in (read_only, other)]
    assert statuses == [403, 404]  # no push scope; not the provider (audited)
    # The read-only key goes to the view at once; the other is refused by the door.
    assert app.committer.groups == 1
    assert not PushReceipt.objects.exists()
    assert AuditEvent.objects.filter(action="upload", outcome="denied").count() == 1


def test_a_revoked_key_is_refused_on_its_very_next_push(app, partner, make_user):
    from permissions.api_key_services import revoke_api_key

    api_key, key = partner
    assert call(app, key=key, body=[reading(1)]).status_code == 202
    revoke_api_key(user=None, api_key=api_key)
    # The front still recognises the key from memory; the group's check refuses it.
    answer = call(app, key=key, body=[reading(2)])
    assert answer.status_code in (401, 403), answer.body
    assert PushReceipt.objects.count() == 1


def test_replays_and_conflicts_are_the_views_200_and_409(app, partner):
    _api_key, key = partner
    first = call(app, key=key, body=readings(0, 3), HTTP_IDEMPOTENCY_KEY="k-7")
    again = call(app, key=key, body=readings(0, 3), HTTP_IDEMPOTENCY_KEY="k-7")
    other = call(app, key=key, body=readings(0, 4), HTTP_IDEMPOTENCY_KEY="k-7")
    assert (first.status_code, again.status_code, other.status_code) == (202, 200, 409)
    assert again.json()["id"] == first.json()["id"] and again.json()["replayed"] is True
    assert other.json()["receipt"] == first.json()["id"]
    assert PushReceipt.objects.count() == 1


def test_the_key_rate_is_counted_once_whichever_way_the_push_goes(app, partner, make_user):
    from rest_framework.test import APIClient

    from streaming.services import set_push_rate

    api_key, key = partner
    set_push_rate(user=make_user(superuser=True, username="root"), api_key=api_key, rate="3/min")
    statuses = [call(app, key=key, body=[reading(n)]).status_code for n in range(2)]
    # A request the front hands to the view (a bad body) is counted once, by the front.
    statuses.append(call(app, key=key, body=[]).status_code)
    throttled = call(app, key=key, body=[reading(5)])
    assert [*statuses, throttled.status_code] == [202, 202, 400, 429]
    assert 0 < int(throttled.headers["Retry-After"]) <= 60
    assert _words(throttled.json()["detail"]) == _words(_view_throttled(key)["detail"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert client.post(PUSHES, [reading(6)], format="json").status_code == 429
    assert PushReceipt.objects.count() == 2


def _words(detail: str) -> str:
    return re.sub(r"\d+", "N", detail)


def _view_throttled(key: str) -> dict:
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    answer = client.post(PUSHES, [reading(7)], format="json")
    assert answer.status_code == 429
    detail = answer.json()["detail"]
    # The same words; the seconds left may differ by the time between the two calls.
    return {"detail": detail}


def test_a_group_the_database_did_not_commit_is_503_and_nothing_is_kept(app, partner, monkeypatch):
    _api_key, key = partner

    def down(pushes):
        raise OperationalError("server closed the connection unexpectedly")

    app.committer.committer.accept = down
    answer = call(app, key=key, body=[reading(1)], HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "1"
    assert "Idempotency-Key" in answer.json()["detail"]
    assert not PushReceipt.objects.exists()


def test_an_unexpected_failure_sends_the_push_the_ordinary_way(app, partner):
    _api_key, key = partner

    def broken(pushes):
        raise RuntimeError("bug")

    app.committer.committer.accept = broken
    answer = call(app, key=key, body=[reading(1)])
    assert answer.status_code == 202 and PushReceipt.objects.count() == 1


def test_the_front_is_off_where_tasks_run_in_process():
    front = PushFront(WSGIHandler())
    assert front.enabled is False  # the test settings run tasks eagerly


@pytest.mark.postgres
def test_concurrent_pushes_share_group_commits_and_each_is_stored_once(partner):
    if connection.vendor != "postgresql":
        pytest.skip("the committer thread needs PostgreSQL")
    _api_key, key = partner
    front = PushFront(WSGIHandler())
    front._enabled = True
    answers: dict[int, Answer] = {}

    def push(n: int) -> None:
        answers[n] = call(front, key=key, body=readings(10 * n, 10), HTTP_IDEMPOTENCY_KEY=f"c{n}")

    threads = [threading.Thread(target=push, args=(n,)) for n in range(24)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        front.committer.stop()
    assert sorted(a.status_code for a in answers.values()) == [202] * 24
    ids = {answer.json()["id"] for answer in answers.values()}
    assert len(ids) == 24
    receipts = PushReceipt.objects.filter(pk__in=ids)
    assert sorted(r.idempotency_key for r in receipts) == sorted(f"c{n}" for n in range(24))
    assert sum(r.row_count for r in receipts) == 240
    # Every receipt is listed by exactly one audit event (one event per group).
    listed = [
        pk
        for detail in AuditEvent.objects.filter(action="upload").values_list("detail", flat=True)
        for pk in detail.get("receipts", [])
    ]
    assert sorted(listed) == sorted(ids)
    assert AuditEvent.objects.filter(action="upload").count() <= 24


def test_gunicorn_parses_http_in_c():
    """The web server takes its C HTTP parser (gunicorn_h1c, requirements.txt): a
    version gunicorn does not accept would silently fall back to the Python one."""
    from gunicorn.config import Config
    from gunicorn.http import message

    assert message._check_fast_parser(Config()) is True
