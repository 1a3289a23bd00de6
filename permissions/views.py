"""Site pages of the sharing workflow (申请共享 in two clicks), mounted under /access/.

- ``request/<code>/``: the request form (fields and districts as check boxes);
- ``mine/``: the requests of the caller's departments, their status and, once approved,
  a link to the data;
- ``queue/``: the provider's pending requests with their working-day deadline;
- ``queue/<pk>/``: approve, approve in part, or refuse with a reason;
- ``<pk>/withdraw/``: the requesting department withdraws (撤回) a pending request.

Every read goes through ``restrict``; every write through ``permissions.services``.
A request the caller may not decide is a 404, as is a resource they may not see.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST

from hub.catalog.models import DataResource, Department, SharingType
from hub.catalog.restricted import CHANGE, VIEW
from permissions import request_checks, services
from permissions.forms import APPROVE, AccessRequestForm, DecisionForm
from permissions.models import AccessRequest, RequestStatus
from permissions.scopes import district_names
from permissions.selectors import user_department_ids


def data_url(code: str) -> str:
    """Where an approved requester reads the data: the explorer page when the explorer is
    installed, else the records API."""
    try:
        return reverse("explorer:resource", args=[code])
    except NoReverseMatch:
        return reverse("resource-detail", args=[code]) + "records/"


def _page(request: HttpRequest, template: str, title: str, **context) -> TemplateResponse:
    context = {**admin.site.each_context(request), "title": title, **context}
    return TemplateResponse(request, f"permissions/access/{template}", context)


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            form.add_error(name if name in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


@login_required
@require_http_methods(["GET", "POST"])
def request_page(request: HttpRequest, code: str) -> HttpResponse:
    """申请共享 for one resource the caller may see (not 不予共享)."""
    resources = DataResource.objects.restrict(request.user, VIEW).exclude(
        sharing_type=SharingType.NONE
    )
    resource = get_object_or_404(resources.select_related("provider"), code=code)
    departments = list(Department.objects.restrict(request.user, "member").order_by("code"))
    if not departments:
        raise PermissionDenied(_("只能以本部门名义申请。"))
    form = AccessRequestForm(
        request.POST or None, user=request.user, resource=resource, departments=departments
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_access(
                user=request.user,
                requester=form.requester_department(),
                resource=resource,
                purpose=form.cleaned_data["purpose"],
                fields=form.cleaned_data["fields"],
                districts=form.cleaned_data["districts"],
                duration_days=form.cleaned_data["duration_days"],
            )
        except request_checks.DuplicateRequest as exc:
            messages.warning(request, exc.messages[0])
            return redirect(_row_url(exc.existing.pk))
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已提交共享申请 #%(pk)d，提供部门须在 %(date)s 前答复。")
                % {"pk": created.pk, "date": _local_date(created.due_at)},
            )
            return redirect("access:mine")
    return _page(
        request,
        "request_form.html",
        _("申请共享：%(name)s") % {"name": resource.name},
        resource=resource,
        form=form,
        answer_days=request_checks.answer_days(),
    )


def _local_date(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _row_url(pk: int) -> str:
    """The caller's list, at the row of request ``pk``."""
    return f"{reverse('access:mine')}#request-{pk}"


def _overdue(item: AccessRequest, now) -> bool:
    # Computed here rather than read from the stored flag, which only the hourly beat task
    # sets: a pending request past its deadline, or one answered after it.
    if item.status == RequestStatus.PENDING:
        return item.due_at < now
    if item.status == RequestStatus.WITHDRAWN:
        return False  # nobody was left to answer it
    return item.overdue or (item.decided_at is not None and item.decided_at > item.due_at)


def _status(item: AccessRequest, grant) -> tuple[str, str]:
    """CSS state and label of a row: an approval whose grant ended reads as its end."""
    if grant is not None and grant.revoked_at is not None:
        return "revoked", _("已撤销")
    if grant is not None and not grant.is_active:
        return "expired", pgettext("grant", "已过期")
    return item.status, item.get_status_display()


def _rows(queryset, user) -> list[dict]:
    names = district_names(user)
    now = timezone.now()
    rows = []
    for item in queryset:
        # The reverse one-to-one raises a subclass of AttributeError when there is no grant.
        grant = getattr(item, "grant", None) if item.status == RequestStatus.APPROVED else None
        state, label = _status(item, grant)
        rows.append(
            {
                "request": item,
                "districts": [names.get(code, code) for code in item.districts],
                "grant": grant,
                "granted_districts": [names.get(c, c) for c in grant.districts] if grant else [],
                "data_url": data_url(item.resource.code) if grant and grant.is_active else "",
                "state": state,
                "state_label": label,
                "overdue": _overdue(item, now),
                "may_request_again": state in ("revoked", "expired")
                and item.resource.sharing_type != SharingType.NONE,
            }
        )
    return rows


@login_required
def my_requests(request: HttpRequest) -> TemplateResponse:
    """The requests of the caller's departments (all requests for superusers)."""
    queryset = AccessRequest.objects.restrict(request.user, VIEW).select_related(
        "resource", "requester", "requested_by", "decided_by", "grant"
    )
    if not request.user.is_superuser:
        queryset = queryset.filter(requester_id__in=user_department_ids(request.user))
    return _page(request, "mine.html", _("我的共享申请"), rows=_rows(queryset[:200], request.user))


@login_required
@require_POST
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    """撤回 one pending request of the caller's department (anyone else: 404, as decide)."""
    visible = AccessRequest.objects.restrict(request.user, VIEW).select_related(
        "resource", "requester"
    )
    access_request = get_object_or_404(visible, pk=pk)
    try:
        services.withdraw_request(user=request.user, access_request=access_request)
    except PermissionDenied as exc:
        raise Http404 from exc
    except ValidationError:
        messages.info(request, _("该申请已处理。"))
    else:
        messages.success(request, _("已撤回 #%d") % access_request.pk)
    return redirect(_row_url(access_request.pk))


@login_required
def queue(request: HttpRequest) -> TemplateResponse:
    """The provider's queue: pending requests the caller may decide, oldest deadline first."""
    decidable = AccessRequest.objects.restrict(request.user, CHANGE).select_related(
        "resource", "requester", "requested_by", "decided_by", "grant"
    )
    pending = decidable.filter(status=RequestStatus.PENDING).order_by("due_at", "pk")
    decided = decidable.exclude(status=RequestStatus.PENDING).order_by("-decided_at", "-pk")
    return _page(
        request,
        "queue.html",
        _("待审批的共享申请"),
        pending=_rows(pending[:200], request.user),
        decided=_rows(decided[:50], request.user),
        answer_days=request_checks.answer_days(),
    )


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    """Approve (in full or in part) or refuse one pending request (provider only, else 404)."""
    decidable = AccessRequest.objects.restrict(request.user, CHANGE).select_related(
        "resource", "requester", "requested_by"
    )
    access_request = get_object_or_404(decidable, pk=pk)
    if access_request.status != RequestStatus.PENDING:
        messages.info(request, _("该申请已处理。"))
        return redirect("access:queue")
    try:
        # The provider's staff who are also in the requesting department may not decide.
        request_checks.check_may_decide(user=request.user, access_request=access_request)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
        return redirect("access:queue")
    form = DecisionForm(request.POST or None, user=request.user, access_request=access_request)
    if request.method == "POST" and form.is_valid():
        try:
            if form.cleaned_data["decision"] == APPROVE:
                services.approve_request(
                    user=request.user,
                    access_request=access_request,
                    fields=form.granted("fields"),
                    districts=form.granted("districts"),
                )
                messages.success(request, _("已批准 #%d") % access_request.pk)
            else:
                services.refuse_request(
                    user=request.user,
                    access_request=access_request,
                    reason=form.cleaned_data["reason"].strip(),
                )
                messages.success(request, _("已拒绝 #%d") % access_request.pk)
        except PermissionDenied as exc:
            raise Http404 from exc
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("access:queue")
    names = district_names(request.user)
    return _page(
        request,
        "decide.html",
        _("审批共享申请 #%d") % access_request.pk,
        item=access_request,
        asked_districts=[names.get(code, code) for code in access_request.districts],
        form=form,
    )
