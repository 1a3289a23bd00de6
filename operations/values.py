"""Which values of points, readings, events and alerts a caller reads in clear.

Every such value comes from a field of the resource's records: a reading's value from its
metric field, times from the resource's time field, coordinates from its latitude and
longitude fields, an event's type, level and end from the mapping's fields, an alert's
value from its rule's metric. A caller reads the value only where ``record_access`` serves
that field in clear (visible and unmasked), as the records API does; otherwise it is left
out (readings) or blank (``None``/``""``), and the admin refuses to filter, order or
search on it. The ops centre's 一网统管 view (``sees_all_operations``) of points, readings
and alerts reads every value; events stay governed by grants (docs/PERMISSIONS.md).

``ValueAccess`` is made once per request: the access of all the resources a page needs is
computed together (two queries), then answered from memory for every row.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch
from django.utils.translation import gettext as _

from hub.catalog.models import DataResource, FieldSpec
from hub.catalog.restricted import VIEW
from operations.models import (
    Alert,
    AlertTransition,
    Event,
    MonitoringPoint,
    Reading,
    RuleKind,
)
from operations.policies import sees_all_operations
from permissions.record_access import load_annotated_grants, record_access, with_active_grants
from permissions.selectors import UserLike

# Attribute of a derived object → the resource attribute naming its source field
# (``mapping.`` for the resource's ResourceMapping). Metric-valued attributes (a
# reading's or an alert's ``value``) are answered per row.
POINT_SOURCES = {
    "external_id": "mapping.point_field",
    "name": "mapping.point_name_field",
    "district_code": "district_field",
    "latitude": "latitude_field",
    "longitude": "longitude_field",
    "last_observed_at": "time_field",
}
EVENT_SOURCES = {
    "event_type": "mapping.event_type_field",
    "level": "mapping.event_level_field",
    "district_code": "district_field",
    "latitude": "latitude_field",
    "longitude": "longitude_field",
    "occurred_at": "time_field",
    "ended_at": "mapping.event_end_field",
}
READING_SOURCES = {"observed_at": "time_field"}
# A point alert's stored message begins with its point's name; its district is the
# point's (the API rebuilds the message: ``alert_message``; the admin hides both). An
# alert's times are its readings' times (the rule engine dates a change by the reading
# that caused it), so they follow the resource's time field: ``alert_times_clear``.
ALERT_TIMES = ("opened_at", "escalated_at", "deescalated_at", "closed_at")
ALERT_SOURCES = {
    "message": "mapping.point_name_field",
    "district_code": "district_field",
    **dict.fromkeys(ALERT_TIMES, "time_field"),
}
SOURCES: dict[type, dict[str, str]] = {
    MonitoringPoint: POINT_SOURCES,
    Event: EVENT_SOURCES,
    Reading: READING_SOURCES,
    Alert: ALERT_SOURCES,
}
# Objects the ops centre views for every department (docs/PERMISSIONS.md).
OPS_WIDE = (MonitoringPoint, Reading, Alert, AlertTransition)


@dataclass(frozen=True)
class Clearance:
    """The fields of one resource whose values a caller reads in clear."""

    everything: bool
    fields: frozenset[str]
    resource: DataResource | None

    def field(self, name: str) -> bool:
        """Whether the value of field ``name`` is read in clear."""
        return self.everything or name in self.fields

    def source(self, path: str) -> str:
        """The field named by ``path`` (``time_field``, ``mapping.point_field``), or ""."""
        if self.resource is None:
            return ""
        if path.startswith("mapping."):
            mapping = getattr(self.resource, "ops_mapping", None)
            if mapping is None:
                return ""
            name = getattr(mapping, path.removeprefix("mapping."))
            # A point without a name field is named by its id field.
            return name or (mapping.point_field if path == "mapping.point_name_field" else "")
        return getattr(self.resource, path)

    def attribute(self, model: type, name: str) -> bool:
        """Whether ``model``'s attribute ``name`` is read in clear (attributes that no
        record field feeds, e.g. an event level without a level field, always are)."""
        if self.everything:
            return True
        path = SOURCES.get(model, {}).get(name)
        if path is None:
            return True
        field = self.source(path)
        return not field or self.field(field)

    def hidden(self, model: type) -> set[str]:
        """The attributes of ``model`` the caller does not read in clear."""
        return {name for name in SOURCES.get(model, {}) if not self.attribute(model, name)}


EVERYTHING = Clearance(everything=True, fields=frozenset(), resource=None)
NOTHING = Clearance(everything=False, fields=frozenset(), resource=None)


class ValueAccess:
    """The clearances of one caller, per resource, computed once per request."""

    def __init__(self, user: UserLike, model: type):
        self.user = user
        self.model = model
        self.wide = model in OPS_WIDE and sees_all_operations(user)
        self._by_resource: dict[int, Clearance] = {}

    def prepare(self, resource_ids: Iterable[int | None]) -> None:
        """Compute the clearances of ``resource_ids`` not known yet, together."""
        if self.wide:
            return
        missing = {pk for pk in resource_ids if pk is not None} - set(self._by_resource)
        if not missing:
            return
        resources = with_active_grants(
            DataResource.objects.restrict(self.user, VIEW).filter(pk__in=missing), self.user
        )
        resources = resources.select_related("ops_mapping").prefetch_related(
            Prefetch("fields", queryset=FieldSpec.objects.restrict(self.user, VIEW))
        )
        for resource in resources:
            load_annotated_grants(resource)
            access = record_access(self.user, resource)
            if access is None:
                continue
            clear = frozenset(access.field_names) - set(access.maskers)
            self._by_resource[resource.pk] = Clearance(
                everything=False, fields=clear, resource=resource
            )
        for pk in missing - set(self._by_resource):
            self._by_resource[pk] = NOTHING  # no record access: no value in clear

    def clearance(self, resource_id: int | None) -> Clearance:
        if self.wide:
            return EVERYTHING
        self.prepare([resource_id])
        return self._by_resource.get(resource_id, NOTHING)

    def attribute(self, obj, name: str) -> bool:
        """Whether ``obj``'s attribute ``name`` is read in clear."""
        return self.clearance(obj.resource_id).attribute(type(obj), name)

    def metric(self, resource_id: int | None, metric: str | None) -> bool:
        """Whether values of ``metric`` (a reading's, an alert's) are read in clear; an
        alert without a metric (governance: lateness) carries no record value."""
        return not metric or self.clearance(resource_id).field(metric)

    def metrics(self, resource_id: int, metrics: Iterable[str]) -> list[str]:
        return [m for m in metrics if self.metric(resource_id, m)]

    def alert_clear(self, alert: Alert) -> bool:
        """Whether the alert's values (its and its transitions') are read in clear."""
        metric = alert.rule.metric if alert.rule_id and alert.rule else ""
        return self.metric(alert.resource_id, metric)

    def alert_times_clear(self, alert: Alert) -> bool:
        """Whether the alert's times (and its transitions') are read in clear: they are
        copied from the readings' (and a compound rule's events') times, except for
        governance (lateness) and staleness alerts, dated by the hub's clock."""
        if self.wide or not data_timed(alert):
            return True
        if not self.clearance(alert.resource_id).attribute(Alert, "opened_at"):
            return False
        if alert.other_resource_id is None:
            return True
        events = self.clearance(alert.other_resource_id)
        return events.attribute(Event, "occurred_at") and events.attribute(Event, "ended_at")

    def alert_district_clear(self, alert: Alert) -> bool:
        """Whether the alert's district is read in clear: a point alert's is its point's;
        a compound alert's is where its points read and its events happened, so both
        resources' district fields must be clear; other alerts carry no record's."""
        if self.wide:
            return True
        if alert.point_id is None and alert.other_resource_id is None:
            return True
        if not self.clearance(alert.resource_id).attribute(MonitoringPoint, "district_code"):
            return False
        if alert.point_id is not None or alert.other_resource_id is None:
            return True
        return self.clearance(alert.other_resource_id).attribute(Event, "district_code")

    def alert_times(self, alert: Alert) -> dict:
        """The alert's times, None where they are not read in clear."""
        clear = self.alert_times_clear(alert)
        return {name: getattr(alert, name) if clear else None for name in ALERT_TIMES}

    def alert_value(self, alert: Alert) -> float | None:
        """The alert's value, or None when its metric is not read in clear."""
        return alert.value if self.alert_clear(alert) else None

    def blank(self, obj, values: dict) -> dict:
        """``values`` (attribute → value of ``obj``) with the hidden ones blanked."""
        clearance = self.clearance(obj.resource_id)
        model = type(obj)
        return {
            name: value if clearance.attribute(model, name) else _blank(value)
            for name, value in values.items()
        }

    def hidden_anywhere(self, pairs: Iterable[tuple[int, str | None]]) -> set[str]:
        """Attributes hidden for at least one of the (resource id, metric) ``pairs``
        (a list of a model admin's rows); ``value`` when some metric is hidden."""
        if self.wide:
            return set()
        pairs = list(pairs)
        self.prepare(pk for pk, _ in pairs)
        hidden: set[str] = set()
        for resource_id, metric in pairs:
            hidden |= self.clearance(resource_id).hidden(self.model)
            if self.model in (Alert, Reading) and not self.metric(resource_id, metric):
                hidden.add("value")
        return hidden


def point_label(values: ValueAccess, point: MonitoringPoint) -> str:
    """A point's name, else its id, as far as the caller reads them in clear."""
    name = point.name if values.attribute(point, "name") else ""
    return name or (point.external_id if values.attribute(point, "external_id") else "")


def alert_message(values: ValueAccess, alert: Alert) -> str:
    """An alert's message as far as the caller reads its point's name in clear: the rule
    engine stores "<point name or id> <rule name>"; a resource's lateness is named anew."""
    if alert.scope.startswith("resource:") and alert.resource_id:
        # A resource's lateness: named in the viewer's language, not as stored.
        return _("%(name)s（%(cycle)s）") % {
            "name": alert.resource.name,
            "cycle": alert.resource.get_update_cycle_display(),
        }
    point = alert.point
    if point is None or values.attribute(point, "name"):
        return alert.message
    rule = alert.rule.name if alert.rule_id and alert.rule else ""
    return " ".join(part for part in (point_label(values, point), rule) if part)


def data_timed(alert: Alert) -> bool:
    """Whether the rule engine dated ``alert`` by its data (readings, events): every
    alert but a resource's lateness (scope ``resource:``) and a staleness rule's, which
    the clock dates. An alert whose rule was deleted counts as data-dated."""
    if alert.scope.startswith("resource:"):
        return False
    rule = alert.rule if alert.rule_id else None
    return rule is None or rule.kind != RuleKind.STALENESS


def _blank(value):
    return "" if isinstance(value, str) else None


def value_access(*, user: UserLike, model: type) -> ValueAccess:
    """A caller's clearances for objects of ``model`` (one per request)."""
    return ValueAccess(user, model)
