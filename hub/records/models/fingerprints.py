"""Source-row fingerprints (源行指纹) of a resource's latest load."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models.resources import DataResource
from hub.records.models.batches import UploadBatch


class RowFingerprints(models.Model):
    """What each source row of a resource's latest load was stored as (源行指纹).

    ``data`` is an Arrow IPC stream of (fingerprint high, fingerprint low, natural key)
    for every row of the batch: the 128-bit fingerprint of the row's cells and the key
    of the record it became. A later upload whose parse ``context`` is the same (same
    headers, schema, code lists, connector and code) skips normalising its rows whose
    fingerprint is here: they are byte for byte rows whose records are stored already.
    It holds only while nothing else wrote the resource's records: every write outside
    the ingest pipeline deletes it (``hub.records.recordstore.RecordStore.forget_fingerprints``).
    """

    resource = models.OneToOneField(
        DataResource,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="+",
        verbose_name=_("数据资源"),
    )
    batch = models.ForeignKey(
        UploadBatch, on_delete=models.CASCADE, related_name="+", verbose_name=_("批次")
    )
    context = models.CharField(_("解析环境摘要"), max_length=64)
    rows = models.PositiveIntegerField(_("行数"))
    data = models.BinaryField(_("指纹数据"))
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_rowfingerprints"
        verbose_name = _("源行指纹")
        verbose_name_plural = pgettext_lazy("plural", "源行指纹")

    def __str__(self) -> str:
        return f"{self.resource_id} ← #{self.batch_id} ({self.rows})"
