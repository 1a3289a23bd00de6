"""The data need (数据需求, 需求清单) and its life cycle.

filed (已提交) -> routed (已分派, to a provider department by the 共享主管部门)
-> answered (已答复: linked a resource | committed to publish by a date | refused with a
basis) -> closed (已关闭, by the filer or the authority). ``overdue`` is set once when the
provider has not answered by ``due_at`` (working days), or a commitment's date passed
before the need was closed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.messages import MESSAGES
from hub.catalog.models import DataResource, Department, UpdateCycle
from hub.catalog.restricted import RestrictedManager
from permissions.models import AccessRequest


class NeedStatus(models.TextChoices):
    FILED = "filed", _("已提交")
    ROUTED = "routed", _("已分派")
    ANSWERED = "answered", _("已答复")
    CLOSED = "closed", _("已关闭")


class NeedAnswer(models.TextChoices):
    """How the provider answered."""

    LINKED = "linked", _("关联已有资源")
    COMMITTED = "committed", _("承诺发布")
    REFUSED = "refused", _("不予提供")


OPEN_STATUSES = (NeedStatus.FILED, NeedStatus.ROUTED, NeedStatus.ANSWERED)


class DataNeed(models.Model):
    """A department's data need: what, why, on what basis, which fields and districts,
    how fresh; routed to the likely provider and tracked to closure."""

    title = models.CharField(_("需求名称"), max_length=200)
    description = models.TextField(_("需求内容"))
    purpose = models.TextField(_("用途"))
    legal_basis = models.TextField(_("依据"))
    fields = models.JSONField(_("所需字段"), default=list, blank=True)
    keywords = models.JSONField(_("关键字"), default=list, blank=True)
    districts = models.JSONField(_("区划范围"), default=list, blank=True)
    update_cycle = models.CharField(_("更新周期"), max_length=16, choices=UpdateCycle.choices)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("需求部门")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("提出人"),
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=NeedStatus.choices, default=NeedStatus.FILED
    )
    provider = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("分派给"),
    )
    candidates = models.JSONField(_("候选资源"), default=list, blank=True)
    routed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("分派人"),
    )
    routed_at = models.DateTimeField(_("分派时间"), null=True, blank=True)
    route_note = models.TextField(_("分派说明"), blank=True)
    due_at = models.DateTimeField(_("答复时限"), null=True, blank=True)
    overdue = models.BooleanField(_("已超时"), default=False)
    overdue_at = models.DateTimeField(_("超时时间"), null=True, blank=True)
    answer = models.CharField(_("答复方式"), max_length=12, choices=NeedAnswer.choices, blank=True)
    answer_note = models.TextField(_("答复说明"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("答复人"),
    )
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    resource = models.ForeignKey(
        DataResource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联资源"),
    )
    access_request = models.ForeignKey(
        AccessRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("共享申请"),
    )
    commit_date = models.DateField(_("承诺发布日期"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关闭人"),
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    close_note = models.TextField(_("关闭说明"), blank=True)
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True, db_index=True)

    objects = RestrictedManager()

    class Meta:
        app_label = "governance"
        verbose_name = _("数据需求")
        verbose_name_plural = pgettext_lazy("plural", "数据需求")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


# Notification codes of needs, rendered by ``Notification.message`` like the objections'.
MESSAGES.update(
    {
        "need_filed": _("%(department)s 提出数据需求 #%(need)s（%(title)s），请分派提供部门。"),
        "need_routed": _("数据需求 #%(need)s（%(title)s）已分派给本部门，请在 %(due)s 前答复。"),
        "need_routed_filer": _("数据需求 #%(need)s（%(title)s）已分派给 %(provider)s。"),
        "need_linked": _(
            "数据需求 #%(need)s（%(title)s）已关联资源 %(resource)s，"
            "并已提交共享申请 #%(request)s。"
        ),
        "need_committed": _("数据需求 #%(need)s（%(title)s）：提供部门承诺于 %(date)s 前发布。"),
        "need_refused": _("数据需求 #%(need)s（%(title)s）不予提供，依据：%(basis)s"),
        "need_closed": _("数据需求 #%(need)s（%(title)s）已关闭。"),
        "need_overdue": _("数据需求 #%(need)s（%(title)s）逾期未办结，请共享主管部门督办。"),
    }
)
