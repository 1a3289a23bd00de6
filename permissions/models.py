"""Object permissions on data resources, stored in guardian's direct-foreign-key tables."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from hub.models import DataResource


class ResourceUserPermission(UserObjectPermissionBase):
    """A permission on one resource granted to one user (direct FK, no generic cast)."""

    content_object = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, verbose_name=_("数据资源")
    )

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("用户资源权限")
        verbose_name_plural = pgettext_lazy("plural", "用户资源权限")


class ResourceGroupPermission(GroupObjectPermissionBase):
    """A permission on one resource granted to a group, usually a department's group."""

    content_object = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, verbose_name=_("数据资源")
    )

    class Meta(GroupObjectPermissionBase.Meta):
        verbose_name = _("部门资源权限")
        verbose_name_plural = pgettext_lazy("plural", "部门资源权限")
