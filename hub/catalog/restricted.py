"""One door per model: ``Model.objects.restrict(user, action)``.

Every model a caller can reach uses ``RestrictedManager`` (NetBox's RestrictedQuerySet is
the model). ``restrict`` returns exactly the rows ``user`` may perform ``action`` on, row
scope included. The catalog is the lowest layer and knows nothing of the permission
policy: the apps above it register one policy per model (``register_policy``) when they
are ready, so imports still run down the layers. A model without a policy fails closed
(``ImproperlyConfigured``) instead of answering unrestricted.

Actions: ``view``, ``add``, ``change``, ``delete`` for every model; models tied to a data
resource also accept the resource actions (``view_metadata``, ``view_records``,
``view_records_clear``, ``upload_records``, ``manage_resource``). An action a policy does
not know raises ``ValueError``: fail closed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ImproperlyConfigured
from django.db import models

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

UserLike = AbstractBaseUser | AnonymousUser

Policy = Callable[..., models.QuerySet]

_POLICIES: dict[str, Policy] = {}
# Observers of every restriction (label, action, "enter" | "exit"): the bypass tests use
# this to prove that each model a request queried went through its door (queries between
# enter and exit are the policy's own reads).
_OBSERVERS: list[Callable[[str, str, str], None]] = []


def register_policy(model: type[models.Model], policy: Policy) -> None:
    """Declare how ``model``'s querysets are restricted (called from AppConfig.ready)."""
    _POLICIES[model._meta.label_lower] = policy


def has_policy(model: type[models.Model]) -> bool:
    return _policy_for(model) is not None


def restricted_models() -> list[str]:
    """Labels of the models that have a policy (the models a caller can reach)."""
    return sorted(_POLICIES)


def observe(callback: Callable[[str, str, str], None]) -> Callable[[], None]:
    """Call ``callback(label, action, phase)`` around every restriction; returns the
    unsubscriber."""
    _OBSERVERS.append(callback)
    return lambda: _OBSERVERS.remove(callback)


def _marked(kind: str, function: Callable) -> Callable:
    label = f"{kind}:{function.__module__}.{function.__qualname__}"

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not _OBSERVERS:
            return function(*args, **kwargs)
        for observer in _OBSERVERS:
            observer(label, "", "enter")
        try:
            return function(*args, **kwargs)
        finally:
            for observer in _OBSERVERS:
                observer(label, "", "exit")

    return wrapper


def policy_function(function: Callable) -> Callable:
    """Mark a function of the permission policy (e.g. the caller's access to one
    resource's records): its own reads are the door's, like a policy's."""
    return _marked("policy", function)


def write_service(function: Callable) -> Callable:
    """Mark a write service (checks the object permission, writes and audits in one
    transaction): the reads that validate its write (foreign keys, uniqueness) are part
    of that door."""
    return _marked("service", function)


def _policy_for(model: type[models.Model]) -> Policy | None:
    for klass in (model, *model._meta.get_parent_list()):
        policy = _POLICIES.get(klass._meta.label_lower)
        if policy is not None:
            return policy
    return None


class RestrictedQuerySet(models.QuerySet):
    """A queryset that can be narrowed to what one user may do."""

    def restrict(self, user: Any, action: str = VIEW, **context: Any) -> RestrictedQuerySet:
        """The rows ``user`` may ``action``. ``context`` narrows the question for policies
        that take it (records: ``resource=`` reads one resource's records)."""
        policy = _policy_for(self.model)
        if policy is None:
            raise ImproperlyConfigured(
                f"{self.model._meta.label} has no permission policy: register one"
            )
        if not _OBSERVERS:
            return policy(self, user, action, **context)
        label = self.model._meta.label_lower
        for observer in _OBSERVERS:
            observer(label, action, "enter")
        try:
            return policy(self, user, action, **context)
        finally:
            for observer in _OBSERVERS:
                observer(label, action, "exit")


class RestrictedManager(models.Manager.from_queryset(RestrictedQuerySet)):
    """The default manager of every model a caller can reach."""


def restrict(
    queryset: models.QuerySet, user: Any, action: str = VIEW, **context: Any
) -> models.QuerySet:
    """``queryset.restrict(user, action)`` for querysets built from another manager."""
    if isinstance(queryset, RestrictedQuerySet):
        return queryset.restrict(user, action, **context)
    return RestrictedQuerySet.restrict(queryset, user, action, **context)
