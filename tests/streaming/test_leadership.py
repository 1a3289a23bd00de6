"""One bridge at a time serves an MQTT session: a PostgreSQL advisory lock per client id,
freed when the holder's database session ends."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from streaming.leadership import Leadership, _watched, lock_key


def test_lock_keys_are_stable_signed_64_bit_and_differ_by_client_id():
    assert lock_key("hub-bridge") == lock_key("hub-bridge")
    assert lock_key("hub-bridge") != lock_key("hub-bridge-2")
    assert all(-(2**63) <= lock_key(name) < 2**63 for name in ("a", "hub-bridge", "长"))


def test_without_postgresql_a_file_lock_lets_one_bridge_of_the_host_serve(
    db, monkeypatch, tmp_path
):
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    first, second, other = (Leadership(name) for name in ("x", "x", "y"))
    for leadership in (first, second, other):
        monkeypatch.setattr(leadership, "enabled", False)
    try:
        assert first.wait(threading.Event()) is True and first.held() is True
        assert second.try_acquire() is False and second.held() is False
        assert other.try_acquire() is True
        first.release()
        assert first.held() is False
        assert second.try_acquire() is True
    finally:
        for leadership in (first, second, other):
            leadership.release()


@pytest.fixture
def lock(db):
    made: list[Leadership] = []

    def make(name: str = "hub-bridge") -> Leadership:
        made.append(Leadership(name, poll=0.01))
        return made[-1]

    yield make
    for leadership in made:
        leadership.release()


@pytest.mark.postgres
def test_one_holder_per_client_id_until_it_lets_go(lock):
    first, second, other = lock(), lock(), lock("hub-bridge-2")
    assert first.try_acquire() is True
    assert second.try_acquire() is False
    assert other.try_acquire() is True  # another session, another lock
    assert first.held() is True and second.held() is False
    first.release()
    assert first.held() is False
    assert second.try_acquire() is True


@pytest.mark.postgres
def test_a_holder_whose_database_session_ends_knows_it_and_a_standby_takes_over(lock):
    serving, standby = lock(), lock()
    assert serving.wait(threading.Event()) is True
    with serving._connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    with connection.cursor() as cursor:  # as a database restart or a network cut would
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert serving.held() is False
    assert standby.wait(threading.Event()) is True
    assert serving.try_acquire() is False  # it reconnects, and stands by


@pytest.mark.postgres
def test_waiting_ends_when_the_bridge_is_told_to_stop(lock):
    assert lock().try_acquire() is True
    stopping = threading.Event()
    stopping.set()
    assert lock().wait(stopping) is False


def test_the_lock_connection_watches_its_peer_on_both_sides():
    settings = _watched({"NAME": "hub", "OPTIONS": {"options": "-c search_path=hub"}})
    assert settings["OPTIONS"]["keepalives_idle"] == 5
    assert settings["OPTIONS"]["tcp_user_timeout"] == 10000
    assert settings["OPTIONS"]["options"].startswith("-c search_path=hub -c tcp_keepalives")


@pytest.mark.postgres
def test_the_server_ends_a_silent_lock_holders_session_within_seconds(lock):
    holder = lock()
    assert holder.try_acquire() is True
    with holder._connection.cursor() as cursor:
        cursor.execute(
            "SELECT inet_client_addr() IS NOT NULL, current_setting('tcp_keepalives_idle'),"
            " current_setting('tcp_user_timeout'), current_setting('statement_timeout')"
        )
        over_tcp, idle, user_timeout, statement_timeout = cursor.fetchone()
    assert statement_timeout == "10s"
    if over_tcp:  # on a Unix socket there is no TCP to watch
        assert (idle, user_timeout) == ("5", "10000")
