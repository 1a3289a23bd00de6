"""Work orders (工单): dispatched → accepted → in progress → resolved → verified → closed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import Department
from hub.catalog.restricted import RestrictedManager


class WorkOrderState(models.TextChoices):
    """States of a work order; see ``TRANSITIONS`` for the allowed moves."""

    DISPATCHED = "dispatched", _("已派单")
    ACCEPTED = "accepted", _("已签收")
    IN_PROGRESS = "in_progress", _("处置中")
    RESOLVED = "resolved", _("已办结")
    VERIFIED = "verified", _("已核查")
    CLOSED = "closed", _("已归档")


# Allowed moves. A failed verification sends a resolved order back to work.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    WorkOrderState.DISPATCHED: (WorkOrderState.ACCEPTED,),
    WorkOrderState.ACCEPTED: (WorkOrderState.IN_PROGRESS,),
    WorkOrderState.IN_PROGRESS: (WorkOrderState.RESOLVED,),
    WorkOrderState.RESOLVED: (WorkOrderState.VERIFIED, WorkOrderState.IN_PROGRESS),
    WorkOrderState.VERIFIED: (WorkOrderState.CLOSED,),
    WorkOrderState.CLOSED: (),
}


class WorkOrder(models.Model):
    """The dispatch of one alert to the responsible department, with deadlines."""

    code = models.CharField(_("工单编号"), max_length=32, unique=True)
    alert = models.OneToOneField(
        "operations.Alert",
        on_delete=models.CASCADE,
        related_name="work_order",
        verbose_name=_("预警"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="work_orders", verbose_name=_("处置部门")
    )
    state = models.CharField(
        _("状态"),
        max_length=16,
        choices=WorkOrderState.choices,
        default=WorkOrderState.DISPATCHED,
    )
    dispatched_at = models.DateTimeField(_("派单时间"))
    accept_by = models.DateTimeField(_("签收时限"))
    resolve_by = models.DateTimeField(_("办结时限"))
    accepted_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("归档时间"), null=True, blank=True)
    overdue = models.BooleanField(_("已超时"), default=False)
    feedback = models.TextField(_("处置反馈"), blank=True)
    history = models.JSONField(_("流转记录"), default=list, blank=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = pgettext_lazy("plural", "工单")
        ordering = ["-dispatched_at", "-id"]
        indexes = [models.Index(fields=["state", "resolve_by"])]

    def __str__(self) -> str:
        return self.code

    @property
    def archived(self) -> bool:
        """Closed orders are archived (归档) and no longer change."""
        return self.state == WorkOrderState.CLOSED
