"""Health probes and structured logging."""

import json
import logging

import pytest

from hub.logs import ContextFilter, JsonFormatter, log_context


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_ok_in_process(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    body = client.get("/readyz").json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"] == {"ok": True, "mode": "in-process"}


@pytest.mark.django_db
def test_readyz_reports_unreachable_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


@pytest.mark.broker
@pytest.mark.django_db
def test_readyz_with_real_broker(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    body = client.get("/readyz").json()
    assert body["checks"]["broker"]["ok"] is True
    assert "ms" in body["checks"]["broker"]


def _format(record: logging.LogRecord) -> dict:
    ContextFilter().filter(record)
    return json.loads(JsonFormatter().format(record))


def test_json_log_lines_carry_context_and_extras():
    record = logging.LogRecord(
        "hub.ingest", logging.INFO, __file__, 1, "loaded %s rows", (5,), None
    )
    with log_context(batch=42, resource="road-ponding"):
        record.phase = "upsert"
        line = _format(record)
    assert line["message"] == "loaded 5 rows"
    assert line["level"] == "INFO" and line["logger"] == "hub.ingest"
    assert (line["batch"], line["resource"], line["phase"]) == (42, "road-ponding", "upsert")


def test_log_context_is_restored_after_block():
    with log_context(batch=1), log_context(chunk=3):
        inner = _format(logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None))
    outer = _format(logging.LogRecord("x", logging.INFO, __file__, 1, "m", (), None))
    assert (inner["batch"], inner["chunk"]) == (1, 3)
    assert "batch" not in outer and "chunk" not in outer
