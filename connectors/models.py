"""Header aliases (表头别名) that data stewards add in the admin, without code changes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource
from hub.catalog.restricted import RestrictedManager


class HeaderAlias(models.Model):
    """Another header text that means a field of a resource, e.g. "管道压力" → pressure."""

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="header_aliases",
        verbose_name=_("数据资源"),
    )
    field_name = models.SlugField(_("字段名"), max_length=64)
    alias = models.CharField(_("表头别名"), max_length=200)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("表头别名")
        verbose_name_plural = pgettext_lazy("plural", "表头别名")
        ordering = ["resource", "field_name", "alias"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "alias"], name="headeralias_resource_alias_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.alias} → {self.field_name}"

    def clean(self) -> None:
        """The field must exist in the resource's schema; the alias must not be blank."""
        self.alias = (self.alias or "").strip()
        errors: dict[str, str] = {}
        if not self.alias:
            errors["alias"] = _("表头别名不能为空。")
        if self.resource_id and not self.resource.fields.filter(name=self.field_name).exists():
            errors["field_name"] = _("该资源没有字段“%(name)s”。") % {"name": self.field_name}
        if errors:
            raise ValidationError(errors)


class BatchProgress(models.Model):
    """Rows read so far by a batch being loaded (读取进度).

    Written on a connection of its own outside the load transaction, so that pollers see
    it while the batch's own row stays unchanged until the load commits. No foreign key:
    the batch row is locked by the load meanwhile.
    """

    batch_id = models.BigIntegerField(_("批次"), primary_key=True)
    rows_read = models.PositiveBigIntegerField(_("已读取行数"), default=0)
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        db_table = "connectors_batchprogress"  # named in connectors.progress's SQL
        verbose_name = _("读取进度")
        verbose_name_plural = pgettext_lazy("plural", "读取进度")

    def __str__(self) -> str:
        return f"#{self.batch_id}: {self.rows_read}"
