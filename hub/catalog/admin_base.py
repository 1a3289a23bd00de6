"""Admin base classes that route every admin read and write through the model's door.

``RestrictedModelAdmin`` lists and opens only ``Model.objects.restrict(user, view)``
(hidden objects are 404, not a redirect), allows changing and deleting only what
``restrict(user, change|delete)`` returns, restricts the choices of every foreign key,
many-to-many field, raw-id label and related list filter to what the user may see, and
refuses bulk deletes that reach beyond the user's rights. Admin pages of reachable models
derive from it; ``tests/permissions/test_bypass_guard.py`` fails when one does not.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import widgets
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.text import Truncator

from hub.catalog.restricted import CHANGE, DELETE, VIEW, has_policy, restrict


def restricted_choices(model: type[models.Model], request: HttpRequest, action: str = VIEW):
    """The objects of ``model`` the user may ``action`` (all, for unrestricted models)."""
    queryset = model._default_manager.all()
    return restrict(queryset, request.user, action) if has_policy(model) else queryset


class RestrictedRawIdWidget(widgets.ForeignKeyRawIdWidget):
    """A raw-id input whose label (the name shown beside the id) comes from the objects
    the user may see: Django's reads the related model's default manager, so typing any
    id (``?point=11``) would name an object the user may not see."""

    def __init__(self, rel, admin_site, *, queryset: models.QuerySet, attrs=None, using=None):
        super().__init__(rel, admin_site, attrs=attrs, using=using)
        self.queryset = queryset

    def label_and_url_for_value(self, value):
        key = self.rel.get_related_field().name
        try:
            obj = self.queryset.using(self.db).filter(**{key: value}).first()
        except (ValueError, TypeError, ValidationError):
            return "", ""
        if obj is None:
            return "", ""  # the same as for an id that names nothing
        opts = obj._meta
        try:
            url = reverse(
                f"{self.admin_site.name}:{opts.app_label}_{opts.model_name}_change", args=(obj.pk,)
            )
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


def _raw_id_widget(model_admin, db_field, request: HttpRequest, kwargs: dict) -> None:
    """Give a raw-id foreign key the restricted widget (before Django picks its own)."""
    if "widget" in kwargs or db_field.name not in model_admin.raw_id_fields:
        return
    if db_field.name in model_admin.get_autocomplete_fields(request):
        return  # autocomplete wins in Django; its view reads the related admin's door
    kwargs["widget"] = RestrictedRawIdWidget(
        db_field.remote_field,
        model_admin.admin_site,
        queryset=kwargs["queryset"],
        using=kwargs.get("using"),
    )


class RestrictedRelatedFieldListFilter(admin.RelatedFieldListFilter):
    """A related-object list filter offering only objects the user may see that occur in
    the user's own changelist (Django's default lists every row of the related table)."""

    def field_choices(self, field, request, model_admin):
        queryset = restricted_choices(field.related_model, request).filter(
            pk__in=model_admin.get_queryset(request).values(field.name)
        )
        ordering = self.field_admin_ordering(field, request, model_admin)
        if ordering:
            queryset = queryset.order_by(*ordering)
        return [(obj.pk, str(obj)) for obj in queryset]


class HiddenIs404Mixin:
    """Objects outside ``get_queryset`` are 404 on their change, history and delete pages
    (Django's admin would redirect to the index instead)."""

    def _visible_or_404(self, request: HttpRequest, object_id: str) -> None:
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
    """The door for admin pages. ``restrict_action`` is the action listed pages need
    (``view``; e.g. ``view_records_clear`` for pages showing raw records);
    ``related_actions`` maps a foreign key to the action its choices need."""

    restrict_action = VIEW
    related_actions: dict[str, str] = {}

    def get_queryset(self, request: HttpRequest):
        return restrict(super().get_queryset(request), request.user, self.restrict_action)

    def _allowed(self, request: HttpRequest, obj, action: str) -> bool:
        if obj is None or obj.pk is None:
            return True
        queryset = self.model._default_manager.filter(pk=obj.pk)
        return restrict(queryset, request.user, action).exists()

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_change_permission(request, obj)
        return allowed and self._allowed(request, obj, CHANGE)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and self._allowed(request, obj, DELETE)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        allowed = restrict(queryset, request.user, DELETE)
        if allowed.count() != queryset.count():
            raise PermissionDenied
        super().delete_queryset(request, queryset)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        action = self.related_actions.get(db_field.name, VIEW)
        kwargs.setdefault("queryset", restricted_choices(db_field.related_model, request, action))
        _raw_id_widget(self, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        action = self.related_actions.get(db_field.name, VIEW)
        kwargs.setdefault("queryset", restricted_choices(db_field.related_model, request, action))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest):
        filters = []
        for entry in super().get_list_filter(request):
            name = entry[0] if isinstance(entry, tuple) else entry
            related_only = isinstance(entry, tuple) and issubclass(
                entry[1], admin.RelatedOnlyFieldListFilter
            )
            if (isinstance(entry, str) or related_only) and "__" not in name:
                field = self.model._meta.get_field(name)
                if field.is_relation and has_policy(field.related_model):
                    entry = (name, RestrictedRelatedFieldListFilter)
            filters.append(entry)
        return filters


class RestrictedModelAdmin(RestrictedAdminMixin, admin.ModelAdmin):
    """``admin.ModelAdmin`` behind the model's door."""


class RestrictedInline(admin.TabularInline):
    """Inline rows of a restricted parent, themselves restricted."""

    def get_queryset(self, request: HttpRequest):
        return restrict(super().get_queryset(request), request.user, VIEW)

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        kwargs.setdefault("queryset", restricted_choices(db_field.related_model, request))
        _raw_id_widget(self, db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        kwargs.setdefault("queryset", restricted_choices(db_field.related_model, request))
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ReadOnlyAdminMixin:
    """Objects written by a service or a worker alone: the admin shows them, never adds,
    changes or deletes them (actions that call services stay possible)."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
