"""Checked, audited writes of the catalog: resources and their fields (信息项).

Every function checks the caller's right on the object, writes, and appends one
``catalog_change`` audit event in the same transaction: a refused or failed write leaves
neither the change nor its event. A call that changes nothing writes nothing (no event).

Who may write (docs/PERMISSIONS.md, "Writes"):

* superusers;
* holders of ``manage_resource`` on the resource (guardian, directly or through a group);
* stewards of the provider department: members of its group holding the model
  permission, ``catalog.change_dataresource`` to edit a resource and its fields,
  ``catalog.add_dataresource`` to create one for their department and
  ``catalog.delete_dataresource`` to delete one.

The object check is the resource's door (``DataResource.objects.restrict(user, change)``,
``permissions.policies``); the model permission is what makes a department member a
steward of the catalog.

Moving a resource to another provider needs membership of both departments (or
superuser): nobody takes a resource from, or hands one to, a department they cannot act for.

``hub.catalog.seed.upsert_resource`` stays the unchecked loader of the demo fixtures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hub.catalog.changes import Changes, apply_changes, editable_fields, initial_values
from hub.catalog.models import DataResource, Department, FieldSpec
from hub.catalog.restricted import CHANGE, DELETE, UserLike
from hub.catalog.signals import catalog_changed

MANAGE_RESOURCE = "manage_resource"

CATALOG_CHANGE = "catalog_change"
MOVE_REFUSED = _lazy("只能在本部门之间移交数据资源。")
CREATE_REFUSED = _lazy("只能为本部门创建数据资源。")
RESOURCE_FIELDS = editable_fields(DataResource)
FIELD_SPEC_FIELDS = editable_fields(FieldSpec, exclude=("resource",))


@dataclass(frozen=True)
class CatalogChange:
    """The outcome of one catalog write: what changed and the audit event recording it.

    ``event`` is None when nothing changed (nothing was written).
    """

    op: str
    resource: DataResource
    changes: Changes = field(default_factory=dict)
    field_spec: FieldSpec | None = None
    event: Any = None  # the audit event (permissions.AuditEvent) written with the change


def _active(user: UserLike) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def may_manage_resource(
    user: UserLike, resource: DataResource, *, model_perm: str, action: str = CHANGE
) -> bool:
    """Whether ``user`` may write something of ``resource`` guarded by ``model_perm``.

    The resource's door (``restrict(user, change|delete)``: provider department,
    ``manage_resource`` holders, superusers), and for the provider's staff also the model
    permission (``catalog.change_dataresource``, ``operations.add_rule``, …): a department
    member without it is staff, not a steward. ``manage_resource`` alone suffices.
    """
    if not _active(user):
        return False
    if not DataResource.objects.filter(pk=resource.pk).restrict(user, action).exists():
        return False
    if user.has_perm(model_perm):
        return True
    managed = DataResource.objects.filter(pk=resource.pk).restrict(user, MANAGE_RESOURCE)
    return managed.exists()


def may_edit_resource(user: UserLike, resource: DataResource, perm: str = CHANGE) -> bool:
    """Whether ``user`` may ``perm`` (change or delete) ``resource`` and its fields."""
    return may_manage_resource(
        user, resource, model_perm=f"catalog.{perm}_dataresource", action=perm
    )


def _member_of(user: UserLike) -> list[int]:
    """Ids of the departments the user acts for (the departments' door)."""
    return list(Department.objects.restrict(user, "member").values_list("pk", flat=True))


def may_move_resource(user: UserLike, old: Department, new: Department) -> bool:
    """Only someone acting for both departments (or a superuser) changes the provider."""
    return user.is_superuser or {old.pk, new.pk} <= set(_member_of(user))


def may_create_resource(user: UserLike, provider: Department | None) -> bool:
    """Whether ``user`` may create a resource provided by ``provider``: superusers, and
    members of that department holding ``catalog.add_dataresource``."""
    if not _active(user):
        return False
    if user.is_superuser:
        return True
    return (
        provider is not None
        and provider.pk in _member_of(user)
        and user.has_perm("catalog.add_dataresource")
    )


def check_edit(user: UserLike, resource: DataResource, perm: str = CHANGE) -> None:
    """Raise PermissionDenied unless ``user`` may edit ``resource``."""
    if not may_edit_resource(user, resource, perm):
        raise PermissionDenied(_("无权修改该数据资源。"))


def check_create(user: UserLike, provider: Department | None) -> None:
    """Raise PermissionDenied unless ``user`` may create a resource for ``provider``."""
    if not may_create_resource(user, provider):
        raise PermissionDenied(CREATE_REFUSED)


def _check_move(user: UserLike, old: Department, new: Department) -> None:
    if not may_move_resource(user, old, new):
        raise PermissionDenied(MOVE_REFUSED)


def _audit(user: UserLike, op: str, resource: DataResource, changes: Changes, **extra: Any) -> Any:
    # ``fields`` names the resource's fields the event concerns, as for reads.
    is_field = "field" in extra
    detail = {"object": "field" if is_field else "resource", "op": op, **extra}
    # The catalog is below the audit log: the permissions app appends the event on this
    # signal, in this transaction, and answers it.
    answers = catalog_changed.send(
        sender=DataResource,
        actor=user,
        action=CATALOG_CHANGE,
        resource=resource,
        fields=[extra["field"]] if is_field else [],
        detail={**detail, "changes": changes},
    )
    events = [event for _receiver, event in answers if event is not None]
    if not events:
        raise RuntimeError("catalog writes need the audit log (permissions app) connected")
    return events[0]


def _locked(resource: DataResource) -> DataResource:
    return DataResource.objects.select_for_update().select_related("provider").get(pk=resource.pk)


@transaction.atomic
def create_resource(*, user: UserLike, resource: DataResource) -> CatalogChange:
    """Validate and save a new (unsaved) resource for its provider department."""
    check_create(user, getattr(resource, "provider", None))
    resource.full_clean()
    resource.save()
    changes = initial_values(resource, RESOURCE_FIELDS)
    event = _audit(user, "create", resource, changes)
    return CatalogChange(op="create", resource=resource, changes=changes, event=event)


@transaction.atomic
def update_resource(
    *, user: UserLike, resource: DataResource, changes: Mapping[str, Any]
) -> CatalogChange:
    """Apply ``changes`` (field name → new value) to ``resource``; audits old and new values."""
    current = _locked(resource)
    check_edit(user, current)
    old_provider = current.provider
    diff = apply_changes(current, changes, RESOURCE_FIELDS)
    if not diff:
        return CatalogChange(op="update", resource=current)
    if "provider" in diff:
        _check_move(user, old_provider, current.provider)
    current.full_clean()
    current.save()
    event = _audit(user, "update", current, diff)
    return CatalogChange(op="update", resource=current, changes=diff, event=event)


@transaction.atomic
def delete_resource(*, user: UserLike, resource: DataResource) -> CatalogChange:
    """Delete a resource (its fields, rules and records go with it)."""
    current = _locked(resource)
    check_edit(user, current, DELETE)
    values = initial_values(current, ("code", "name", "provider", "sharing_type", "status"))
    changes = {name: {"old": value["new"], "new": None} for name, value in values.items()}
    event = _audit(user, "delete", current, changes)
    current.delete()
    return CatalogChange(op="delete", resource=current, changes=changes, event=event)


@transaction.atomic
def create_field_spec(*, user: UserLike, field_spec: FieldSpec) -> CatalogChange:
    """Validate and save a new (unsaved) field of an existing resource."""
    resource = _locked(field_spec.resource)
    check_edit(user, resource)
    field_spec.full_clean()
    field_spec.save()
    changes = initial_values(field_spec, FIELD_SPEC_FIELDS)
    event = _audit(user, "create", resource, changes, field=field_spec.name)
    return CatalogChange(
        op="create", resource=resource, field_spec=field_spec, changes=changes, event=event
    )


@transaction.atomic
def update_field_spec(
    *, user: UserLike, field_spec: FieldSpec, changes: Mapping[str, Any]
) -> CatalogChange:
    """Apply ``changes`` to one field of a resource; audits old and new values."""
    resource = _locked(field_spec.resource)
    check_edit(user, resource)
    current = FieldSpec.objects.select_for_update().get(pk=field_spec.pk, resource=resource)
    name = current.name
    diff = apply_changes(current, changes, FIELD_SPEC_FIELDS)
    if not diff:
        return CatalogChange(op="update", resource=resource, field_spec=current)
    current.full_clean()
    current.save()
    event = _audit(user, "update", resource, diff, field=name)
    return CatalogChange(
        op="update", resource=resource, field_spec=current, changes=diff, event=event
    )


@transaction.atomic
def delete_field_spec(*, user: UserLike, field_spec: FieldSpec) -> CatalogChange:
    """Remove one field from a resource's schema."""
    resource = _locked(field_spec.resource)
    check_edit(user, resource)
    current = FieldSpec.objects.select_for_update().get(pk=field_spec.pk, resource=resource)
    values = initial_values(current, ("name", "label", "field_type", "grade", "masking"))
    changes = {name: {"old": value["new"], "new": None} for name, value in values.items()}
    event = _audit(user, "delete", resource, changes, field=current.name)
    current.delete()
    return CatalogChange(
        op="delete", resource=resource, field_spec=current, changes=changes, event=event
    )
