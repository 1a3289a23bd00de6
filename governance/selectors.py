"""Reads of the governance app: objection queues, notifications, who read a resource."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from governance.models import Notification, Objection
from hub.catalog.models import DataResource, Department
from permissions.models import AuditEvent
from permissions.selectors import UserLike

READ_ACTIONS = ("read", "export")


def objection_list(*, user: UserLike) -> QuerySet[Objection]:
    """The objections the user may see (filed by, or addressed to, their departments)."""
    return (
        Objection.objects.restrict(user, "view")
        .select_related("resource", "department", "escalated_to", "filed_by")
        .order_by("-created_at", "-id")
    )


def notification_list(*, user: UserLike) -> QuerySet[Notification]:
    """The user's notifications: addressed to them or to one of their departments."""
    return Notification.objects.restrict(user, "view").select_related("objection")


def readers_since(resource: DataResource, since: dt.datetime) -> set[int]:
    """Departments whose members read (or exported) ``resource``'s records since ``since``.

    An approximation from the audit log: read events name the resource and the user, not
    the records, so every department with a successful read of the resource since the
    objected data was last loaded counts as a reader of it. Partner keys act as their
    department's service user, which is a member of that department, so they count too.
    """
    actors = (
        AuditEvent.objects.filter(
            action__in=READ_ACTIONS,
            outcome="ok",
            resource_code=resource.code,
            created_at__gte=since.replace(microsecond=0),
            actor_id__isnull=False,
        )
        .values_list("actor_id", flat=True)
        .distinct()
    )
    return set(
        Department.objects.filter(group__user__id__in=list(actors), is_active=True).values_list(
            "pk", flat=True
        )
    )
