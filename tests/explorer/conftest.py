"""Fixtures of the explorer tests: the permission tests' records, grants and users."""

from __future__ import annotations

import pytest

from tests.permissions.conftest import (  # noqa: F401 - fixtures
    _clear_throttle_cache,
    _fast_password_hasher,
    grant,
    records,
)


@pytest.fixture
def staff_client(client, make_user):
    """staff_client(department) -> a test client logged in as that department's staff."""

    def make(department: str, **kwargs):
        user = make_user(department, **kwargs)
        client.force_login(user)
        return client, user

    return make
