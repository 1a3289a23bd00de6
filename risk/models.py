"""The district risk index (风险谱系): indicator configuration and computed snapshots."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource
from hub.catalog.restricted import RestrictedManager


class Dimension(models.TextChoices):
    """INFORM's three dimensions of risk."""

    HAZARD_EXPOSURE = "hazard_exposure", _("危险性与暴露度")
    VULNERABILITY = "vulnerability", _("脆弱性")
    COPING = "coping", _("应对能力缺失")


class Hazard(models.TextChoices):
    """The hazard an indicator speaks to; ``all`` indicators count for every hazard."""

    ALL = "all", _("综合（多灾种）")
    GAS = "gas", _("燃气")
    BRIDGE = "bridge", _("桥梁")
    DRAINAGE = "drainage", _("排水")
    WATERLOGGING = "waterlogging", _("内涝")
    WATER_SUPPLY = "water_supply", _("供水")


class SourceKind(models.TextChoices):
    RECORDS = "records", _("共享数据记录")
    ALERTS = "alerts", _("运行预警")


class Aggregation(models.TextChoices):
    """How the records (or open alerts) of one district become one raw value."""

    COUNT = "count", _("记录数")
    SUM = "sum", _("求和")
    MEAN = "mean", _("平均值")
    MAX = "max", _("最大值")
    SHARE = "share", _("取值占比")
    COUNT_MATCH = "count_match", _("匹配记录数")
    ALERT_LEVELS = "alert_levels", _("在办预警级别之和")


# Aggregations where a district without records counts 0 (a count of nothing); the others
# leave it missing (no mean of nothing).
ZERO_WHEN_EMPTY = {
    Aggregation.COUNT,
    Aggregation.COUNT_MATCH,
    Aggregation.SUM,
    Aggregation.ALERT_LEVELS,
}


class Direction(models.TextChoices):
    HIGHER_MORE_RISK = "higher_more_risk", _("越高风险越大")
    HIGHER_LESS_RISK = "higher_less_risk", _("越高风险越小")


class RiskIndicator(models.Model):
    """One indicator of the index: where its values come from and how they count."""

    code = models.SlugField(_("指标编码"), max_length=64, unique=True)
    name = models.CharField(_("指标名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    dimension = models.CharField(_("维度"), max_length=20, choices=Dimension.choices)
    hazard = models.CharField(_("灾种"), max_length=20, choices=Hazard.choices, default=Hazard.ALL)
    source_kind = models.CharField(
        _("来源类型"), max_length=10, choices=SourceKind.choices, default=SourceKind.RECORDS
    )
    resource = models.ForeignKey(
        DataResource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("数据资源"),
    )
    field = models.CharField(_("字段"), max_length=64, blank=True)
    aggregation = models.CharField(
        _("汇总方式"), max_length=16, choices=Aggregation.choices, default=Aggregation.COUNT
    )
    match_values = models.JSONField(
        _("匹配取值"),
        default=list,
        blank=True,
        help_text=_("取值占比、匹配记录数：计入的字段取值；在办预警：计入的领域（空为全部）。"),
    )
    window_hours = models.PositiveIntegerField(
        _("时间窗（小时）"),
        null=True,
        blank=True,
        help_text=_("只计最近若干小时的记录；空为全部。"),
    )
    direction = models.CharField(
        _("方向"), max_length=20, choices=Direction.choices, default=Direction.HIGHER_MORE_RISK
    )
    weight = models.FloatField(_("权重"), default=1.0)
    lower_bound = models.FloatField(_("下限"), null=True, blank=True)
    upper_bound = models.FloatField(_("上限"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("风险指标")
        verbose_name_plural = pgettext_lazy("plural", "风险指标")
        ordering = ["dimension", "hazard", "code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.weight is not None and self.weight <= 0:
            errors["weight"] = _("权重必须大于 0。")
        if self.source_kind == SourceKind.RECORDS:
            if self.resource_id is None:
                errors["resource"] = _("共享数据记录类指标必须指定数据资源。")
            if self.aggregation == Aggregation.ALERT_LEVELS:
                errors["aggregation"] = _("在办预警级别之和只用于运行预警类指标。")
            elif self.aggregation != Aggregation.COUNT and not self.field:
                errors["field"] = _("该汇总方式需要指定字段。")
        elif self.aggregation != Aggregation.ALERT_LEVELS:
            errors["aggregation"] = _("运行预警类指标的汇总方式为在办预警级别之和。")
        if (
            self.lower_bound is not None
            and self.upper_bound is not None
            and self.upper_bound <= self.lower_bound
        ):
            errors["upper_bound"] = _("上限必须大于下限。")
        if not isinstance(self.match_values, list):
            errors["match_values"] = _("匹配取值必须是列表。")
        if errors:
            raise ValidationError(errors)

    @property
    def higher_is_riskier(self) -> bool:
        return self.direction == Direction.HIGHER_MORE_RISK

    def config_key(self) -> str:
        """What the values depend on: a carried (stale) value is reused only while this
        is unchanged."""
        values = sorted(str(v) for v in self.match_values or [])
        return "|".join(
            str(part)
            for part in (
                self.source_kind,
                self.resource_id,
                self.field,
                self.aggregation,
                ",".join(values),
                self.window_hours,
            )
        )


class RiskSnapshot(models.Model):
    """One computation of the index: when, as whom, and its outcome."""

    computed_at = models.DateTimeField(_("计算时间"), db_index=True)
    trigger = models.CharField(_("触发方式"), max_length=16)
    computed_as = models.CharField(_("计算身份"), max_length=150)
    department = models.CharField(_("计算部门"), max_length=64)
    indicators = models.PositiveIntegerField(_("指标数"), default=0)
    districts = models.PositiveIntegerField(_("区数"), default=0)
    stale_indicators = models.JSONField(_("过期指标"), default=list, blank=True)
    unavailable_indicators = models.JSONField(_("不可用指标"), default=list, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("风险计算")
        verbose_name_plural = pgettext_lazy("plural", "风险计算")
        ordering = ["-computed_at", "-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.computed_at:%Y-%m-%d %H:%M}"


class RiskScore(models.Model):
    """The index of one district for one hazard in one snapshot."""

    snapshot = models.ForeignKey(
        RiskSnapshot, on_delete=models.CASCADE, related_name="scores", verbose_name=_("风险计算")
    )
    district_code = models.CharField(_("区划代码"), max_length=12)
    district_name = models.CharField(_("区名"), max_length=100)
    hazard = models.CharField(_("灾种"), max_length=20, choices=Hazard.choices)
    hazard_exposure = models.FloatField(_("危险性与暴露度"), null=True)
    vulnerability = models.FloatField(_("脆弱性"), null=True)
    coping = models.FloatField(_("应对能力缺失"), null=True)
    risk = models.FloatField(_("风险指数"), null=True)
    risk_class = models.CharField(_("风险等级"), max_length=16)
    stale_indicators = models.PositiveSmallIntegerField(_("过期指标数"), default=0)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("区风险指数")
        verbose_name_plural = pgettext_lazy("plural", "区风险指数")
        ordering = ["snapshot", "hazard", "district_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["snapshot", "district_code", "hazard"], name="risk_score_once"
            )
        ]
        indexes = [models.Index(fields=["district_code", "hazard", "snapshot"])]

    def __str__(self) -> str:
        return f"{self.district_name} {self.hazard} {self.risk}"


class IndicatorStatus(models.TextChoices):
    OK = "ok", _("正常")
    NO_DATA = "no_data", _("无数据")
    NO_ACCESS = "no_access", _("无权读取")
    NO_SOURCE = "no_source", _("来源缺失")


class RiskIndicatorValue(models.Model):
    """One indicator for one district in one snapshot: raw and normalised value, source
    and its freshness."""

    snapshot = models.ForeignKey(
        RiskSnapshot, on_delete=models.CASCADE, related_name="values", verbose_name=_("风险计算")
    )
    indicator = models.ForeignKey(
        RiskIndicator,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("风险指标"),
    )
    indicator_code = models.CharField(_("指标编码"), max_length=64)
    config_key = models.CharField(_("配置摘要"), max_length=300)
    dimension = models.CharField(_("维度"), max_length=20, choices=Dimension.choices)
    hazard = models.CharField(_("灾种"), max_length=20, choices=Hazard.choices)
    weight = models.FloatField(_("权重"))
    district_code = models.CharField(_("区划代码"), max_length=12)
    raw = models.FloatField(_("原始值"), null=True)
    normalised = models.FloatField(_("标准化值"), null=True)
    status = models.CharField(_("状态"), max_length=12, choices=IndicatorStatus.choices)
    resource = models.ForeignKey(
        DataResource,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("数据资源"),
    )
    source_loaded_at = models.DateTimeField(_("数据最近更新"), null=True)
    update_cycle_seconds = models.PositiveIntegerField(_("更新周期（秒）"), null=True)
    stale = models.BooleanField(_("已过期"), default=False)
    value_at = models.DateTimeField(_("取值时间"))

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("风险指标取值")
        verbose_name_plural = pgettext_lazy("plural", "风险指标取值")
        ordering = ["snapshot", "indicator_code", "district_code"]
        indexes = [models.Index(fields=["snapshot", "district_code"])]

    def __str__(self) -> str:
        return f"{self.indicator_code} {self.district_code} {self.raw}"
