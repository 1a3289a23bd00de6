"""Objections (数据异议 / 校核纠错) and the hub's notifications."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.messages import MESSAGES
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import RestrictedManager
from hub.records.models import Record, UploadBatch


class ObjectionScope(models.TextChoices):
    """What the objection is about."""

    RECORD = "record", _("整条记录")
    FIELD = "field", _("字段值")
    BATCH = "batch", _("整个批次")


class ObjectionStatus(models.TextChoices):
    """Life cycle: filed (待核查) -> corrected (已更正) or rejected (已驳回)."""

    OPEN = "open", _("待核查")
    CORRECTED = "corrected", _("已更正")
    REJECTED = "rejected", _("已驳回")


class Objection(models.Model):
    """A reader's objection to shared data, answered by the providing department."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="+", verbose_name=_("数据资源")
    )
    scope = models.CharField(_("异议对象"), max_length=8, choices=ObjectionScope.choices)
    # No database constraint and DO_NOTHING: a SET_NULL relation would make Django load
    # every record of a resource before deleting them; ``records_deleting`` clears it.
    record = models.ForeignKey(
        Record,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("记录"),
    )
    record_key = models.CharField(_("记录主键"), max_length=255, blank=True)
    field_name = models.CharField(_("字段"), max_length=64, blank=True)
    batch = models.ForeignKey(
        UploadBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("批次"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("提出部门")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("提出人"),
    )
    reason = models.TextField(_("异议理由"))
    evidence = models.TextField(_("佐证说明"), blank=True)
    attachment = models.FileField(
        _("佐证附件"), upload_to="objections/%Y/%m/", blank=True, max_length=255
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN
    )
    due_at = models.DateTimeField(_("答复时限"))
    overdue = models.BooleanField(_("已超时"), default=False)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    escalated_to = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("督办部门"),
    )
    answer = models.TextField(_("答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复人"),
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    corrected_field = models.CharField(_("更正字段"), max_length=64, blank=True)
    correction_batch = models.ForeignKey(
        UploadBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("更正批次"),
    )
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("数据异议")
        verbose_name_plural = pgettext_lazy("plural", "数据异议")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.resource.code} {self.get_status_display()}"


class Notification(models.Model):
    """A message in the hub for one user or every member of one department."""

    recipient_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接收人"),
    )
    recipient_department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接收部门"),
    )
    code = models.CharField(_("消息代码"), max_length=32)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    objection = models.ForeignKey(
        Objection,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("数据异议"),
    )
    read = models.BooleanField(_("已读"), default=False)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("消息通知")
        verbose_name_plural = pgettext_lazy("plural", "消息通知")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(recipient_user__isnull=False)
                | models.Q(recipient_department__isnull=False),
                name="notification_has_recipient",
            )
        ]

    def __str__(self) -> str:
        return self.message

    @property
    def message(self) -> str:
        """The message in the active language (codes and parameters are stored)."""
        template = MESSAGES.get(self.code)
        if template is None:
            return self.code
        try:
            return str(template) % self.params
        except (KeyError, TypeError, ValueError):
            return str(template)


# The 需求清单 model lives in its own package; imported here so Django registers it.
from governance.needs.models import DataNeed  # noqa: E402, F401
