"""Data resources (政务信息资源, GB/T 21063) and their fields (信息项)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models.codelists import CodeList
from hub.catalog.models.departments import Department
from hub.catalog.restricted import RestrictedManager


class Domain(models.TextChoices):
    """Domain of city operations a resource belongs to (领域)."""

    GAS = "gas", _("燃气")
    BRIDGE = "bridge", _("桥梁")
    WATER_SUPPLY = "water_supply", _("供水")
    DRAINAGE = "drainage", _("排水")
    RAINFALL = "rainfall", _("降雨")
    WEATHER = "weather", _("气象")
    FIRE = "fire", _("消防")
    PUBLIC_SECURITY = "public_security", _("治安")
    TRAFFIC = "traffic", _("交通")
    HEALTH = "health", _("卫生健康")
    ENVIRONMENT = "environment", _("生态环境")
    EARTHQUAKE = "earthquake", _("地震")
    MARKET = "market", _("市场监管")
    EMERGENCY = "emergency", _("应急管理")
    PLANNING = "planning", _("规划资源")
    COMMERCE = "commerce", _("商务")
    GOVERNANCE = "governance", _("数据治理")


class ResourceFormat(models.TextChoices):
    """Format of the resource (信息资源格式)."""

    TABLE = "table", _("电子表格")
    DATABASE = "database", _("数据库")
    API = "api", _("接口")
    FILE = "file", _("文件")


class UpdateCycle(models.TextChoices):
    """Update cycle (更新周期), used for freshness checks."""

    REALTIME = "realtime", _("实时")
    HOURLY = "hourly", _("每小时")
    DAILY = "daily", _("每日")
    WEEKLY = "weekly", _("每周")
    MONTHLY = "monthly", _("每月")
    YEARLY = "yearly", _("每年")


# Seconds after which a resource of each cycle counts as stale.
UPDATE_CYCLE_SECONDS = {
    UpdateCycle.REALTIME: 15 * 60,
    UpdateCycle.HOURLY: 3600,
    UpdateCycle.DAILY: 86400,
    UpdateCycle.WEEKLY: 7 * 86400,
    UpdateCycle.MONTHLY: 31 * 86400,
    UpdateCycle.YEARLY: 366 * 86400,
}


class SharingType(models.TextChoices):
    """Sharing type (共享类型) per the national government data sharing rules."""

    UNCONDITIONAL = "unconditional", _("无条件共享")
    CONDITIONAL = "conditional", _("有条件共享")
    NONE = "none", _("不予共享")


class OpenType(models.TextChoices):
    """Open type towards the public (开放类型)."""

    OPEN = "open", _("无条件开放")
    CONDITIONAL = "conditional", _("有条件开放")
    CLOSED = "closed", _("不予开放")


class ResourceStatus(models.TextChoices):
    """Life cycle status (状态)."""

    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class Grade(models.IntegerChoices):
    """Data grade (数据分级, GB/T 43697 一般/重要/核心 mapped to L1–L4)."""

    L1 = 1, _("L1 一般（公开）")
    L2 = 2, _("L2 一般（内部）")
    L3 = 3, _("L3 重要")
    L4 = 4, _("L4 核心")


class DataResource(models.Model):
    """A government information resource (政务信息资源) with GB/T 21063 core metadata."""

    code = models.SlugField(_("资源代码"), max_length=64, unique=True)
    name = models.CharField(_("资源名称"), max_length=200)
    summary = models.TextField(_("摘要"))
    provider = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="resources", verbose_name=_("提供方")
    )
    domain = models.CharField(_("领域"), max_length=32, choices=Domain.choices)
    keywords = models.JSONField(_("关键字"), default=list, blank=True)
    format = models.CharField(
        _("资源格式"), max_length=16, choices=ResourceFormat.choices, default=ResourceFormat.TABLE
    )
    update_cycle = models.CharField(_("更新周期"), max_length=16, choices=UpdateCycle.choices)
    sharing_type = models.CharField(_("共享类型"), max_length=16, choices=SharingType.choices)
    sharing_conditions = models.TextField(_("共享条件"), blank=True)
    legal_basis = models.TextField(_("不予共享或有条件共享依据"), blank=True)
    open_type = models.CharField(
        _("开放类型"), max_length=16, choices=OpenType.choices, default=OpenType.CLOSED
    )
    published_at = models.DateField(_("发布日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ResourceStatus.choices, default=ResourceStatus.DRAFT
    )
    key_fields = models.JSONField(_("主键字段"), default=list)
    time_field = models.CharField(_("时间字段"), max_length=64, blank=True)
    district_field = models.CharField(_("区划字段"), max_length=64, blank=True)
    latitude_field = models.CharField(_("纬度字段"), max_length=64, blank=True)
    longitude_field = models.CharField(_("经度字段"), max_length=64, blank=True)
    accept_valid_rows = models.BooleanField(
        _("接受有效行"),
        default=False,
        help_text=_(
            "上传的默认做法：加载有效行，把有错误的行留作更正批次；不勾选则整批要么全部入库，"
            "要么全部不入库。每次上传仍可另选。"
        ),
    )
    grade = models.PositiveSmallIntegerField(
        _("数据级别"), choices=Grade.choices, default=Grade.L1, editable=False
    )
    last_loaded_at = models.DateTimeField(_("最近更新时间"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_dataresource"
        verbose_name = _("数据资源")
        verbose_name_plural = pgettext_lazy("plural", "数据资源")
        ordering = ["code"]
        permissions = [
            ("view_metadata", _("查看资源目录信息")),
            ("view_records", _("查看资源数据")),
            ("upload_records", _("上传资源数据")),
            ("manage_resource", _("管理资源")),
        ]
        indexes = [models.Index(fields=["sharing_type", "status"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        """有条件共享 and 不予共享 need a legal basis; 有条件共享 also its conditions."""
        errors: dict[str, str] = {}
        needs_basis = self.sharing_type in (SharingType.CONDITIONAL, SharingType.NONE)
        if needs_basis and not self.legal_basis.strip():
            errors["legal_basis"] = _("有条件共享和不予共享的资源必须填写依据。")
        if self.sharing_type == SharingType.CONDITIONAL and not self.sharing_conditions.strip():
            errors["sharing_conditions"] = _("有条件共享的资源必须填写共享条件。")
        if not isinstance(self.key_fields, list) or not all(
            isinstance(name, str) and name for name in self.key_fields
        ):
            errors["key_fields"] = _("主键字段必须是字段名列表。")
        elif self.pk:
            types = dict(self.fields.values_list("name", "field_type"))
            known = set(types)
            errors.update(self._coordinate_errors(types))
            referenced = [*self.key_fields] + [
                name
                for name in (
                    self.time_field,
                    self.district_field,
                    self.latitude_field,
                    self.longitude_field,
                )
                if name
            ]
            unknown = sorted({name for name in referenced if name not in known})
            if known and unknown:
                errors["key_fields"] = _("引用了不存在的字段：%(names)s") % {
                    "names": ", ".join(unknown)
                }
        if errors:
            raise ValidationError(errors)

    def _coordinate_errors(self, types: dict[str, str]) -> dict[str, str]:
        """A geopoint field holds both coordinates: it is named as both fields or neither."""
        lat, lon = self.latitude_field, self.longitude_field
        geopoints = {name for name, kind in types.items() if kind == FieldType.GEOPOINT}
        if lat and lat == lon and lat in types and lat not in geopoints:
            return {"longitude_field": _("纬度字段与经度字段相同时，该字段必须是坐标类型。")}
        if lat != lon and {lat, lon} & geopoints:
            return {"longitude_field": _("坐标类型的字段须同时填为纬度字段和经度字段。")}
        return {}

    def refresh_grade(self) -> None:
        """Set the dataset grade to the highest grade of its fields (L1 when it has none)."""
        highest = self.fields.aggregate(models.Max("grade"))["grade__max"] or Grade.L1
        if highest != self.grade:
            self.grade = highest
            DataResource.objects.filter(pk=self.pk).update(grade=highest)


class FieldType(models.TextChoices):
    """Type of a field (数据类型)."""

    STRING = "string", _("字符串")
    INTEGER = "integer", _("整数")
    NUMBER = "number", pgettext_lazy("data type", "数值")
    BOOLEAN = "boolean", _("布尔")
    DATE = "date", _("日期")
    DATETIME = "datetime", _("日期时间")
    GEOPOINT = "geopoint", _("坐标")
    CODE = "code", _("代码")


class MaskingRule(models.TextChoices):
    """How a field's values are masked for callers without clear access (脱敏规则)."""

    NONE = "none", _("不脱敏")
    ID_NUMBER = "id_number", _("身份证号")
    PHONE = "phone", _("手机号")
    PERSON_NAME = "person_name", _("姓名")
    ADDRESS = "address", _("地址")
    HIDE = "hide", _("完全隐藏")


class FieldSpec(models.Model):
    """One field (信息项) of a resource's schema."""

    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="fields", verbose_name=_("数据资源")
    )
    name = models.SlugField(_("字段名"), max_length=64)
    label = models.CharField(_("中文名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    field_type = models.CharField(_("数据类型"), max_length=16, choices=FieldType.choices)
    unit = models.CharField(_("计量单位"), max_length=32, blank=True)
    required = models.BooleanField(_("必填"), default=False)
    min_value = models.FloatField(_("最小值"), null=True, blank=True)
    max_value = models.FloatField(_("最大值"), null=True, blank=True)
    max_length = models.PositiveIntegerField(_("最大长度"), null=True, blank=True)
    pattern = models.CharField(_("格式（正则）"), max_length=200, blank=True)
    enum = models.JSONField(_("枚举值"), default=list, blank=True)
    code_list = models.ForeignKey(
        CodeList,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="fields",
        verbose_name=_("代码表"),
    )
    grade = models.PositiveSmallIntegerField(
        _("数据级别"),
        choices=Grade.choices,
        default=Grade.L1,
        validators=[MinValueValidator(1), MaxValueValidator(4)],
    )
    masking = models.CharField(
        _("脱敏规则"), max_length=16, choices=MaskingRule.choices, default=MaskingRule.NONE
    )
    order = models.PositiveIntegerField(_("顺序"), default=0)

    objects = RestrictedManager()

    class Meta:
        # The table kept its name when the model left the ``hub`` app.
        db_table = "hub_fieldspec"
        verbose_name = _("信息项")
        verbose_name_plural = pgettext_lazy("plural", "信息项")
        ordering = ["resource", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "name"], name="fieldspec_resource_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.name})"

    def save(self, *args, **kwargs) -> None:
        super().save(*args, **kwargs)
        # The dataset grade is derived: keep it equal to the highest field grade.
        self.resource.refresh_grade()

    def delete(self, *args, **kwargs):
        resource = self.resource
        result = super().delete(*args, **kwargs)
        resource.refresh_grade()
        return result

    def clean(self) -> None:
        """Bounds must be ordered; code fields need a code list or an enum."""
        errors: dict[str, str] = {}
        bounded = self.min_value is not None and self.max_value is not None
        if bounded and self.min_value > self.max_value:
            errors["max_value"] = _("最大值不能小于最小值。")
        if self.field_type == FieldType.CODE and not self.code_list_id and not self.enum:
            errors["code_list"] = _("代码类型的字段必须指定代码表或枚举值。")
        if self.enum and not isinstance(self.enum, list):
            errors["enum"] = _("枚举值必须是列表。")
        if self.pattern:
            import re

            try:
                re.compile(self.pattern)
            except re.error as exc:
                errors["pattern"] = _("正则表达式无效：%(error)s") % {"error": exc}
        if errors:
            raise ValidationError(errors)
