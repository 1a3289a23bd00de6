"""Monitoring points (监测点), their readings (读数) and events (事件)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource, Department, Domain
from hub.catalog.restricted import RestrictedManager
from hub.records.models import UploadBatch


class MonitoringPoint(models.Model):
    """An asset or sensor site, identified by (resource, value of the point id field)."""

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="ops_points",
        verbose_name=_("数据资源"),
    )
    external_id = models.CharField(_("监测点编号"), max_length=128)
    name = models.CharField(_("名称"), max_length=200, blank=True)
    domain = models.CharField(_("领域"), max_length=32, choices=Domain.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="ops_points", verbose_name=_("责任部门")
    )
    district_code = models.CharField(_("区划代码"), max_length=12, blank=True, default="")
    latitude = models.FloatField(_("纬度 (WGS-84)"), null=True, blank=True)
    longitude = models.FloatField(_("经度 (WGS-84)"), null=True, blank=True)
    last_observed_at = models.DateTimeField(_("最近观测时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("监测点")
        verbose_name_plural = pgettext_lazy("plural", "监测点")
        ordering = ["resource_id", "external_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "external_id"], name="ops_point_resource_external_unique"
            )
        ]
        indexes = [models.Index(fields=["district_code"])]

    def __str__(self) -> str:
        return self.name or self.external_id


class Reading(models.Model):
    """One metric value of one record: unique by source identity (resource, key, metric)
    and its time.

    On PostgreSQL the table is range-partitioned by month on ``observed_at`` (migration
    0005, ``operations.services.partitions``); a partitioned table's unique constraints
    and primary key must hold the partition key, so the source-identity constraint holds
    ``observed_at`` on every backend and the sync removes a reading whose record moved in
    time. SQLite keeps one table with the same constraint.

    No foreign key of a reading carries a database constraint: PostgreSQL checks Django's
    deferred foreign keys at commit, row by row, and for 100k readings that was most of
    the commit. Django's collector still applies their on_delete, and deleting a point
    first waits for any sync writing to it (``operations.receivers.lock_point_for_delete``).
    ``resource`` and ``point`` have no index of their own: the source-identity constraint
    and the (point, metric, observed_at) index start with them, and every extra index
    is written on each of a sync's inserts. PostgreSQL hands out ids from a cache of
    1,000 per session (migration 0002), so two syncs do not queue on one sequence page.
    """

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("数据资源"),
    )
    record_key = models.CharField(_("记录主键"), max_length=255)
    metric = models.CharField(_("指标"), max_length=64)
    point = models.ForeignKey(
        MonitoringPoint,
        on_delete=models.CASCADE,
        related_name="readings",
        db_constraint=False,
        db_index=False,
        verbose_name=_("监测点"),
    )
    value = models.FloatField(_("数值"))
    unit = models.CharField(_("单位"), max_length=32, blank=True)
    observed_at = models.DateTimeField(_("观测时间"))
    batch = models.ForeignKey(
        UploadBatch,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        db_constraint=False,
        verbose_name=_("批次"),
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("监测读数")
        verbose_name_plural = pgettext_lazy("plural", "监测读数")
        ordering = ["point_id", "metric", "observed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "record_key", "metric", "observed_at"],
                name="ops_reading_source_unique",
            )
        ]
        indexes = [models.Index(fields=["point", "metric", "observed_at"])]

    def __str__(self) -> str:
        return f"{self.point_id} {self.metric}={self.value}"


class ReadingHourly(models.Model):
    """Hourly aggregate of one point's metric (小时汇总), kept after the raw readings expire.

    Filled by the retention task from the raw readings it is about to drop
    (``operations.services.partitions.apply_retention``); one row per (point, metric,
    UTC hour). Like readings, no foreign key carries a database constraint.
    """

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
        verbose_name=_("数据资源"),
    )
    point = models.ForeignKey(
        MonitoringPoint,
        on_delete=models.CASCADE,
        related_name="hourly",
        db_constraint=False,
        db_index=False,
        verbose_name=_("监测点"),
    )
    metric = models.CharField(_("指标"), max_length=64)
    hour = models.DateTimeField(_("小时"))
    count = models.PositiveIntegerField(_("读数个数"))
    total = models.FloatField(_("合计"))
    minimum = models.FloatField(_("最小值"))
    maximum = models.FloatField(_("最大值"))
    unit = models.CharField(_("单位"), max_length=32, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("读数小时汇总")
        verbose_name_plural = pgettext_lazy("plural", "读数小时汇总")
        ordering = ["point_id", "metric", "hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["point", "metric", "hour"], name="ops_reading_hourly_unique"
            )
        ]
        indexes = [models.Index(fields=["resource", "hour"], name="ops_hourly_resource_hour")]

    def __str__(self) -> str:
        return f"{self.point_id} {self.metric} {self.hour:%Y-%m-%d %H}h"

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else 0.0


class Event(models.Model):
    """An incident or warning record (事件), e.g. a 暴雨预警 or a 119 fire incident."""

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="ops_events",
        verbose_name=_("数据资源"),
    )
    record_key = models.CharField(_("记录主键"), max_length=255)
    event_type = models.CharField(_("事件类型"), max_length=64)
    level = models.PositiveSmallIntegerField(_("级别"), default=0)
    district_code = models.CharField(_("区划代码"), max_length=12, blank=True, default="")
    latitude = models.FloatField(_("纬度 (WGS-84)"), null=True, blank=True)
    longitude = models.FloatField(_("经度 (WGS-84)"), null=True, blank=True)
    occurred_at = models.DateTimeField(_("发生时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    batch = models.ForeignKey(
        UploadBatch, on_delete=models.SET_NULL, null=True, related_name="+", verbose_name=_("批次")
    )

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("事件")
        verbose_name_plural = pgettext_lazy("plural", "事件")
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "record_key"], name="ops_event_source_unique"
            )
        ]
        indexes = [models.Index(fields=["resource", "district_code", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.event_type} {self.district_code}"
