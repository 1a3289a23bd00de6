"""Checked, audited writes of rules (研判规则) and resource mappings (资源映射).

Both are data that decide which alerts are raised and to whom work orders go, so each
write checks the caller's right on the resource, writes and appends one audit event
(``rule_change`` / ``mapping_change``, old and new values) in one transaction. A call
that changes nothing writes nothing (no event).

Who may write: whoever manages the resource (its door ``restrict(user, change)``:
provider department, ``manage_resource`` holders, superusers), the provider's staff only
with the model permission (``operations.add_rule`` …). A compound rule also reads the
events of its ``event_resource``: the caller must be able to read those records
(``view_records``); referencing them does not change them, so managing them is not
required (a water steward's rule may combine 气象局's rain warnings with ponding).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from hub.catalog.changes import Changes, apply_changes, editable_fields, initial_values
from hub.catalog.models import DataResource
from hub.catalog.restricted import ADD, CHANGE, DELETE
from hub.catalog.services import may_manage_resource
from operations.models import ResourceMapping, Rule
from permissions.audit import log_event
from permissions.models import AuditEvent
from permissions.selectors import VIEW_RECORDS, UserLike, can

RULE_FIELDS = editable_fields(Rule)
MAPPING_FIELDS = editable_fields(ResourceMapping)
NOT_MANAGER = _lazy("只能为本部门管理的数据资源设置规则或映射。")
EVENTS_HIDDEN = _lazy("无权读取该关联事件资源的数据。")


@dataclass(frozen=True)
class ConfigChange:
    """The outcome of one rule or mapping write; ``event`` is None when nothing changed."""

    op: str
    obj: Rule | ResourceMapping
    changes: Changes = field(default_factory=dict)
    event: AuditEvent | None = None


def _perm(model: type[models.Model], action: str) -> str:
    opts = model._meta
    return f"{opts.app_label}.{action}_{opts.model_name}"


def check_manager(
    *, user: UserLike, model: type[Rule] | type[ResourceMapping], action: str, resource: Any
) -> None:
    """Raise PermissionDenied unless ``user`` may ``action`` (add, change, delete) a
    ``model`` row on ``resource``."""
    door = CHANGE if action == ADD else action
    if not isinstance(resource, DataResource) or not may_manage_resource(
        user, resource, model_perm=_perm(model, action), action=door
    ):
        raise PermissionDenied(NOT_MANAGER)


def check_event_resource(*, user: UserLike, event_resource: DataResource | None) -> None:
    """Raise PermissionDenied unless ``user`` reads the records of a compound rule's
    event resource (a rule must not reveal events its author cannot see)."""
    if event_resource is not None and not can(user, VIEW_RECORDS, event_resource):
        raise PermissionDenied(EVENTS_HIDDEN)


def check_point(*, resource: DataResource | None, point: Any) -> None:
    """A rule's point must be a point of the rule's resource."""
    if point is not None and resource is not None and point.resource_id != resource.pk:
        raise ValidationError({"point": _("监测点不属于该规则的数据资源。")})


def check_targets(
    *,
    user: UserLike,
    model: type[Rule] | type[ResourceMapping],
    action: str,
    resource: DataResource | None,
    event_resource: DataResource | None = None,
) -> None:
    """Both checks of a row's targets: its resource, and a compound rule's events."""
    check_manager(user=user, model=model, action=action, resource=resource)
    check_event_resource(user=user, event_resource=event_resource)


def _check_existing(user: UserLike, obj: Rule | ResourceMapping, action: str) -> None:
    model = type(obj)
    if not model.objects.filter(pk=obj.pk).restrict(user, action).exists():
        raise PermissionDenied(NOT_MANAGER)
    check_targets(user=user, model=model, action=action, resource=obj.resource)


def _audit(user: UserLike, action: str, op: str, obj: Any, changes: Changes) -> AuditEvent:
    label = "rule" if isinstance(obj, Rule) else "mapping"
    return log_event(
        actor=user,
        action=action,
        resource=obj.resource,
        detail={"op": op, label: obj.pk, "name": str(obj), "changes": changes},
    )


def _event_resource(obj: Rule | ResourceMapping) -> DataResource | None:
    return getattr(obj, "event_resource", None) if isinstance(obj, Rule) else None


@transaction.atomic
def _create(user: UserLike, obj: Rule | ResourceMapping, audit_action: str) -> ConfigChange:
    model = type(obj)
    resource = DataResource.objects.filter(pk=obj.resource_id).first()
    check_targets(
        user=user,
        model=model,
        action=ADD,
        resource=resource,
        event_resource=_event_resource(obj),
    )
    obj.full_clean()
    if isinstance(obj, Rule):
        check_point(resource=resource, point=obj.point)
    obj.save()
    changes = initial_values(obj, RULE_FIELDS if isinstance(obj, Rule) else MAPPING_FIELDS)
    event = _audit(user, audit_action, "create", obj, changes)
    return ConfigChange("create", obj, changes, event)


@transaction.atomic
def _update(
    user: UserLike, obj: Rule | ResourceMapping, changes: Mapping[str, Any], audit_action: str
) -> ConfigChange:
    model = type(obj)
    current = model.objects.select_for_update().get(pk=obj.pk)
    _check_existing(user, current, CHANGE)
    allowed = RULE_FIELDS if model is Rule else MAPPING_FIELDS
    diff = apply_changes(current, changes, allowed)
    if not diff:
        return ConfigChange("update", current)
    # New targets are checked as for a new row: moving a rule to a resource one does not
    # manage, or onto events one cannot read, is refused like creating it there.
    if "resource" in diff or "event_resource" in diff:
        check_targets(
            user=user,
            model=model,
            action=CHANGE,
            resource=current.resource,
            event_resource=_event_resource(current),
        )
    current.full_clean()
    if model is Rule:
        check_point(resource=current.resource, point=current.point)
    current.save()
    event = _audit(user, audit_action, "update", current, diff)
    return ConfigChange("update", current, diff, event)


@transaction.atomic
def _delete(user: UserLike, obj: Rule | ResourceMapping, audit_action: str) -> ConfigChange:
    model = type(obj)
    current = model.objects.select_for_update().get(pk=obj.pk)
    _check_existing(user, current, DELETE)
    values = initial_values(current, RULE_FIELDS if model is Rule else MAPPING_FIELDS)
    changes = {name: {"old": value["new"], "new": None} for name, value in values.items()}
    event = _audit(user, audit_action, "delete", current, changes)
    current.delete()
    return ConfigChange("delete", current, changes, event)


def create_rule(*, user: UserLike, rule: Rule) -> ConfigChange:
    """Validate and save a new (unsaved) rule on a resource the user manages."""
    return _create(user, rule, "rule_change")


def update_rule(*, user: UserLike, rule: Rule, changes: Mapping[str, Any]) -> ConfigChange:
    """Apply ``changes`` (field name → new value) to a rule; audits old and new values."""
    return _update(user, rule, changes, "rule_change")


def delete_rule(*, user: UserLike, rule: Rule) -> ConfigChange:
    """Delete a rule (its open alerts and work orders stay, as history)."""
    return _delete(user, rule, "rule_change")


def create_mapping(*, user: UserLike, mapping: ResourceMapping) -> ConfigChange:
    """Validate and save a new (unsaved) mapping of a resource the user manages."""
    return _create(user, mapping, "mapping_change")


def update_mapping(
    *, user: UserLike, mapping: ResourceMapping, changes: Mapping[str, Any]
) -> ConfigChange:
    """Apply ``changes`` to a resource's mapping; audits old and new values."""
    return _update(user, mapping, changes, "mapping_change")


def delete_mapping(*, user: UserLike, mapping: ResourceMapping) -> ConfigChange:
    """Delete a resource's mapping (its records are no longer synced)."""
    return _delete(user, mapping, "mapping_change")
