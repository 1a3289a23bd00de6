"""Pages of the 需求清单, mounted under /governance/needs/ (in the hub's admin style, with
the language menu of ``admin/base_site.html``).

- ``needs/``: the needs the caller sees (filed by, routed to their department; all for
  the 共享主管部门), filterable by status;
- ``needs/new/``: file a need;
- ``needs/<pk>/``: one need, with the forms the caller may use (route with the catalog's
  suggestions; link, commit or refuse; close). Each form posts ``do=<action>``.

Reads through ``governance.needs.selectors`` (the need's door); writes through
``governance.needs.services``. A need the caller may not see is a 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from governance.needs import forms, routing, selectors, services
from governance.needs.models import DataNeed, NeedStatus
from governance.needs.policies import ANSWER, CLOSE, ROUTE
from governance.pages import apply_errors, page
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import VIEW
from permissions.scopes import district_names

LIST_LIMIT = 200


@login_required
def need_list(request: HttpRequest) -> TemplateResponse:
    status = request.GET.get("status") or ""
    queryset = selectors.need_list(user=request.user)
    error = ""
    if status and status not in NeedStatus.values:
        error, status = _("状态无效。"), ""
    if status:
        queryset = queryset.filter(status=status)
    return page(
        request,
        "needs/list.html",
        _("需求清单"),
        status=400 if error else 200,
        needs=queryset[:LIST_LIMIT],
        statuses=NeedStatus.choices,
        current=status,
        error=error,
    )


@login_required
@require_http_methods(["GET", "POST"])
def need_new(request: HttpRequest) -> HttpResponse:
    departments = list(Department.objects.restrict(request.user, "member").order_by("code"))
    if not departments:
        raise PermissionDenied(_("只能以本部门名义提出需求。"))
    form = forms.NeedForm(request.POST or None, user=request.user, departments=departments)
    if request.method == "POST" and form.is_valid():
        try:
            result = services.file_need(user=request.user, **form.service_values())
        except ValidationError as exc:
            apply_errors(form, exc)
        else:
            messages.success(
                request,
                _("已提交数据需求 #%(pk)d，等待共享主管部门分派。") % {"pk": result.need.pk},
            )
            return redirect("governance:need", pk=result.need.pk)
    return page(request, "needs/new.html", _("提出数据需求"), form=form)


def _action_forms(request: HttpRequest, need: DataNeed, data=None) -> dict:
    """The forms the caller may use on this need in its state, keyed by action."""
    user, found = request.user, {}
    may = {a: selectors.may(user=user, need=need, action=a) for a in (ROUTE, ANSWER, CLOSE)}
    if may[ROUTE] and need.status in (NeedStatus.FILED, NeedStatus.ROUTED):
        terms = routing.need_terms(keywords=need.keywords, fields=need.fields, title=need.title)
        suggestions = routing.suggest(user=user, terms=terms)
        resources = [m.resource for s in suggestions for m in s.resources]
        departments = Department.objects.restrict(user, VIEW).filter(is_active=True)
        initial = {"provider": suggestions[0].department.code} if suggestions else {}
        found["route"] = forms.RouteForm(
            data if data and data.get("do") == "route" else None,
            prefix="route",
            departments=list(departments.order_by("code")),
            resources=resources,
            initial=initial,
        )
        found["suggestions"] = suggestions
    if may[ANSWER] and need.status == NeedStatus.ROUTED:
        own = DataResource.objects.restrict(user, VIEW).filter(provider_id=need.provider_id)
        chosen = data if data and data.get("do") == "link" else None
        found["link"] = forms.LinkForm(
            chosen,
            prefix="link",
            resources=list(own.order_by("code")),
            initial={"resource": need.candidates[0]} if need.candidates else {},
        )
        found["commit"] = forms.CommitForm(
            data if data and data.get("do") == "commit" else None, prefix="commit"
        )
        found["refuse"] = forms.RefuseForm(
            data if data and data.get("do") == "refuse" else None, prefix="refuse"
        )
    if may[CLOSE] and need.status != NeedStatus.CLOSED:
        found["close"] = forms.CloseForm(
            data if data and data.get("do") == "close" else None, prefix="close"
        )
    return found


ROLE_OF = {"route": ROUTE, "link": ANSWER, "commit": ANSWER, "refuse": ANSWER, "close": CLOSE}


def _may_act(request: HttpRequest, need: DataNeed, action: str) -> bool:
    """Whether the caller holds the role of ``action`` on ``need``, whatever its state."""
    return selectors.may(user=request.user, need=need, action=ROLE_OF[action])


def _write(request: HttpRequest, need: DataNeed, action: str, form) -> services.NeedResult:
    user, values = request.user, form.cleaned_data
    if action == "route":
        provider = form.departments[values["provider"]]
        return services.route_need(
            user=user,
            need=need,
            provider=provider,
            candidates=values["candidates"],
            note=values["note"],
        )
    if action == "link":
        resource = form.resources[values["resource"]]
        return services.answer_link(user=user, need=need, resource=resource, note=values["note"])
    if action == "commit":
        return services.answer_commit(
            user=user, need=need, date=values["date"], note=values["note"]
        )
    if action == "refuse":
        return services.answer_refuse(user=user, need=need, basis=values["basis"])
    return services.close_need(user=user, need=need, note=values["note"])


DONE = {
    "route": gettext_lazy("已分派。"),
    "link": gettext_lazy("已关联资源，并已为需求部门提交共享申请 #%(request)s。"),
    "commit": gettext_lazy("已承诺发布。"),
    "refuse": gettext_lazy("已答复不予提供。"),
    "close": gettext_lazy("需求已关闭。"),
}


@login_required
@require_http_methods(["GET", "POST"])
def need_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        need = selectors.need_get(user=request.user, pk=pk)
    except DataNeed.DoesNotExist as exc:
        raise Http404 from exc
    data = request.POST if request.method == "POST" else None
    action = (data or {}).get("do", "")
    found = _action_forms(request, need, data)
    status = 200
    if request.method == "POST":
        form = found.get(action)
        if action in DONE and form is None and _may_act(request, need, action):
            # The caller could do this, but the need moved on (a double submit, another
            # member answered): say so, as deciding an access request does, not a 403.
            messages.info(request, _("该需求已处理。"))
            return redirect("governance:need", pk=need.pk)
        if action not in DONE or form is None:
            raise PermissionDenied(_("您不能这样办理该需求。"))
        if form.is_valid():
            try:
                result = _write(request, need, action, form)
            except ValidationError as exc:
                apply_errors(form, exc)
            else:
                request_pk = result.access_request.pk if result.access_request else ""
                messages.success(request, str(DONE[action]) % {"request": request_pk})
                return redirect("governance:need", pk=need.pk)
        status = 400
    names = district_names(request.user)
    return page(
        request,
        "needs/detail.html",
        _("数据需求 #%(pk)d") % {"pk": need.pk},
        status=status,
        need=need,
        forms=found,
        districts=[names.get(code, code) for code in need.districts],
    )
