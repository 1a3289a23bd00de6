"""Per-key push throttle: the rate set for the key in the admin (推送限流), else the default.

The push endpoint uses this throttle instead of the general per-key one, so a partner
system's push rate is set per key without widening its reads. The count is a window
counter in the cache (one increment per push, or per lease of pushes, where DRF's
throttles keep and rewrite a list of every request's time): the push front and the view
count with the same ``count_push``, and a push the front counted is not counted again
by the view. With ``HUB_CACHE_URL`` (Redis) the count is shared by every web process
(each takes its pushes from it in leases, ``LEASE_SIZE``); with the embedded default's
local cache it is per process.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from hub.catalog.restricted import policy_function
from permissions.models import PartnerApiKey
from streaming.models import PushQuota
from streaming.shared_cache import shared_redis

# A key's rate is read once per this many seconds per web process (one query less per
# push); set_push_rate forgets it at once in its own process.
RATE_CACHE_SECONDS = 10

# Set in the WSGI environ (request.META) by the push front once it counted the push.
COUNTED = "hub.push.counted"

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

logger = logging.getLogger(__name__)


def default_push_rate() -> str:
    return getattr(settings, "HUB_PUSH_THROTTLE", "6000/min")


def rate_cache_key(api_key_pk: str) -> str:
    return f"streaming:push-rate:{api_key_pk}"


_rates: dict[str, tuple[str, float]] = {}


@policy_function
def key_push_rate(api_key: PartnerApiKey) -> str:
    """The push rate configured for the key (the throttle's own read), else the default;
    kept in the process for RATE_CACHE_SECONDS."""
    cache_key = rate_cache_key(api_key.pk)
    known = _rates.get(cache_key)
    if known is not None and known[1] > time.monotonic():
        rate = known[0]
    else:
        rate = PushQuota.objects.filter(api_key=api_key).values_list("rate", flat=True).first()
        rate = rate or ""
        _rates[cache_key] = (rate, time.monotonic() + RATE_CACHE_SECONDS)
    return rate or default_push_rate()


def forget_push_rate(api_key_pk: str) -> None:
    _rates.pop(rate_cache_key(api_key_pk), None)


# A web process takes a key's pushes from the shared counter in leases of up to this many
# (a 1/LEASE_SHARE share of the rate at most, so small rates are counted push by push): one
# Redis round trip per lease instead of per push. A lease lives only as long as the
# window it was taken in; what it leaves unused counts as used.
LEASE_SIZE = 16
LEASE_SHARE = 200


@dataclass
class _Lease:
    limit: int
    left: int
    until: float  # time.monotonic() when the counter's window ends


_leases: dict[str, _Lease] = {}
_leases_lock = threading.Lock()


def lease_size(limit: int) -> int:
    return max(1, min(LEASE_SIZE, limit // LEASE_SHARE))


def count_push(prefix: str, rate: str) -> float | None:
    """Count one push of the key ``prefix`` against ``rate`` (``N/period``): None when
    allowed, else the seconds until its window ends. A window starts at the key's first
    push after the previous one ended. An unreachable cache refuses nothing."""
    counter = f"hub:push-count:{prefix}"
    try:
        count, _sep, period = rate.partition("/")
        limit, seconds = int(count), _PERIODS[period[:1]]
        client = shared_redis()
        if client is not None:
            return _count_shared(client, counter, limit, seconds)
        if cache.add(counter, 1, timeout=seconds):
            cache.set(f"{counter}:start", time.time(), timeout=seconds)
            return None
        used = cache.incr(counter)
        if used <= limit:
            return None
        began = cache.get(f"{counter}:start")
    except (ValueError, KeyError):
        return None  # the window ended between two calls (a new one starts), or no rate
    except Exception:
        logger.warning("push throttle: cache unreachable, push not counted", exc_info=True)
        return None
    return max(0.0, float(began) + seconds - time.time()) if began else float(seconds)


def _count_shared(client, counter: str, limit: int, seconds: int) -> float | None:
    """``count_push`` on the shared Redis counter, through this process's lease."""
    with _leases_lock:
        lease = _leases.get(counter)
        usable = lease is not None and lease.limit == limit and lease.left > 0
        if usable and lease.until > time.monotonic():
            lease.left -= 1
            return None
    # Outside the lock: a slow or unreachable cache must not queue every request behind
    # one. Two threads may each take a lease; both count in the shared counter.
    size = lease_size(limit)
    asked = time.monotonic()
    # One round trip: the window opened by its first push (SET NX, any Redis version),
    # the count with this lease, and the time left.
    _opened, used, left = (
        client.pipeline(transaction=False)
        .set(counter, 0, ex=seconds, nx=True)
        .incrby(counter, size)
        .pttl(counter)
        .execute()
    )
    granted = min(size, limit - (used - size))
    with _leases_lock:
        if granted <= 0:
            _leases.pop(counter, None)
            return max(0.0, left / 1000)
        if len(_leases) > 10_000:
            _leases.clear()
        # The window's end as seen before asking: the lease never outlives its window.
        until = asked + left / 1000 if left > 0 else asked
        _leases[counter] = _Lease(limit=limit, left=granted - 1, until=until)
    return None


def forget_leases() -> None:
    """Drop this process's leases (tests; a key whose counter was reset)."""
    with _leases_lock:
        _leases.clear()


class PushKeyRateThrottle(BaseThrottle):
    """Throttle pushes per API key (scope ``push``) at the key's configured rate."""

    scope = "push"

    def __init__(self) -> None:
        self.remaining: float | None = None

    def allow_request(self, request: Request, view) -> bool:
        if request.META.get(COUNTED) or not isinstance(request.auth, PartnerApiKey):
            return True
        self.remaining = count_push(request.auth.prefix, key_push_rate(request.auth))
        return self.remaining is None

    def wait(self) -> float | None:
        return self.remaining
