"""Departments (委办局) and their staff groups."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.restricted import RestrictedManager


class Department(models.Model):
    """A city department (部门). Its staff are the members of its auth ``group``."""

    code = models.SlugField(_("部门编码"), max_length=32, unique=True)
    name = models.CharField(_("部门名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30)
    group = models.OneToOneField(
        Group, on_delete=models.PROTECT, related_name="department", verbose_name=_("用户组")
    )
    description = models.TextField(_("职责说明"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_department"
        verbose_name = _("部门")
        verbose_name_plural = pgettext_lazy("plural", "部门")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
