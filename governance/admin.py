"""Admin pages of objections (数据异议) and notifications (消息通知).

Filing and answering go through ``governance.services`` (checked, audited): the add page
files an objection for one of the user's departments; the provider answers on the change
page (correct a value in place, link a correction batch, or reject with a reason).
"""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from governance import services
from governance.models import Notification, Objection, ObjectionStatus
from hub.catalog.admin_base import RestrictedModelAdmin, restricted_choices
from hub.catalog.models import DataResource, Department
from hub.records.models import UploadBatch

DECISIONS = [
    ("", "—"),
    ("value", _("更正字段值")),
    ("batch", _("以新批次更正")),
    ("reject", _("驳回")),
]


class FileObjectionForm(forms.ModelForm):
    """The add page: what a reader files."""

    batch_id = forms.IntegerField(label=_("批次编号"), required=False, min_value=1)

    class Meta:
        model = Objection
        fields = (
            "department",
            "resource",
            "scope",
            "record_key",
            "field_name",
            "reason",
            "evidence",
            "attachment",
        )


class AnswerObjectionForm(forms.ModelForm):
    """The change page: the provider's answer."""

    decision = forms.ChoiceField(label=_("答复方式"), choices=DECISIONS, required=False)
    new_value = forms.CharField(
        label=_("更正值"),
        required=False,
        help_text=_('JSON 值（如 12.5、"文本"、null）；不是合法 JSON 时按文本保存。'),
    )
    value_field = forms.CharField(label=_("更正字段"), required=False, max_length=64)
    new_batch = forms.ModelChoiceField(
        label=_("更正批次"), queryset=UploadBatch.objects.none(), required=False
    )
    answer_text = forms.CharField(label=_("答复说明"), required=False, widget=forms.Textarea)

    class Meta:
        model = Objection
        fields = ()

    def clean(self):
        cleaned = super().clean()
        decision = cleaned.get("decision")
        if decision == "reject" and not (cleaned.get("answer_text") or "").strip():
            self.add_error("answer_text", _("驳回必须说明理由。"))
        if decision == "batch" and cleaned.get("new_batch") is None:
            self.add_error("new_batch", _("请选择本资源的更正批次。"))
        return cleaned


def parse_value(text: str):
    """A JSON scalar if the text is one, else the text itself."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return text if isinstance(value, (dict, list)) else value


@admin.register(Objection)
class ObjectionAdmin(RestrictedModelAdmin):
    """Objections: the objector's and the provider's queue, with deadlines."""

    list_display = (
        "id",
        "resource",
        "scope",
        "record_key",
        "field_name",
        "department",
        "status",
        "due_at",
        "overdue",
        "created_at",
    )
    list_filter = ("status", "overdue", "scope")
    list_select_related = ("resource", "department")
    search_fields = ("resource__code", "record_key", "reason")
    readonly_fields = (
        "resource",
        "scope",
        "record_key",
        "field_name",
        "batch",
        "department",
        "filed_by",
        "reason",
        "evidence",
        "attachment",
        "status",
        "due_at",
        "overdue",
        "escalated_at",
        "escalated_to",
        "answer",
        "answered_by",
        "answered_at",
        "corrected_field",
        "correction_batch",
        "created_at",
    )
    related_actions = {"department": "member"}

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs):
        kwargs["form"] = FileObjectionForm if obj is None else AnswerObjectionForm
        base = super().get_form(request, obj, change=change, **kwargs)
        admin_page = self

        class ServiceForm(base):
            """Runs the service in ``clean`` so its refusals are form errors (the admin's
            transaction rolls the write back if anything later fails)."""

            result = None

            def clean(self):
                cleaned = super().clean()
                if self.errors:
                    return cleaned
                try:
                    self.result = admin_page.write(request, obj, cleaned)
                except ValidationError as exc:
                    if hasattr(exc, "error_dict"):
                        for name, errors in exc.error_dict.items():
                            target = name if name in self.fields else None
                            self.add_error(target, errors)
                    else:
                        self.add_error(None, exc)
                except PermissionDenied as exc:
                    self.add_error(None, str(exc))
                except ObjectDoesNotExist:
                    self.add_error(None, _("没有找到可提出异议的数据。"))
                return cleaned

        if obj is not None:
            batches = restricted_choices(UploadBatch, request).filter(resource=obj.resource)
            ServiceForm.base_fields["new_batch"].queryset = batches.order_by("-created_at")
        return ServiceForm

    def get_fields(self, request: HttpRequest, obj=None):
        if obj is None:
            return (*FileObjectionForm.Meta.fields, "batch_id")
        answer = ("decision", "value_field", "new_value", "new_batch", "answer_text")
        editable = obj.status == ObjectionStatus.OPEN and self.has_change_permission(request, obj)
        return (*self.readonly_fields, *(answer if editable else ()))

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return () if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "resource":
            kwargs["queryset"] = DataResource.objects.restrict(request.user, "view_records")
        if db_field.name == "department":
            kwargs["queryset"] = Department.objects.restrict(request.user, "member")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: Objection, form, change: bool) -> None:
        """The service wrote it during validation; the admin only needs the id."""
        if form.result is not None:
            obj.pk = form.result.objection.pk

    def write(self, request: HttpRequest, obj: Objection | None, data: dict):
        user = request.user
        if obj is None:
            return services.file_objection(
                user=user,
                department=data["department"],
                resource=data["resource"],
                scope=data["scope"],
                reason=data["reason"],
                record_key=data.get("record_key") or "",
                field_name=data.get("field_name") or "",
                batch_id=data.get("batch_id"),
                evidence=data.get("evidence") or "",
                attachment=data.get("attachment") or None,
            )
        decision, note = data.get("decision"), data.get("answer_text") or ""
        if decision == "value":
            return services.correct_value(
                user=user,
                objection=obj,
                value=parse_value(data.get("new_value") or ""),
                field_name=data.get("value_field") or "",
                note=note,
            )
        if decision == "batch":
            return services.correct_by_batch(
                user=user, objection=obj, batch=data["new_batch"], note=note
            )
        if decision == "reject":
            return services.reject_objection(user=user, objection=obj, reason=note)
        return None

    def save_related(self, request, form, formsets, change) -> None:
        """Nothing related is edited here."""


@admin.register(Notification)
class NotificationAdmin(RestrictedModelAdmin):
    """The user's notifications (own and their departments'); marked read by an action."""

    list_display = ("created_at", "message", "objection", "read")
    list_filter = ("read",)
    actions = ["mark_read"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    @admin.display(description=_("消息"))
    def message(self, obj: Notification) -> str:
        return obj.message

    @admin.action(description=_("标为已读"))
    def mark_read(self, request: HttpRequest, queryset) -> None:
        count = services.mark_read(user=request.user, notifications=list(queryset))
        self.message_user(request, _("已标为已读：%d 条") % count)


# The 需求清单's admin lives with its package; imported so autodiscovery registers it.
from governance.needs import admin as needs_admin  # noqa: E402, F401
