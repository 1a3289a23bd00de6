"""Concurrent audit writers cannot fork the chain (PostgreSQL: real parallel connections)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from permissions.audit import log_event, verify_chain
from permissions.models import AuditEvent

WRITERS = 4
EVENTS = 15


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_keep_one_chain():
    log_event(actor=None, action="start")
    barrier = threading.Barrier(WRITERS)
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            barrier.wait(timeout=30)
            for index in range(EVENTS):
                log_event(actor=None, action="test", rows=worker * 100 + index)
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert AuditEvent.objects.count() == 1 + WRITERS * EVENTS
    report = verify_chain()
    assert report.ok, report
    assert report.checked == 1 + WRITERS * EVENTS
