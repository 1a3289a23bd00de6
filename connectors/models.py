"""Header aliases (表头别名) that data stewards add in the admin, without code changes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from hub.models import DataResource


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

    class Meta:
        verbose_name = _("表头别名")
        verbose_name_plural = _("表头别名")
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
