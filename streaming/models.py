"""Push receipts (推送回执) and per-key push quotas (推送限流).

A receipt holds one acknowledged push durably (its records, in the request's
transaction) until a coalesced load of its resource takes it: the load is an ordinary
``UploadBatch`` (source api) run by the connectors' pipeline, so validation, the record
store, audit and the operations sync are the files' own.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import RestrictedManager
from hub.records.models import UploadBatch
from permissions.models import PartnerApiKey


class ReceiptStatus(models.TextChoices):
    """accepted → loading → loaded | partial | rejected | failed."""

    ACCEPTED = "accepted", _("已受理")
    LOADING = "loading", _("入库中")
    LOADED = "loaded", _("已入库")
    # Its resource accepts valid rows: some rows stored, the others in a correction batch.
    PARTIAL = "partial", _("部分入库")
    REJECTED = "rejected", _("已拒绝")
    FAILED = "failed", _("失败")


FINAL_RECEIPT_STATUSES = (
    ReceiptStatus.LOADED,
    ReceiptStatus.PARTIAL,
    ReceiptStatus.REJECTED,
    ReceiptStatus.FAILED,
)


class PushReceipt(models.Model):
    """One acknowledged push of records into one resource."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.PROTECT, related_name="push_receipts",
        verbose_name=_("数据资源"),
    )  # fmt: skip
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="push_receipts",
        verbose_name=_("推送部门"),
    )  # fmt: skip
    pushed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("推送人"),
    )  # fmt: skip
    api_key_prefix = models.CharField(_("接口密钥前缀"), max_length=16, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=128, blank=True)
    sha256 = models.CharField(_("内容摘要"), max_length=64)
    records = models.JSONField(_("记录"), default=list)
    row_count = models.PositiveIntegerField(_("记录数"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ReceiptStatus.choices, default=ReceiptStatus.ACCEPTED
    )
    # Loaded alone (not coalesced): its rows failed inside a shared load once.
    solo = models.BooleanField(_("单独入库"), default=False)
    batch = models.ForeignKey(
        UploadBatch, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="push_receipts", verbose_name=_("入库批次"),
    )  # fmt: skip
    # 1-based row of this push's first record in its batch.
    batch_row = models.PositiveIntegerField(_("批次起始行"), default=0)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    errors = models.JSONField(_("错误明细"), default=list, blank=True)
    message = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(_("受理时间"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("推送回执")
        verbose_name_plural = pgettext_lazy("plural", "推送回执")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "resource", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="push_receipt_idempotency_unique",
            )
        ]
        indexes = [models.Index(fields=["resource", "status", "id"])]

    def __str__(self) -> str:
        return f"push #{self.pk} {self.status}"

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_RECEIPT_STATUSES


class PushQuota(models.Model):
    """The push rate allowed to one API key (e.g. ``6000/min``), set in the admin."""

    api_key = models.OneToOneField(
        PartnerApiKey, on_delete=models.CASCADE, related_name="push_quota",
        verbose_name=_("接口密钥"),
    )  # fmt: skip
    rate = models.CharField(
        _("推送速率"), max_length=32,
        help_text=_("每个时段允许的推送次数，例如 6000/min、100/s；留空表示使用默认值。"),
        blank=True,
    )  # fmt: skip

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("推送限流")
        verbose_name_plural = pgettext_lazy("plural", "推送限流")

    def __str__(self) -> str:
        return f"{self.api_key.prefix} {self.rate}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        self.rate = self.rate.strip()
        if self.rate and not valid_rate(self.rate):
            raise ValidationError({"rate": _("速率格式应为 次数/时段，例如 6000/min。")})


def valid_rate(rate: str) -> bool:
    """``N/s``, ``N/min``, ``N/hour`` or ``N/day`` (DRF's throttle rates), N > 0."""
    count, _sep, period = rate.partition("/")
    return (
        count.isascii()
        and count.isdigit()
        and int(count) > 0
        and period[:1] in ("s", "m", "h", "d")
    )
