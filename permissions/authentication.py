"""Partner API key authentication (``Authorization: Api-Key <key>``) and per-key throttling."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle

from permissions.models import ApiKeyScope, PartnerApiKey
from permissions.selectors import set_memberships

KEYWORD = "Api-Key"


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticate as the key's department service user; ``request.auth`` is the key.

    The key is checked on every request, so revocation and expiry apply to the very
    next request. Unknown, revoked and expired keys all fail the same way.
    """

    def authenticate(self, request: Request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _sep, key = header.partition(" ")
        if scheme != KEYWORD:
            return None
        key = key.strip()
        if not key:
            raise exceptions.AuthenticationFailed(_("缺少接口密钥。"))
        try:
            api_key = PartnerApiKey.objects.get_from_key(key)
        except PartnerApiKey.DoesNotExist as exc:
            raise exceptions.AuthenticationFailed(_("接口密钥无效、已过期或已吊销。")) from exc
        department = api_key.department
        if api_key.has_expired or not api_key.user.is_active or not department.is_active:
            raise exceptions.AuthenticationFailed(_("接口密钥无效、已过期或已吊销。"))
        # A key acts for its own department only (and saves the department lookup); a key
        # with the push scope uploads to its department's resources (the policy reads it).
        set_memberships(
            api_key.user,
            group_ids=[department.group_id],
            department_ids=[department.pk],
            may_push=api_key.has_scope(ApiKeyScope.PUSH),
        )
        return api_key.user, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


def signing_key(prefix: str) -> tuple[PartnerApiKey, bytes] | None:
    """The usable key with ``prefix`` and its message-signing secret, acting for its
    department (like ``authenticate``), or None: unknown, revoked, expired, inactive.

    The secret is the hex SHA-512 of the key, which is all the hub stores of it (the key
    itself is never kept): a partner derives it from its key, the hub reads it from the
    stored hash. Keys still hashed by an older hasher have none (None).
    """
    if not prefix or len(prefix) > 16:
        return None
    api_key = PartnerApiKey.objects.get_usable_keys().filter(prefix=prefix).first()
    if api_key is None:
        return None
    department = api_key.department
    if api_key.has_expired or not api_key.user.is_active or not department.is_active:
        return None
    algorithm, _salt, digest = api_key.hashed_key.partition("$$")
    if algorithm != "sha512" or not digest:
        return None
    set_memberships(
        api_key.user,
        group_ids=[department.group_id],
        department_ids=[department.pk],
        may_push=api_key.has_scope(ApiKeyScope.PUSH),
    )
    return api_key, digest.encode("ascii")


def request_key_prefix(request) -> str:
    """The prefix of the API key a request authenticated with, or ''."""
    auth = getattr(request, "auth", None)
    return auth.prefix if isinstance(auth, PartnerApiKey) else ""


class ApiKeyRateThrottle(SimpleRateThrottle):
    """Throttle per API key (scope ``api_key``); other requests are left to other throttles."""

    scope = "api_key"

    def get_cache_key(self, request: Request, view) -> str | None:
        prefix = request_key_prefix(request)
        if not prefix:
            return None
        return self.cache_format % {"scope": self.scope, "ident": prefix}


class SessionUserRateThrottle(SimpleRateThrottle):
    """Throttle per signed-in user (scope ``user``) for requests without an API key."""

    scope = "user"

    def get_cache_key(self, request: Request, view) -> str | None:
        if request_key_prefix(request) or not request.user.is_authenticated:
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.user.pk}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Describes ``Authorization: Api-Key <key>`` in the OpenAPI schema."""

    target_class = "permissions.authentication.ApiKeyAuthentication"
    name = "ApiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Partner API key: `Api-Key <key>`",
        }
