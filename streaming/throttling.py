"""Per-key push throttle: the rate set for the key in the admin (推送限流), else the default.

The push endpoint uses this throttle instead of the general per-key one, so a partner
system's push rate is set per key without widening its reads.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from hub.catalog.restricted import policy_function
from permissions.authentication import request_key_prefix
from permissions.models import PartnerApiKey
from streaming.models import PushQuota

# A key's rate is read once per this many seconds per web process (one query less per
# push); set_push_rate forgets it at once in its own process.
RATE_CACHE_SECONDS = 10


def default_push_rate() -> str:
    return getattr(settings, "HUB_PUSH_THROTTLE", "6000/min")


def rate_cache_key(api_key_pk: str) -> str:
    return f"streaming:push-rate:{api_key_pk}"


@policy_function
def key_push_rate(api_key: PartnerApiKey) -> str:
    """The push rate configured for the key (the throttle's own read), else the default."""
    cache_key = rate_cache_key(api_key.pk)
    rate = cache.get(cache_key)
    if rate is None:
        rate = PushQuota.objects.filter(api_key=api_key).values_list("rate", flat=True).first()
        rate = rate or ""
        cache.set(cache_key, rate, RATE_CACHE_SECONDS)
    return rate or default_push_rate()


class PushKeyRateThrottle(SimpleRateThrottle):
    """Throttle pushes per API key (scope ``push``) at the key's configured rate."""

    scope = "push"

    def get_rate(self) -> str:
        return default_push_rate()

    def allow_request(self, request: Request, view) -> bool:
        if isinstance(request.auth, PartnerApiKey):
            self.rate = key_push_rate(request.auth)
            self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request: Request, view) -> str | None:
        prefix = request_key_prefix(request)
        if not prefix:
            return None
        return self.cache_format % {"scope": self.scope, "ident": prefix}
