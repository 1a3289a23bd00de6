"""How a resource's records map onto operations entities, and the log of syncs."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource
from hub.catalog.restricted import RestrictedManager
from hub.records.models import UploadBatch


class EntityKind(models.TextChoices):
    """What a resource's records become in the operations view."""

    READING = "reading", _("监测读数")
    EVENT = "event", _("事件")


class ResourceMapping(models.Model):
    """Declares how the records of one resource map onto points/readings or events.

    Readings: each record belongs to the point named by ``point_field`` and yields one
    reading per field in ``metrics``. Events: each record is one event whose type and
    level come from ``event_type_field`` and ``event_level_field``.
    """

    resource = models.OneToOneField(
        DataResource,
        on_delete=models.CASCADE,
        related_name="ops_mapping",
        verbose_name=_("数据资源"),
    )
    entity = models.CharField(_("映射为"), max_length=16, choices=EntityKind.choices)
    point_field = models.CharField(_("监测点编号字段"), max_length=64, blank=True)
    point_name_field = models.CharField(_("监测点名称字段"), max_length=64, blank=True)
    metrics = models.JSONField(_("指标字段"), default=list, blank=True)
    event_type_field = models.CharField(_("事件类型字段"), max_length=64, blank=True)
    event_level_field = models.CharField(_("事件级别字段"), max_length=64, blank=True)
    event_end_field = models.CharField(_("事件结束时间字段"), max_length=64, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    raw_retention_months = models.PositiveSmallIntegerField(
        _("原始读数保留月数"),
        null=True,
        blank=True,
        help_text=_("留空则用系统默认值；过期的原始读数先汇总为小时数据再删除。"),
    )
    hourly_retention_months = models.PositiveSmallIntegerField(
        _("小时汇总保留月数"),
        null=True,
        blank=True,
        help_text=_("留空则用系统默认值；应不短于原始读数保留月数。"),
    )
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("资源映射")
        verbose_name_plural = pgettext_lazy("plural", "资源映射")
        ordering = ["resource__code"]

    def __str__(self) -> str:
        return f"{self.resource.code} → {self.get_entity_display()}"

    def clean(self) -> None:
        """Readings need a point field and metrics; events need a type field."""
        errors: dict[str, str] = {}
        if self.entity == EntityKind.READING:
            if not self.point_field:
                errors["point_field"] = _("监测读数映射必须指定监测点编号字段。")
            if not isinstance(self.metrics, list) or not self.metrics:
                errors["metrics"] = _("监测读数映射必须列出至少一个指标字段。")
        if self.entity == EntityKind.EVENT and not self.event_type_field:
            errors["event_type_field"] = _("事件映射必须指定事件类型字段。")
        if self.resource_id:
            known = set(self.resource.fields.values_list("name", flat=True))
            used = [
                self.point_field,
                self.point_name_field,
                self.event_type_field,
                self.event_level_field,
                self.event_end_field,
                *(self.metrics if isinstance(self.metrics, list) else []),
            ]
            unknown = sorted({name for name in used if name and name not in known})
            if known and unknown:
                errors["metrics"] = _("引用了不存在的字段：%(names)s") % {
                    "names": ", ".join(unknown)
                }
        raw, hourly = self.raw_retention_months, self.hourly_retention_months
        if raw is not None and raw < 1:
            errors["raw_retention_months"] = _("保留月数至少为 1。")
        if raw is not None and hourly is not None and hourly < raw:
            errors["hourly_retention_months"] = _("小时汇总的保留期不能短于原始读数。")
        if errors:
            raise ValidationError(errors)


class SyncState(models.TextChoices):
    """State of one batch's sync."""

    RUNNING = "running", _("同步中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class SyncRun(models.Model):
    """One sync of one loaded batch into the operations view (one row per batch).

    The row is committed as "running" before the sync's own transaction starts, so a
    worker killed mid-way leaves a visible marker; the redelivered task runs again.
    """

    batch = models.OneToOneField(
        UploadBatch, on_delete=models.CASCADE, related_name="ops_sync", verbose_name=_("上传批次")
    )
    state = models.CharField(_("状态"), max_length=16, choices=SyncState.choices)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    counts = models.JSONField(_("计数"), default=dict, blank=True)
    error = models.TextField(_("错误"), blank=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("同步记录")
        verbose_name_plural = pgettext_lazy("plural", "同步记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync #{self.batch_id} {self.state}"
