"""Operations models: mappings, points, readings, events, rules, alerts, work orders, syncs."""

from operations.models.alerts import Alert, AlertState, AlertTransition, Level, TransitionKind
from operations.models.entities import Event, MonitoringPoint, Reading, ReadingHourly
from operations.models.mappings import EntityKind, ResourceMapping, SyncRun, SyncState
from operations.models.rules import Direction, Rule, RuleKind
from operations.models.workorders import WorkOrder, WorkOrderState

__all__ = [
    "Alert",
    "AlertState",
    "AlertTransition",
    "Direction",
    "EntityKind",
    "Event",
    "Level",
    "MonitoringPoint",
    "Reading",
    "ReadingHourly",
    "ResourceMapping",
    "Rule",
    "RuleKind",
    "SyncRun",
    "SyncState",
    "TransitionKind",
    "WorkOrder",
    "WorkOrderState",
]
