"""提出异议 from the data explorer: ``/governance/objections/new/<code>/?key=<record key>``.

The explorer (a peer of governance in the top layer) may not import governance, so it
links here by URL name (``governance:objection-new``) and this page, owned by governance,
files the objection through ``governance.services.file_objection`` (checked, audited). A
resource whose records the caller does not read is a 404, as in the explorer.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from governance import services
from governance.models import ObjectionScope
from governance.pages import apply_errors, page
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import VIEW
from permissions.record_access import record_access


class ObjectionForm(forms.Form):
    department = forms.ChoiceField(label=gettext_lazy("提出部门"))
    scope = forms.ChoiceField(label=gettext_lazy("异议对象"), choices=ObjectionScope.choices)
    record_key = forms.CharField(label=gettext_lazy("记录主键"), required=False, max_length=255)
    field_name = forms.ChoiceField(label=gettext_lazy("字段"), required=False)
    batch_id = forms.IntegerField(
        label=gettext_lazy("批次编号"), required=False, min_value=1, max_value=2**63 - 1
    )
    reason = forms.CharField(
        label=gettext_lazy("异议理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000
    )
    evidence = forms.CharField(
        label=gettext_lazy("佐证说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=4000,
    )
    attachment = forms.FileField(label=gettext_lazy("佐证附件"), required=False)

    def __init__(self, *args, departments, fields, **kwargs):
        super().__init__(*args, **kwargs)
        self.departments = {str(d.pk): d for d in departments}
        self.fields["department"].choices = [(pk, d.name) for pk, d in self.departments.items()]
        self.fields["field_name"].choices = [("", "—"), *fields]


def back_url(code: str) -> str:
    """The explorer's page of the resource when the explorer is installed (by URL name:
    the apps are peers), else the admin's list of objections."""
    try:
        return reverse("explorer:resource", args=[code])
    except NoReverseMatch:
        return reverse("admin:governance_objection_changelist")


@login_required
@require_http_methods(["GET", "POST"])
def objection_new(request: HttpRequest, code: str) -> HttpResponse:
    user = request.user
    resource = DataResource.objects.restrict(user, VIEW).filter(code=code).first()
    access = record_access(user, resource) if resource is not None else None
    if access is None:
        raise Http404
    departments = list(Department.objects.restrict(user, "member").order_by("code"))
    if not departments:
        raise PermissionDenied(_("只能以本部门名义提出异议。"))
    labels = {spec.name: spec.label for spec in access.fields}
    fields = [(name, f"{labels.get(name, name)} ({name})") for name in access.field_names]
    key = (request.GET.get("key") or "")[:255]
    initial = {"record_key": key, "scope": ObjectionScope.RECORD if key else ""}
    form = ObjectionForm(
        request.POST or None,
        request.FILES or None,
        departments=departments,
        fields=fields,
        initial=initial,
    )
    if request.method == "POST" and form.is_valid():
        values = form.cleaned_data
        try:
            result = services.file_objection(
                user=user,
                department=form.departments[values["department"]],
                resource=resource,
                scope=values["scope"],
                reason=values["reason"],
                record_key=values["record_key"],
                field_name=values["field_name"],
                batch_id=values["batch_id"],
                evidence=values["evidence"],
                attachment=values["attachment"],
            )
        except ValidationError as exc:
            apply_errors(form, exc)
        except ObjectDoesNotExist:
            form.add_error(None, _("没有找到可提出异议的数据。"))
        else:
            due = result.objection.due_at
            messages.success(
                request,
                _("已提出数据异议 #%(pk)d，提供部门须在 %(due)s 前答复。")
                % {
                    "pk": result.objection.pk,
                    "due": timezone.localtime(due).strftime("%Y-%m-%d %H:%M"),
                },
            )
            return redirect(back_url(resource.code))
    return page(
        request,
        "objection_new.html",
        _("提出异议：%(name)s") % {"name": resource.name},
        status=400 if form.errors else 200,
        resource=resource,
        form=form,
        back=back_url(resource.code),
        answer_days=services.answer_days(),
    )
