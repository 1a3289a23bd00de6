"""Admin mixins that route every admin queryset through the permission chokepoint."""

from __future__ import annotations

from django.http import HttpRequest

from permissions.selectors import MANAGE_RESOURCE, VIEW_METADATA, can, restrict


class RestrictedAdminMixin:
    """Admin mixin: list and detail pages only show what ``restrict()`` lets the user see.

    Objects outside the restricted queryset are 404 on their change page, as Django's
    admin looks them up through ``get_queryset``.
    """

    restrict_action = VIEW_METADATA

    def get_queryset(self, request: HttpRequest):
        queryset = super().get_queryset(request)
        return restrict(queryset, request.user, self.restrict_action)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        resource = getattr(obj, "resource", obj)
        return can(request.user, MANAGE_RESOURCE, resource)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        if not allowed or obj is None or request.user.is_superuser:
            return allowed
        resource = getattr(obj, "resource", obj)
        return can(request.user, MANAGE_RESOURCE, resource)
