"""The push throttle's leases on the shared counter (HUB_CACHE_URL = Redis): a web
process takes a key's pushes in leases, one round trip per lease, and never lets a key
past its rate, whatever the number of processes."""

from __future__ import annotations

import os
import time
import uuid

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from streaming import throttling

pytestmark = pytest.mark.redis


@pytest.fixture
def shared(settings):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    settings.HUB_CACHE_URL = broker.rsplit("/", 1)[0] + "/14"
    throttling.forget_leases()
    yield throttling.shared_redis()
    throttling.forget_leases()


def _process(leases: dict):
    """Act as the web process whose leases are ``leases``."""
    throttling._leases = leases


def test_small_rates_are_counted_push_by_push(shared):
    prefix = uuid.uuid4().hex[:12]
    answers = [throttling.count_push(prefix, "3/min") for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(0 < wait <= 60 for wait in answers[3:])
    assert int(shared.get(f"hub:push-count:{prefix}")) == 5


def test_one_round_trip_per_lease(shared):
    prefix = uuid.uuid4().hex[:12]
    rate = f"{throttling.LEASE_SIZE * throttling.LEASE_SHARE}/min"
    assert [throttling.count_push(prefix, rate) for _ in range(40)] == [None] * 40
    # 40 pushes took three leases of 16: the counter holds what the leases took.
    assert int(shared.get(f"hub:push-count:{prefix}")) == 48


def test_a_lease_ends_with_its_window(shared):
    prefix = uuid.uuid4().hex[:12]
    rate = f"{throttling.LEASE_SIZE * throttling.LEASE_SHARE}/min"
    assert throttling.count_push(prefix, rate) is None
    shared.delete(f"hub:push-count:{prefix}")  # the window ended (expired) meanwhile
    counter = f"hub:push-count:{prefix}"
    throttling._leases[counter].until = 0.0
    assert throttling.count_push(prefix, rate) is None
    assert int(shared.get(counter)) == throttling.LEASE_SIZE  # a new lease, a new window


# Each example counts under a new key, with lease tables of its own.
@hsettings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    limit=st.integers(1, 8000),
    processes=st.integers(1, 4),
    calls=st.lists(st.integers(0, 3), min_size=1, max_size=400),
)
def test_no_key_passes_its_rate_whatever_the_processes(shared, limit, processes, calls):
    prefix = uuid.uuid4().hex[:12]
    tables = [{} for _ in range(processes)]
    allowed = 0
    saved = throttling._leases
    try:
        for call in calls:
            _process(tables[call % processes])
            allowed += throttling.count_push(prefix, f"{limit}/h") is None
    finally:
        throttling._leases = saved
    used = min(len(calls), limit)
    assert allowed <= limit
    # What unused leases hold back is at most one lease less a push per process.
    assert allowed >= used - processes * (throttling.lease_size(limit) - 1)


def test_a_window_mark_known_set_is_not_asked_again(shared):
    from streaming import services

    mark = f"streaming:flush:test-{uuid.uuid4().hex[:8]}"
    services._marks_alive.pop(mark, None)
    assert services._mark_window(mark, 5.0) is True  # the window's first push
    assert 4.0 < shared.pttl(mark) / 1000 <= 5.0
    shared.delete(mark)
    # Known alive in this process: no question, so the deleted mark is not set again.
    assert services._mark_window(mark, 5.0) is False
    assert shared.exists(mark) == 0
    services._clear_mark(mark)  # a failed send forgets it here too
    assert services._mark_window(mark, 5.0) is True
    assert shared.exists(mark) == 1


def test_a_mark_another_process_set_is_known_until_it_lapses(shared):
    from streaming import services

    mark = f"streaming:flush:test-{uuid.uuid4().hex[:8]}"
    services._marks_alive.pop(mark, None)
    shared.set(mark, 1, px=3000)
    assert services._mark_window(mark, 5.0) is False
    # Remembered for the mark's own remaining life, not a whole window.
    assert 0 < services._marks_alive[mark] - time.monotonic() <= 3.0
    services._marks_alive[mark] = 0.0  # its life is over here
    shared.delete(mark)
    assert services._mark_window(mark, 5.0) is True
    services._clear_mark(mark)
