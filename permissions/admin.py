"""Admin pages of the sharing workflow: requests, grants, API keys, audit log."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext
from rest_framework_api_key.admin import APIKeyModelAdmin

from hub.catalog.admin_base import ReadOnlyAdminMixin, RestrictedAdminMixin, RestrictedModelAdmin
from hub.catalog.models import DataResource, SharingType
from hub.catalog.restricted import CHANGE
from permissions import api_key_services, calendar, request_checks, services
from permissions.models import (
    AccessGrant,
    AccessRequest,
    ApiKeyScope,
    AuditEvent,
    CalendarDay,
    PartnerApiKey,
    RequestStatus,
)
from permissions.scopes import check_districts


@admin.register(AccessRequest)
class AccessRequestAdmin(RestrictedModelAdmin):
    """Access requests; the provider approves or refuses (a reason is required)."""

    list_display = ("id", "resource", "requester", "status", "due_at", "overdue", "created_at")
    list_filter = ("status", "overdue")
    list_select_related = ("resource", "requester")
    search_fields = ("resource__code", "requester__code", "purpose")
    fields = (
        "resource",
        "requester",
        "purpose",
        "fields",
        "districts",
        "duration_days",
        "status",
        "due_at",
        "overdue",
        "escalated_at",
        "decided_by",
        "decided_at",
        "refusal_reason",
    )
    readonly_fields = (
        "status",
        "due_at",
        "overdue",
        "escalated_at",
        "decided_by",
        "decided_at",
        "refusal_reason",
    )
    actions = ["approve", "refuse"]

    # Requests are filed for the user's own departments only.
    related_actions = {"requester": "member"}

    def has_change_permission(self, request, obj=None) -> bool:
        # Decisions go through the actions and the /access/ pages (audited); read-only here.
        return False

    def may_decide(self, request) -> bool:
        """Whether the user may decide any pending request (the provider's staff)."""
        pending = AccessRequest.objects.filter(status=RequestStatus.PENDING)
        return pending.restrict(request.user, CHANGE).exists()

    def get_actions(self, request):
        # 批准/拒绝 only for those who may decide: a requester is never offered them.
        actions = super().get_actions(request)
        if not self.may_decide(request):
            actions.pop("approve", None)
            actions.pop("refuse", None)
        return actions

    def add_view(self, request, form_url="", extra_context=None):
        # "?resource=<pk>" (the 申请共享 link): the request page with field and district pickers.
        resource_id = request.GET.get("resource", "")
        if request.method == "GET" and resource_id.isascii() and resource_id.isdigit():
            visible = DataResource.objects.restrict(request.user, "view").exclude(
                sharing_type=SharingType.NONE
            )
            code = visible.filter(pk=int(resource_id)).values_list("code", flat=True).first()
            if code is not None:
                return redirect("access:request", code=code)
        return super().add_view(request, form_url, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # The provider sees 审批 (approve / partial / refuse) on the request's own page.
        extra_context = dict(extra_context or {})
        decidable = AccessRequest.objects.filter(
            pk=object_id if str(object_id).isascii() and str(object_id).isdigit() else None,
            status=RequestStatus.PENDING,
        ).restrict(request.user, CHANGE)
        if decidable.exists():
            extra_context["decide_url"] = reverse("access:decide", args=[int(object_id)])
        return super().change_view(request, object_id, form_url, extra_context)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Only resources the user may see and request, only the user's own departments.
        if db_field.name == "resource":
            visible = DataResource.objects.restrict(request.user, "view")
            kwargs["queryset"] = visible.exclude(sharing_type=SharingType.NONE)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class CheckedForm(form):
            # District codes only (GB/T 2260): names would approve into an empty scope.
            def clean_districts(self):
                try:
                    districts = list(self.cleaned_data.get("districts") or [])
                    return check_districts(districts, user=request.user)
                except ValidationError as exc:
                    raise forms.ValidationError(exc.message_dict["districts"]) from exc

            def clean(self):
                cleaned = super().clean()
                resource, requester = cleaned.get("resource"), cleaned.get("requester")
                if not change and resource is not None and requester is not None:
                    try:
                        request_checks.check_not_own(resource=resource, requester=requester)
                        request_checks.check_no_pending(
                            user=request.user, requester=requester, resource=resource
                        )
                    except request_checks.DuplicateRequest as exc:
                        self.add_error("resource", exc.messages)
                    except ValidationError as exc:
                        self.add_error("resource", exc.message_dict["resource"])
                return cleaned

        return CheckedForm

    def save_model(self, request, obj, form, change) -> None:
        """New requests go through the service (deadline, checks, audit)."""
        if change:
            return
        created = services.request_access(
            user=request.user,
            requester=obj.requester,
            resource=obj.resource,
            purpose=obj.purpose,
            fields=obj.fields,
            districts=obj.districts,
            duration_days=obj.duration_days,
        )
        obj.pk, obj.due_at, obj.status = created.pk, created.due_at, created.status

    @admin.action(description=_("批准所选申请"))
    def approve(self, request, queryset):
        for access_request in queryset:
            try:
                services.approve_request(user=request.user, access_request=access_request)
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"#{access_request.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("已批准 #%d") % access_request.pk)

    @admin.action(description=_("拒绝所选申请（须填写理由）"))
    def refuse(self, request, queryset):
        reason = request.POST.get("reason", "").strip()
        if not reason:
            # Intermediate page asking for the reason; it posts back to this action.
            if "confirm" in request.POST:
                self.message_user(request, _("拒绝必须说明理由。"), messages.ERROR)
            context = {**self.admin_site.each_context(request), "queryset": queryset}
            return TemplateResponse(request, "admin/permissions/refuse.html", context)
        for access_request in queryset:
            try:
                services.refuse_request(
                    user=request.user, access_request=access_request, reason=reason
                )
            except (PermissionDenied, ValidationError) as exc:
                self.message_user(request, f"#{access_request.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, _("已拒绝 #%d") % access_request.pk)


@admin.register(AccessGrant)
class AccessGrantAdmin(ReadOnlyAdminMixin, RestrictedModelAdmin):
    """Grants; revocation (audited) is the only change."""

    list_display = ("id", "resource", "department", "expires_at", "revoked_at", "created_at")
    list_filter = ("revoked_at",)
    list_select_related = ("resource", "department")
    search_fields = ("resource__code", "department__code")
    actions = ["revoke"]

    @admin.action(description=_("撤销所选授权"))
    def revoke(self, request, queryset):
        revocable = set(queryset.restrict(request.user, CHANGE).values_list("pk", flat=True))
        for grant in queryset:
            if grant.pk in revocable:
                services.revoke_grant(user=request.user, grant=grant, reason="admin")
            else:
                self.message_user(request, _("只有提供方可以撤销 #%d") % grant.pk, messages.ERROR)


class PartnerApiKeyForm(forms.ModelForm):
    """Scopes as check boxes; saved through ``api_key_services.set_api_key_scopes`` (audited)."""

    scopes = forms.MultipleChoiceField(
        label=_("权限范围"),
        choices=ApiKeyScope.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=PartnerApiKey._meta.get_field("scopes").help_text,
    )

    class Meta:
        model = PartnerApiKey
        fields = ("name", "scopes", "expiry_date")


@admin.register(PartnerApiKey)
class PartnerApiKeyAdmin(RestrictedAdminMixin, APIKeyModelAdmin):
    """API keys: created with ``create_api_key``; revocable here, scopes changeable here."""

    form = PartnerApiKeyForm
    list_display = (*APIKeyModelAdmin.list_display, "department", "scope_labels")
    list_select_related = ("department",)
    actions = ["revoke"]
    fields = ("prefix", "name", "department", "user", "scopes", "expiry_date", "revoked", "created")

    def get_readonly_fields(self, request, obj=None) -> tuple[str, ...]:
        # The binding is fixed at creation; revoking goes through the audited action.
        fixed = ("department", "user", "revoked", "created")
        inherited = tuple(super().get_readonly_fields(request, obj))
        return (*inherited, *(name for name in fixed if name not in inherited))

    @admin.display(description=_("权限范围"))
    def scope_labels(self, obj: PartnerApiKey) -> str:
        granted = set(obj.scopes or [])
        separator = pgettext("list separator", "、")
        return separator.join(
            str(label) for scope, label in ApiKeyScope.choices if scope in granted
        )

    def save_model(self, request, obj, form, change) -> None:
        wanted = list(obj.scopes or [])
        if change:
            # Scopes change only through the audited service below, not with the form's save.
            obj.scopes = PartnerApiKey.objects.values_list("scopes", flat=True).get(pk=obj.pk)
        super().save_model(request, obj, form, change)
        if change:
            api_key_services.set_api_key_scopes(user=request.user, api_key=obj, scopes=wanted)

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("吊销所选密钥"))
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_services.revoke_api_key(user=request.user, api_key=api_key)


@admin.register(AuditEvent)
class AuditEventAdmin(RestrictedModelAdmin):
    """The audit log, read-only."""

    list_display = ("sequence", "created_at", "actor", "api_key_prefix", "action", "resource_code")
    list_filter = ("action", "outcome")
    search_fields = ("actor", "resource_code", "api_key_prefix")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CalendarDay)
class CalendarDayAdmin(RestrictedModelAdmin):
    """The official calendar table (工作日历): holidays and 调休 working days entered by
    operators; they override the packaged calendar. Saves and deletes are audited."""

    list_display = ("date", "kind", "name", "source")
    list_filter = ("kind",)
    search_fields = ("name", "source")
    date_hierarchy = "date"

    def save_model(self, request, obj, form, change) -> None:
        if change and "date" in form.changed_data:
            # A moved date is the old entry removed and the new one entered.
            calendar.delete_calendar_day(user=request.user, day=CalendarDay.objects.get(pk=obj.pk))
            obj.pk = None
        result = calendar.save_calendar_day(
            user=request.user, date=obj.date, kind=obj.kind, name=obj.name, source=obj.source
        )
        obj.pk = result.day.pk

    def delete_model(self, request, obj) -> None:
        calendar.delete_calendar_day(user=request.user, day=obj)

    def delete_queryset(self, request, queryset) -> None:
        with transaction.atomic():
            for day in queryset.order_by("pk"):
                calendar.delete_calendar_day(user=request.user, day=day)
