"""Fixtures of the push path tests: API key clients and readings to push."""

from __future__ import annotations

import pytest

RESOURCE = "gas-pipeline-pressure"  # provided by housing
PUSHES = f"/api/v1/resources/{RESOURCE}/pushes/"


def reading(i: int, *, pressure: float = 0.35, minute: int = 30) -> dict:
    return {
        "point_id": f"GP{i:06d}",
        "observed_at": f"2025-07-01T14:{minute:02d}:00+08:00",
        "district": "310101",
        "pressure": pressure,
    }


def readings(start: int, count: int, **kwargs) -> list[dict]:
    return [reading(i, **kwargs) for i in range(start, start + count)]


@pytest.fixture
def key_client(db):
    """key_client(department_code, scopes=[...]) -> (APIClient with the key, PartnerApiKey)."""
    from rest_framework.test import APIClient

    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    def make(department: str, **kwargs):
        api_key, key = create_api_key(
            department=Department.objects.get(code=department), name="partner", **kwargs
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client, api_key

    return make


@pytest.fixture
def no_flush(monkeypatch):
    """Pushes are accepted but their flush is never sent (a lost task)."""
    import streaming.services

    sent: list[int] = []
    monkeypatch.setattr(
        streaming.services, "schedule_flush", lambda *, resource_id, now=False: sent.append(1)
    )
    return sent


class Inline:
    """The committer, run in the calling thread; counts the groups it committed."""

    def __init__(self, committer):
        self.committer, self.groups = committer, 0

    def submit(self, push, *, timeout):
        from streaming.committer import Waiting

        waiting = Waiting(push)
        self.committer.commit([waiting])
        self.groups += 1
        return waiting.outcome


@pytest.fixture
def app(settings):
    """The push front around Django, enabled, its committer inline (one push a group)."""
    from django.core.handlers.wsgi import WSGIHandler

    from streaming.front import PushFront

    front = PushFront(WSGIHandler())
    front._enabled = True
    front.committer = Inline(front.committer)
    return front
