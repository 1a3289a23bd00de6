"""Lineage of records merged into another one (合并记录): the canonical-key migration
merged records whose keys differed only in spelling (``+00:00`` / ``Z``, ``2.0`` / ``2``)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models.resources import DataResource
from hub.catalog.restricted import RestrictedManager
from hub.records.models.batches import UploadBatch


class RecordMerge(models.Model):
    """One record merged into the record of the same resource with key ``key``: its old
    key, the batch and source row that last wrote it, and what it held. The surviving
    record keeps the newest values; it is read through the record it belongs to."""

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("数据资源"),
        db_constraint=False,
    )
    key = models.CharField(_("主键"), max_length=255)
    merged_key = models.CharField(_("原主键"), max_length=255)
    batch = models.ForeignKey(
        UploadBatch,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("原写入批次"),
        db_constraint=False,
    )
    source_row = models.PositiveIntegerField(_("源文件行号"), null=True, blank=True)
    data = models.JSONField(_("数据"), default=dict)
    record_updated_at = models.DateTimeField(_("原修改时间"), null=True, blank=True)
    merged_at = models.DateTimeField(_("合并时间"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("合并记录")
        verbose_name_plural = pgettext_lazy("plural", "合并记录")
        ordering = ["resource", "key", "merged_at", "id"]
        indexes = [models.Index(fields=["resource", "key"], name="records_merge_resource_key")]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.merged_key} → {self.key}"
