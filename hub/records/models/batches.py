"""Upload batches (上传批次) and the records (数据记录) they load, with lineage."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models.departments import Department
from hub.catalog.models.resources import DataResource
from hub.catalog.restricted import RestrictedManager


class BatchSource(models.TextChoices):
    """How a batch came in (来源)."""

    XLSX = "xlsx", _("Excel 文件")
    CSV = "csv", _("CSV 文件")
    JSON = "json", _("JSON 文件")
    API = "api", _("接口推送")
    PULL = "pull", _("定时拉取")


class BatchStatus(models.TextChoices):
    """Life cycle of a batch: received → parsing → validated → loaded | failed | rejected."""

    RECEIVED = "received", _("已接收")
    PARSING = "parsing", _("解析中")
    VALIDATED = "validated", _("已校验")
    LOADED = "loaded", _("已入库")
    FAILED = "failed", _("失败")
    REJECTED = "rejected", _("已拒绝")
    # "Accept valid rows": the good rows are loaded, the rejected ones wait in a
    # correction batch; loading the corrected file makes the original "loaded".
    PARTIAL = "partial", _("部分入库")
    CORRECTION = "correction", _("待更正")
    CORRECTED = "corrected", _("已更正")


# Statuses the pipeline does not run again (a partial batch is completed by its
# correction batch, not by running it).
FINAL_STATUSES = (
    BatchStatus.LOADED,
    BatchStatus.FAILED,
    BatchStatus.REJECTED,
    BatchStatus.PARTIAL,
    BatchStatus.CORRECTION,
    BatchStatus.CORRECTED,
)


def batch_upload_path(instance: UploadBatch, filename: str) -> str:
    """Store uploads per resource, named by content hash so nothing is overwritten."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"uploads/{instance.resource.code}/{instance.sha256[:2]}/{instance.sha256}.{suffix}"


class UploadBatch(models.Model):
    """One upload of one file (or API push) into one resource, loaded all-or-nothing
    unless it accepts valid rows (``accept_valid_rows``, see connectors.pipeline.corrections)."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.PROTECT, related_name="batches", verbose_name=_("数据资源")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="batches", verbose_name=_("上传部门")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    api_key_prefix = models.CharField(_("接口密钥前缀"), max_length=16, blank=True)
    source = models.CharField(_("来源"), max_length=8, choices=BatchSource.choices)
    file = models.FileField(_("文件"), upload_to=batch_upload_path, blank=True, max_length=255)
    original_filename = models.CharField(_("原始文件名"), max_length=255, blank=True)
    sheet = models.CharField(
        _("工作表"),
        max_length=100,
        blank=True,
        help_text=_("XLSX 工作表名称或序号（从 1 开始）；留空则取第一个有表头的工作表。"),
    )
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=128, blank=True)
    connector = models.CharField(_("接入器"), max_length=100, blank=True)
    connector_version = models.CharField(_("接入器版本"), max_length=32, blank=True)
    # The version of the department's connector profile (connectors.ConnectorProfile) used.
    profile_version = models.PositiveIntegerField(_("接入配置版本"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=BatchStatus.choices, default=BatchStatus.RECEIVED
    )
    rows_read = models.PositiveIntegerField(_("读取行数"), default=0)
    inserted = models.PositiveIntegerField(_("新增"), default=0)
    updated = models.PositiveIntegerField(_("更新"), default=0)
    unchanged = models.PositiveIntegerField(_("未变"), default=0)
    rejected = models.PositiveIntegerField(_("拒绝"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    accept_valid_rows = models.BooleanField(
        _("接受有效行"),
        default=False,
        help_text=_("加载有效行，把有错误的行留作更正批次；否则整批要么全部入库，要么全部不入库。"),
    )
    # A correction batch names the batch whose rejected rows it holds; the upload of the
    # corrected file names the correction batch it corrects.
    correction_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="corrections",
        verbose_name=_("更正对象"),
    )
    # Warnings of the load as [{code, column, params}] (hub.records.notices renders them).
    warnings = models.JSONField(_("提示"), default=list, blank=True)
    message = models.TextField(_("说明"), blank=True)
    error_report = models.FileField(_("错误报告"), upload_to="reports/", blank=True, max_length=255)
    timings = models.JSONField(_("耗时"), default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_uploadbatch"
        verbose_name = _("上传批次")
        verbose_name_plural = pgettext_lazy("plural", "上传批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            # The same content (and sheet) loads once per resource; failed or rejected
            # ones may be retried.
            models.UniqueConstraint(
                fields=["resource", "sha256", "sheet"],
                condition=~models.Q(status__in=["failed", "rejected"]),
                name="batch_resource_sha256_sheet_once",
            ),
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.resource.code} {self.get_status_display()}"

    @property
    def is_final(self) -> bool:
        """Whether the batch has reached a status it will not leave."""
        return self.status in FINAL_STATUSES


class Record(models.Model):
    """One record of a resource, keyed by its natural key, with lineage to batch and row."""

    # No index of its own: the unique (resource, key) index serves lookups by resource.
    # No database-level foreign keys either (db_constraint=False): PostgreSQL checks them
    # per row at commit, 2 × 2.9 s per 1M loaded rows. The record store is the only
    # writer; it locks the resource (FOR KEY SHARE) and the batch (FOR UPDATE) once per
    # load, and deleting either waits for running loads (hub.records.recordstore.lock_for_delete),
    # which is what the per-row checks guaranteed. Django still cascades / sets null.
    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="records",
        verbose_name=_("数据资源"),
        db_index=False,
        db_constraint=False,
    )
    key = models.CharField(_("主键"), max_length=255)
    data = models.JSONField(_("数据"))
    observed_at = models.DateTimeField(_("观测时间"), null=True, blank=True)
    district_code = models.CharField(_("区划代码"), max_length=12, blank=True, default="")
    latitude = models.FloatField(_("纬度 (WGS-84)"), null=True, blank=True)
    longitude = models.FloatField(_("经度 (WGS-84)"), null=True, blank=True)
    content_hash = models.CharField(_("内容摘要"), max_length=32)
    batch = models.ForeignKey(
        UploadBatch,
        on_delete=models.SET_NULL,
        null=True,
        related_name="records",
        verbose_name=_("最近写入批次"),
        db_constraint=False,
    )
    source_row = models.PositiveIntegerField(_("源文件行号"), null=True, blank=True)
    # db_default: the record store COPYs new rows without them (the load's now()).
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_default=Now())
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True, db_default=Now())

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_record"
        verbose_name = _("数据记录")
        verbose_name_plural = pgettext_lazy("plural", "数据记录")
        ordering = ["resource", "key"]
        constraints = [
            models.UniqueConstraint(fields=["resource", "key"], name="record_resource_key_unique")
        ]
        # Every index costs each loaded row; the batch FK has its own index already.
        # No (resource, district_code) index: pages are read in key order through the
        # unique index and a district (1 of 16) is not selective enough to help, while
        # its many duplicates made it the dearest index to load (1.2 s per 1M rows).
        indexes = [models.Index(fields=["resource", "observed_at"])]

    def __str__(self) -> str:
        return f"{self.resource_id}:{self.key}"
