"""The push committer (streaming/committer.py): groups, timeouts, refused values.

No database: ``accept`` is a stand-in, so each rule is checked alone. Threads are
synchronised with events, never with sleeps.
"""

from __future__ import annotations

import threading

import pytest
from django.db import DataError, OperationalError

from streaming.committer import DELEGATE, UNCOMMITTED, Committer
from streaming.models import valid_rate


@pytest.mark.django_db
def test_a_value_the_database_refuses_fails_only_its_own_push():
    groups: list[list[str]] = []

    def accept(pushes):
        groups.append(list(pushes))
        if "poison" in pushes:
            raise DataError("unsupported Unicode escape sequence")
        return [f"stored {push}" for push in pushes]

    committer = Committer(accept)
    from streaming.committer import Waiting

    group = [Waiting(push) for push in ("a", "poison", "b")]
    committer.commit(group)
    assert [w.outcome for w in group] == ["stored a", DELEGATE, "stored b"]
    assert groups == [["a", "poison", "b"], ["a"], ["poison"], ["b"]]


@pytest.mark.django_db
def test_a_lost_database_answers_the_whole_group_uncommitted():
    from streaming.committer import Waiting

    def accept(pushes):
        raise OperationalError("server closed the connection unexpectedly")

    group = [Waiting(push) for push in ("a", "b")]
    Committer(accept).commit(group)
    assert [w.outcome for w in group] == [UNCOMMITTED, UNCOMMITTED]


def test_a_push_taken_by_a_slow_group_gets_its_outcome_and_a_queued_one_is_dropped():
    entered, release = threading.Event(), threading.Event()
    accepted: list[str] = []

    def accept(pushes):
        entered.set()
        assert release.wait(30)
        accepted.extend(pushes)
        return [f"stored {push}" for push in pushes]

    committer = Committer(accept)
    outcomes: dict[str, object] = {}
    first = threading.Thread(
        target=lambda: outcomes.__setitem__("slow", committer.submit("slow", timeout=0.05))
    )
    first.start()
    assert entered.wait(30)  # the group holding "slow" is committing
    # Queued behind it and timed out: never taken, so never stored.
    assert committer.submit("late", timeout=0.05) == UNCOMMITTED
    release.set()
    first.join(30)
    # Past its timeout too, but taken: it waits for, and reports, the real outcome.
    assert outcomes["slow"] == "stored slow"
    assert committer.submit("next", timeout=30) == "stored next"
    committer.stop()
    assert accepted == ["slow", "next"]


def test_the_thread_outlives_a_failing_group():
    calls: list[int] = []

    def accept(pushes):
        calls.append(len(pushes))
        if len(calls) == 1:
            raise RuntimeError("bug")
        return ["ok"] * len(pushes)

    committer = Committer(accept)
    assert committer.submit("a", timeout=30) == DELEGATE
    assert committer.submit("b", timeout=30) == "ok"
    committer.stop()


def test_push_rates_take_ascii_digits_only():
    assert valid_rate("6000/min") and valid_rate("100/s")
    assert not any(valid_rate(rate) for rate in ("²/min", "0/s", "5/", "fast", "-1/s", "5/w"))


def test_done_wakes_its_waiter_once_set_and_every_wait_after():
    from streaming.committer import Done

    done = Done()
    assert done.wait(0.01) is False and not done.is_set()
    woke: list[bool] = []
    waiter = threading.Thread(target=lambda: woke.append(done.wait(30)))
    waiter.start()
    done.set()
    waiter.join(30)
    assert woke == [True] and done.is_set()
    done.set()  # a second set changes nothing
    assert done.wait() is True and done.wait(0) is True
