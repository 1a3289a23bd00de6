"""Four-colour alerts (预警) and their history."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource, Domain
from hub.catalog.restricted import RestrictedManager
from operations.hazards import hazard_label


class Level(models.IntegerChoices):
    """Alert level: 蓝 IV (least severe) … 红 I (most severe); larger is worse."""

    BLUE = 1, _("蓝色（IV级）")
    YELLOW = 2, _("黄色（III级）")
    ORANGE = 3, _("橙色（II级）")
    RED = 4, _("红色（I级）")


class AlertState(models.TextChoices):
    """An alert is open until the condition clears."""

    OPEN = "open", _("处理中")
    CLOSED = "closed", _("已解除")


class TransitionKind(models.TextChoices):
    """What happened to an alert."""

    OPENED = "opened", _("发布")
    ESCALATED = "escalated", _("升级")
    DEESCALATED = "deescalated", _("降级")
    CLOSED = "closed", _("解除")


class Alert(models.Model):
    """An alert raised by a rule for one point, or for a district (compound/governance).

    ``scope`` names what the alert is about ("point:<id>", "district:<code>",
    "resource:<code>"); at most one open alert exists per (rule, scope) and per
    governance scope.
    """

    rule = models.ForeignKey(
        "operations.Rule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("规则"),
    )
    scope = models.CharField(_("对象"), max_length=160)
    hazard = models.CharField(_("风险类型"), max_length=100)
    domain = models.CharField(_("领域"), max_length=32, choices=Domain.choices)
    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="+", verbose_name=_("数据资源")
    )
    other_resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联资源"),
    )
    point = models.ForeignKey(
        "operations.MonitoringPoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alerts",
        verbose_name=_("监测点"),
    )
    district_code = models.CharField(_("区划代码"), max_length=12, blank=True, default="")
    level = models.PositiveSmallIntegerField(_("级别"), choices=Level.choices)
    state = models.CharField(
        _("状态"), max_length=8, choices=AlertState.choices, default=AlertState.OPEN
    )
    value = models.FloatField(_("触发值"), null=True, blank=True)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    opened_at = models.DateTimeField(_("发布时间"))
    escalated_at = models.DateTimeField(_("最近升级时间"), null=True, blank=True)
    deescalated_at = models.DateTimeField(_("最近降级时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("预警")
        verbose_name_plural = pgettext_lazy("plural", "预警")
        ordering = ["state", "-level", "-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["scope"],
                condition=models.Q(state="open", rule__isnull=True),
                name="ops_alert_open_governance_once",
            ),
            models.UniqueConstraint(
                fields=["rule", "scope"],
                condition=models.Q(state="open"),
                name="ops_alert_open_once",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "level"]),
            models.Index(fields=["district_code", "state"]),
            # The alert lists' order (open first, worst, newest): a top-N without a sort.
            models.Index(
                fields=["state", "-level", "-opened_at", "-id"], name="ops_alert_list_order"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} {hazard_label(self.hazard)} {self.scope}"


class AlertTransition(models.Model):
    """One step of an alert's history: opened, escalated, de-escalated or closed."""

    alert = models.ForeignKey(
        Alert, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("预警")
    )
    kind = models.CharField(_("变化"), max_length=16, choices=TransitionKind.choices)
    from_level = models.PositiveSmallIntegerField(_("原级别"), null=True, blank=True)
    to_level = models.PositiveSmallIntegerField(_("新级别"), null=True, blank=True)
    value = models.FloatField(_("数值"), null=True, blank=True)
    at = models.DateTimeField(_("时间"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("预警变化")
        verbose_name_plural = pgettext_lazy("plural", "预警变化")
        ordering = ["alert_id", "at", "id"]

    def __str__(self) -> str:
        return f"{self.alert_id} {self.kind} {self.from_level}→{self.to_level}"
