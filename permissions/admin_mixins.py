"""Admin mixins that route every admin queryset through the permission chokepoint."""

from __future__ import annotations

from django.contrib.admin.utils import unquote
from django.http import Http404, HttpRequest

from permissions.selectors import MANAGE_RESOURCE, VIEW_METADATA, can, restrict


class HiddenIs404Mixin:
    """Objects outside ``get_queryset`` are 404 on their change, history and delete pages
    (Django's admin would redirect to the index instead)."""

    def _visible_or_404(self, request: HttpRequest, object_id: str) -> None:
        # Django's admin redirects to the index for unknown objects; hidden ones are 404.
        if self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def change_view(self, request: HttpRequest, object_id, form_url="", extra_context=None):
        self._visible_or_404(request, object_id)
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(self, request: HttpRequest, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request: HttpRequest, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().delete_view(request, object_id, extra_context)


class RestrictedAdminMixin(HiddenIs404Mixin):
    """Admin mixin: list and detail pages only show what ``restrict()`` lets the user see."""

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
