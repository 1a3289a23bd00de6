"""Rules (研判规则) as data: thresholds, N consecutive, rate, staleness, compound."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import RestrictedManager


class RuleKind(models.TextChoices):
    """The kinds of rule the engine evaluates."""

    THRESHOLD = "threshold", _("分级阈值")
    CONSECUTIVE = "consecutive", _("连续超限")
    RATE = "rate", _("变化速率")
    STALENESS = "staleness", _("数据中断")
    COMPOUND = "compound", _("跨部门复合")


class Direction(models.TextChoices):
    """Whether a value is dangerous when above or below the thresholds."""

    ABOVE = "above", _("高于阈值")
    BELOW = "below", _("低于阈值")


class Rule(models.Model):
    """One rule. Level thresholds (蓝/黄/橙/红) apply to threshold, consecutive and rate rules.

    * threshold: the latest reading's level;
    * consecutive: the level sustained by each of the last ``consecutive_n`` readings;
    * rate: the level of the change per hour between the last two readings;
    * staleness: ``level`` when a point has had no reading for ``stale_after_minutes``;
    * compound: ``level`` for a district when an event of ``event_resource`` (type
      ``event_type``, level at least ``event_min_level``) is active there and some point
      of ``resource`` in the district reads at or beyond ``threshold``.
    """

    name = models.CharField(_("规则名称"), max_length=200)
    kind = models.CharField(_("规则类型"), max_length=16, choices=RuleKind.choices)
    hazard = models.CharField(_("风险类型"), max_length=100)
    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="ops_rules", verbose_name=_("数据资源")
    )
    point = models.ForeignKey(
        "operations.MonitoringPoint",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="rules",
        verbose_name=_("监测点（空为全部）"),
    )
    metric = models.CharField(_("指标"), max_length=64, blank=True)
    direction = models.CharField(
        _("方向"), max_length=8, choices=Direction.choices, default=Direction.ABOVE
    )
    blue = models.FloatField(_("蓝色阈值"), null=True, blank=True)
    yellow = models.FloatField(_("黄色阈值"), null=True, blank=True)
    orange = models.FloatField(_("橙色阈值"), null=True, blank=True)
    red = models.FloatField(_("红色阈值"), null=True, blank=True)
    consecutive_n = models.PositiveSmallIntegerField(_("连续次数"), default=1)
    stale_after_minutes = models.PositiveIntegerField(_("中断分钟数"), null=True, blank=True)
    level = models.PositiveSmallIntegerField(
        _("固定级别"),
        null=True,
        blank=True,
        choices=[(1, _("蓝色")), (2, _("黄色")), (3, _("橙色")), (4, _("红色"))],
    )
    threshold = models.FloatField(_("复合阈值"), null=True, blank=True)
    event_resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("关联事件资源"),
    )
    event_type = models.CharField(_("关联事件类型"), max_length=64, blank=True)
    event_min_level = models.PositiveSmallIntegerField(_("关联事件最低级别"), default=1)
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处置部门（空为提供方）"),
    )
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("研判规则")
        verbose_name_plural = pgettext_lazy("plural", "研判规则")
        ordering = ["resource_id", "name", "id"]
        indexes = [models.Index(fields=["resource", "is_active", "kind"])]

    def __str__(self) -> str:
        return self.name

    def thresholds(self) -> list[tuple[int, float]]:
        """(level, threshold) pairs that are set, most severe first."""
        pairs = [(4, self.red), (3, self.orange), (2, self.yellow), (1, self.blue)]
        return [(level, value) for level, value in pairs if value is not None]

    def clean(self) -> None:
        """Each kind needs its own parameters; level thresholds must be ordered."""
        errors: dict[str, str] = {}
        levelled = (RuleKind.THRESHOLD, RuleKind.CONSECUTIVE, RuleKind.RATE)
        if self.kind in levelled:
            if not self.metric:
                errors["metric"] = _("该类型规则必须指定指标。")
            values = [v for _, v in self.thresholds()]
            if not values:
                errors["blue"] = _("至少填写一个级别的阈值。")
            descending = values == sorted(values, reverse=True)
            ascending = values == sorted(values)
            if self.direction == Direction.ABOVE and not descending:
                errors["red"] = _("“高于阈值”时红色阈值应不低于橙、黄、蓝色阈值。")
            if self.direction == Direction.BELOW and not ascending:
                errors["red"] = _("“低于阈值”时红色阈值应不高于橙、黄、蓝色阈值。")
        if self.kind == RuleKind.CONSECUTIVE and self.consecutive_n < 2:
            errors["consecutive_n"] = _("连续超限规则的连续次数至少为 2。")
        if self.kind == RuleKind.STALENESS and not self.stale_after_minutes:
            errors["stale_after_minutes"] = _("数据中断规则必须填写中断分钟数。")
        if self.kind in (RuleKind.STALENESS, RuleKind.COMPOUND) and not self.level:
            errors["level"] = _("该类型规则必须指定固定级别。")
        if self.kind == RuleKind.COMPOUND:
            if not self.event_resource_id or not self.event_type:
                errors["event_resource"] = _("复合规则必须指定关联事件资源和事件类型。")
            if self.threshold is None or not self.metric:
                errors["threshold"] = _("复合规则必须指定指标和复合阈值。")
        if errors:
            raise ValidationError(errors)
