"""Permission data: guardian's direct-FK tables, grants, access requests, API keys, audit."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from rest_framework_api_key.models import AbstractAPIKey, APIKeyManager

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import RestrictedManager, RestrictedQuerySet


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


class RequestStatus(models.TextChoices):
    """Life cycle of an access request (申请 → 审批)."""

    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("已拒绝")
    WITHDRAWN = "withdrawn", _("已撤回")


class AccessRequest(models.Model):
    """A department's request (共享申请) to read a resource's records."""

    resource = models.ForeignKey(
        DataResource,
        on_delete=models.CASCADE,
        related_name="access_requests",
        verbose_name=_("数据资源"),
    )
    requester = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        related_name="access_requests",
        verbose_name=_("申请部门"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    purpose = models.TextField(_("用途"))
    fields = models.JSONField(_("申请字段"), default=list, blank=True)
    districts = models.JSONField(_("区划范围"), default=list, blank=True)
    duration_days = models.PositiveIntegerField(_("期限（天）"), default=365)
    status = models.CharField(
        _("状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    due_at = models.DateTimeField(_("答复期限"))
    overdue = models.BooleanField(_("已超期"), default=False)
    escalated_at = models.DateTimeField(_("督办时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    refusal_reason = models.TextField(_("拒绝理由"), blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("共享申请")
        verbose_name_plural = pgettext_lazy("plural", "共享申请")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "due_at"])]

    def __str__(self) -> str:
        return f"{self.requester} → {self.resource.code} ({self.get_status_display()})"


class AccessGrant(models.Model):
    """An approved, expiring grant of a resource's records to a department (共享授权).

    ``fields`` empty means every field of the resource; ``districts`` empty means every
    row; ``clear_fields`` lists the masked fields the grantee receives unmasked.
    """

    resource = models.ForeignKey(
        DataResource, on_delete=models.CASCADE, related_name="grants", verbose_name=_("数据资源")
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="grants", verbose_name=_("被授权部门")
    )
    fields = models.JSONField(_("授权字段"), default=list, blank=True)
    districts = models.JSONField(_("区划范围"), default=list, blank=True)
    clear_fields = models.JSONField(_("明文字段"), default=list, blank=True)
    expires_at = models.DateTimeField(_("到期时间"))
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoke_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    request = models.OneToOneField(
        AccessRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="grant",
        verbose_name=_("来源申请"),
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("授权人"),
    )
    created_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("共享授权")
        verbose_name_plural = pgettext_lazy("plural", "共享授权")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["resource", "department", "expires_at"]),
            models.Index(fields=["revoked_at", "expires_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.department} ← {self.resource.code}"

    @property
    def is_active(self) -> bool:
        """Not revoked and not yet expired."""
        return self.revoked_at is None and self.expires_at > timezone.now()

    def clean(self) -> None:
        for name in ("fields", "districts", "clear_fields"):
            value = getattr(self, name)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValidationError({name: _("必须是字符串列表。")})


class ApiKeyScope(models.TextChoices):
    """What a partner key may do: read (GET) and/or push (uploads and record pushes)."""

    READ = "read", _("读取")
    PUSH = "push", _("推送")


def default_api_key_scopes() -> list[str]:
    """Keys read only unless pushing is asked for when they are created."""
    return [ApiKeyScope.READ.value]


def clean_api_key_scopes(scopes) -> list[str]:
    """The scopes as a sorted list without repeats; ValidationError if empty or unknown."""
    if isinstance(scopes, str) or not all(isinstance(s, str) for s in scopes or []):
        raise ValidationError({"scopes": _("必须是字符串列表。")})
    unknown = sorted(set(scopes) - set(ApiKeyScope.values))
    if unknown:
        raise ValidationError(
            {"scopes": _("未知的权限范围：%(names)s") % {"names": ", ".join(unknown)}}
        )
    if not scopes:
        raise ValidationError({"scopes": _("至少选择一个权限范围。")})
    return sorted(set(scopes))


class PartnerApiKeyManager(APIKeyManager.from_queryset(RestrictedQuerySet)):
    """Looks keys up with their service user and department in the same query."""

    def get_usable_keys(self):
        return super().get_usable_keys().select_related("user", "department")


class PartnerApiKey(AbstractAPIKey):
    """A partner system's API key (接口密钥): only its prefix and hash are stored."""

    objects = PartnerApiKeyManager()

    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="api_keys", verbose_name=_("所属部门")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="api_keys",
        verbose_name=_("服务账号"),
    )
    scopes = models.JSONField(
        _("权限范围"),
        default=default_api_key_scopes,
        help_text=_("read：读取目录和记录；push：上传文件和推送记录（仅本部门提供的资源）。"),
    )

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("接口密钥")
        verbose_name_plural = pgettext_lazy("plural", "接口密钥")

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])

    def clean(self) -> None:
        super().clean()
        self.scopes = clean_api_key_scopes(self.scopes)


class AuditChainHead(models.Model):
    """The single row holding the hash chain's head; locked to serialise appends."""

    sequence = models.PositiveBigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")
        verbose_name_plural = pgettext_lazy("plural", "审计链头")

    def __str__(self) -> str:
        return f"#{self.sequence} {self.hash[:12]}"


class AuditEvent(models.Model):
    """One append-only, hash-chained audit event (审计日志).

    No foreign keys on purpose: a deleted user or resource must not rewrite history.
    """

    sequence = models.PositiveBigIntegerField(_("序号"), unique=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("用户ID"), null=True, blank=True)
    actor = models.CharField(_("用户"), max_length=150, blank=True)
    api_key_prefix = models.CharField(_("接口密钥前缀"), max_length=16, blank=True)
    action = models.CharField(_("操作"), max_length=32, db_index=True)
    resource_code = models.CharField(_("资源代码"), max_length=64, blank=True, db_index=True)
    rows = models.PositiveBigIntegerField(_("行数"), default=0)
    fields = models.JSONField(_("字段"), default=list, blank=True)
    outcome = models.CharField(_("结果"), max_length=8)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    prev_hash = models.CharField(_("前序摘要"), max_length=64)
    hash = models.CharField(pgettext_lazy("hash", "摘要"), max_length=64)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = pgettext_lazy("plural", "审计日志")
        ordering = ["-sequence"]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.action} {self.resource_code} {self.outcome}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(_("审计日志只能追加，不能修改。"))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("审计日志只能追加，不能删除。"))


class CalendarDayKind(models.TextChoices):
    """An official calendar entry: a holiday (放假) or a moved working day (调休上班)."""

    HOLIDAY = "holiday", _("放假")
    WORKING_DAY = "working_day", _("调休上班")


class CalendarDay(models.Model):
    """One day of the official calendar entered by an operator (e.g. next year's schedule
    once the State Council publishes it). Overrides the packaged calendar for that day."""

    date = models.DateField(_("日期"), unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=CalendarDayKind.choices)
    name = models.CharField(_("名称"), max_length=64, blank=True)
    source = models.CharField(_("依据"), max_length=200, blank=True)

    objects = RestrictedManager()

    class Meta:
        verbose_name = _("工作日历")
        verbose_name_plural = pgettext_lazy("plural", "工作日历")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date.isoformat()} {self.get_kind_display()}"
