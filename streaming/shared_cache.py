"""The Redis client of the push path's counters and marks (HUB_CACHE_URL), kept per process.

Django's RedisCache builds a new client object (and its table of reply callbacks) for
every call, which costs more than the call; the push path makes one or two such calls
per push, so it keeps one client. Without HUB_CACHE_URL the callers use Django's cache.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

_clients: dict[str, Any] = {}


def shared_redis():
    """A Redis client for HUB_CACHE_URL (thread-safe, reconnects after a fork), or None."""
    url = getattr(settings, "HUB_CACHE_URL", "")
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(
            url, socket_timeout=1, socket_connect_timeout=1
        )
    return client
