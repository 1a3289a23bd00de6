"""Fixtures of the governance tests: the permission tests' records and grants."""

from tests.permissions.conftest import (  # noqa: F401
    _clear_throttle_cache,
    _fast_password_hasher,
    grant,
    records,
)
