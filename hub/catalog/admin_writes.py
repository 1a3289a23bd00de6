"""The resource admin's writes, through the checked and audited catalog services.

Django's admin would save the resource and its field rows (信息项) itself, unchecked per
object and unaudited; here every save and delete is a service call
(``hub.catalog.services``), inside the admin's own transaction, so the audit log gets one
``catalog_change`` event per resource or field written, with old and new values.
"""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest

from hub.catalog.models import DataResource, FieldSpec
from hub.catalog.services import (
    CREATE_REFUSED,
    FIELD_SPEC_FIELDS,
    MOVE_REFUSED,
    RESOURCE_FIELDS,
    create_field_spec,
    create_resource,
    delete_field_spec,
    delete_resource,
    may_create_resource,
    may_move_resource,
    update_field_spec,
    update_resource,
)


class CatalogWritesMixin:
    """For ``DataResourceAdmin``: saves and deletes go through the catalog services."""

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        base = super().get_form(request, obj, change=change, **kwargs)
        user = request.user

        class CheckedResourceForm(base):
            """Refuses, as a form error, a provider the user may not act for."""

            def clean(self):
                cleaned = super().clean()
                provider = cleaned.get("provider")
                if provider is None:
                    return cleaned
                creating = self.instance.pk is None
                if creating and not may_create_resource(user, provider):
                    self.add_error("provider", str(CREATE_REFUSED))
                # Before _post_clean the instance still holds the stored provider.
                moving = not creating and "provider" in self.changed_data
                if moving and not may_move_resource(user, self.instance.provider, provider):
                    self.add_error("provider", str(MOVE_REFUSED))
                return cleaned

        return CheckedResourceForm

    def save_model(self, request: HttpRequest, obj: DataResource, form, change: bool) -> None:
        if not change:
            create_resource(user=request.user, resource=obj)
            return
        names = [name for name in form.changed_data if name in RESOURCE_FIELDS]
        if names:
            update_resource(
                user=request.user,
                resource=obj,
                changes={name: getattr(obj, name) for name in names},
            )

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        if formset.model is not FieldSpec:
            super().save_formset(request, form, formset, change)
            return
        formset.save(commit=False)
        user = request.user
        # Deletions first, so a field removed and re-added under its name does not clash.
        for spec in formset.deleted_objects:
            delete_field_spec(user=user, field_spec=spec)
        for spec, changed in formset.changed_objects:
            names = [name for name in changed if name in FIELD_SPEC_FIELDS]
            if names:
                update_field_spec(
                    user=user,
                    field_spec=spec,
                    changes={name: getattr(spec, name) for name in names},
                )
        for spec in formset.new_objects:
            create_field_spec(user=user, field_spec=spec)

    def delete_model(self, request: HttpRequest, obj: DataResource) -> None:
        delete_resource(user=request.user, resource=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        # All or nothing: one resource the user may not delete refuses the whole action.
        with transaction.atomic():
            for resource in queryset.order_by("pk"):
                delete_resource(user=request.user, resource=resource)
