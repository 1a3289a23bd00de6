"""Versioned code lists (代码表), e.g. GB/T 2260 administrative divisions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.restricted import RestrictedManager


class CodeList(models.Model):
    """A versioned list of codes (代码表) used by fields and normalisers."""

    code = models.SlugField(_("代码表编码"), max_length=64)
    name = models.CharField(_("名称"), max_length=100)
    version = models.CharField(_("版本"), max_length=32, default="1")
    standard = models.CharField(_("依据标准"), max_length=100, blank=True)
    description = models.TextField(_("说明"), blank=True)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_codelist"
        verbose_name = _("代码表")
        verbose_name_plural = pgettext_lazy("plural", "代码表")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="codelist_code_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code} v{self.version})"


class CodeItem(models.Model):
    """One code of a code list, with its label and the aliases met in uploads."""

    code_list = models.ForeignKey(
        CodeList, on_delete=models.CASCADE, related_name="items", verbose_name=_("代码表")
    )
    code = models.CharField(_("代码"), max_length=64)
    name = models.CharField(_("名称"), max_length=100)
    aliases = models.JSONField(_("别名"), default=list, blank=True)
    parent_code = models.CharField(_("上级代码"), max_length=64, blank=True)
    order = models.PositiveIntegerField(_("顺序"), default=0)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_codeitem"
        verbose_name = _("代码项")
        verbose_name_plural = pgettext_lazy("plural", "代码项")
        ordering = ["code_list", "order", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code_list", "code"], name="codeitem_list_code_unique")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"
