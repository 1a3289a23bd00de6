"""What an API key may do: the "read" and "push" scopes of ``PartnerApiKey``.

``HasApiKeyScope`` (a global DRF permission, hub/settings ``DEFAULT_PERMISSION_CLASSES``)
checks the scope a request needs before the view runs: safe methods (GET, HEAD, OPTIONS)
need "read", others "push". A view may name another scope in ``api_key_scope`` (the
access-request workflow asks for "read": filing, approving or refusing a request to read
records writes no data into the hub). Requests without an API key (browser sessions) are
left to the other permissions. A missing scope is 403 naming it, whatever the resource, so
it reveals nothing about resources the caller may not see (those stay 404).

A push-scoped key uploads and pushes to the resources its own department provides,
without its service user holding the stewards' model permission: the authentication
pins that on the user and the upload policy (``restrict(user, upload_records)``) reads it.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from permissions.models import ApiKeyScope, PartnerApiKey


def required_scope(request: Request, view) -> str:
    """The scope the request needs: the view's ``api_key_scope``, else by method."""
    declared = getattr(view, "api_key_scope", None)
    if declared:
        return str(declared)
    return ApiKeyScope.READ if request.method in SAFE_METHODS else ApiKeyScope.PUSH


class HasApiKeyScope(BasePermission):
    """Requests authenticated with an API key need the scope of their method (403)."""

    def has_permission(self, request: Request, view) -> bool:
        api_key = request.auth
        if not isinstance(api_key, PartnerApiKey):
            return True
        scope = required_scope(request, view)
        if api_key.has_scope(scope):
            return True
        self.message = _("接口密钥没有“%(scope)s”权限范围（现有：%(scopes)s）。") % {
            "scope": scope,
            "scopes": ", ".join(api_key.scopes or []) or "-",
        }
        return False
