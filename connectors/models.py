"""Header aliases (表头别名) and connector profiles (接入配置) that data stewards edit in the
admin, without code changes."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from hub.catalog.models import DataResource, Department
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
        db_table = "connectors_batchprogress"  # named in connectors.pipeline.progress's SQL
        verbose_name = _("读取进度")
        verbose_name_plural = pgettext_lazy("plural", "读取进度")

    def __str__(self) -> str:
        return f"#{self.batch_id}: {self.rows_read}"


class SourceCRS(models.TextChoices):
    """Coordinate systems a department's files are in (坐标系)."""

    WGS84 = "wgs84", "WGS-84"
    CGCS2000 = "cgcs2000", "CGCS2000"
    GCJ02 = "gcj02", _("GCJ-02（国测局）")
    BD09 = "bd09", _("BD-09（百度）")


class DistrictNaming(models.TextChoices):
    """How a department's files name districts (区划写法), besides names and GB/T 2260 codes."""

    NAMES = "", _("名称或 GB/T 2260 代码")
    NUMBER = "number", _("区序号（代码末两位，如 01、15）")
    STATS = "stats", _("统计用区划代码（9 或 12 位，前六位为区代码）")


class ConnectorProfile(models.Model):
    """What a department's files of one resource look like (接入配置), as data.

    Versioned: a change is saved as a new version (the old ones stay, for the batches
    that used them; ``UploadBatch.profile_version``). The newest version of a
    department + resource replaces its Python connector's declarations (source units,
    CRS, date layouts and time zone, decimal comma, missing markers, header aliases, value
    maps, district naming, lookups); the connector's code hooks still run. See
    ``connectors.profiles.versions``.
    """

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="+", verbose_name=_("部门")
    )
    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="+", verbose_name=_("数据资源")
    )
    version = models.PositiveIntegerField(_("版本"), default=1, editable=False)
    source_crs = models.CharField(
        _("坐标系"),
        max_length=16,
        choices=SourceCRS.choices,
        blank=True,
        help_text=_("文件中坐标的坐标系；留空则按 WGS-84 读取并给出提示。"),
    )
    source_units = models.JSONField(
        _("源单位"),
        default=dict,
        blank=True,
        help_text=_('表头未注明单位时各字段的单位，如 {"pressure": "kPa"}。'),
    )
    date_layouts = models.JSONField(
        _("日期格式"),
        default=list,
        blank=True,
        help_text=_('先于内置格式尝试的日期格式（strftime），如 ["%Y%m%d%H%M"]。'),
    )
    source_timezone = models.CharField(
        _("源时区"),
        max_length=64,
        blank=True,
        help_text=_("不带时区的时间所在的时区（IANA 名称）；留空为 Asia/Shanghai。"),
    )
    day_first = models.BooleanField(_("日在月前"), default=False)
    decimal_comma = models.BooleanField(
        _("小数点为逗号"),
        null=True,
        blank=True,
        default=None,
        help_text=_(
            "是：数值以逗号为小数点（如 0,75、1.234,5）。否：逗号为千分位。未定：分号分隔的"
            " CSV 按小数点读逗号；其他文件只在每个带逗号的单元格都是千分位写法时按千分位读取，"
            "否则这些单元格记为行错误；同一文件中同一列的读法始终一致。"
        ),
    )
    missing_values = models.JSONField(
        _("缺失值标记"),
        default=list,
        blank=True,
        help_text=_('表示“无数据”的单元格文字，如 ["—", "/", "无"]。'),
    )
    header_aliases = models.JSONField(
        _("表头别名"),
        default=dict,
        blank=True,
        help_text=_('字段名 → 文件中的表头写法，如 {"observed_at": ["采集时间"]}。'),
    )
    value_aliases = models.JSONField(
        _("取值映射"),
        default=dict,
        blank=True,
        help_text=_(
            '字段名 → {文件中的写法: 存储的值}，如 {"pressure_class": {"中压": "中压B"}}、'
            '{"running": {"开机": "是", "停机": "否"}}；适用于任何字段。'
        ),
    )
    district_naming = models.CharField(
        _("区划写法"),
        max_length=16,
        choices=DistrictNaming.choices,
        blank=True,
        default="",
        help_text=_("文件中行政区的写法；名称、别名和六位代码总能识别。"),
    )
    lookups = models.JSONField(
        _("查找"),
        default=dict,
        blank=True,
        help_text=_(
            '字段名 → 查找来源：另一资源的记录 {"resource": "bridge-registry", "match": '
            '"bridge_name", "value": "bridge_id"}（按名称查编号），或代码表 '
            '{"code_list": "shanghai-tunnels"}（按名称或别名查代码）。查不到的值记为行错误。'
        ),
    )
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # Set by the mapping assistant (connectors.proposal): the profile applies to files
    # whose sorted, folded headers hash to this; blank: the department's default profile.
    header_signature = models.CharField(
        _("表头签名"),
        max_length=64,
        blank=True,
        db_index=True,
        help_text=_("由映射建议生成：表头相同的文件自动使用此配置；留空为默认配置。"),
    )
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
        verbose_name = _("接入配置")
        verbose_name_plural = pgettext_lazy("plural", "接入配置")
        ordering = ["resource", "department", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "resource", "version"], name="profile_version_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.resource} v{self.version}"
