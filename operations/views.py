"""Pages of the ops centre (/ops/): the dashboard, the 大屏 screen, one order's loop and
its moves. Reads go through the selectors (the doors), moves through the work order
services; ops centre reads under the 一网统管 policy are audited."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_
from django.views.decorators.http import require_POST

from hub.catalog.models import CodeItem, Department, Domain
from hub.catalog.restricted import VIEW
from operations import selectors
from operations.audit import log_ops_centre_read
from operations.hazards import hazard_label
from operations.models import Level, MonitoringPoint, WorkOrder, WorkOrderState
from operations.panels import registered_panels
from operations.policies import ops_centre_department
from operations.services import workorders as services
from operations.timeline import level_label, local, order_timeline
from operations.values import point_label, value_access

REFRESH_SECONDS = 30
SCREEN_REFRESH_SECONDS = 15
MAX_POINTS = 5000  # markers on the 大屏
MOVE_LABELS = {
    "dispatch": N_("派单"),
    "urge": N_("督办"),
    "accept": N_("签收"),
    "start": N_("开始处置"),
    "resolve": N_("办结"),
    "send_back": N_("核查不通过，退回处置"),
    "verify": N_("核查通过"),
    "close": N_("归档"),
}


def _move_label(move: str) -> str:
    return _(MOVE_LABELS[move])


def _labels() -> dict:
    """UI strings the page's script needs, translated on the server."""
    return {
        "levels": {str(value): str(label) for value, label in Level.choices},
        "domains": {value: str(label) for value, label in Domain.choices},
        "orderStates": {value: str(label) for value, label in WorkOrderState.choices},
        "timeliness": {
            "on_time": _("时限内"),
            "overdue": _("已超时"),
            "done_on_time": _("按时办结"),
            "done_late": _("超时办结"),
        },
        "freshness": {"fresh": _("按时更新"), "stale": _("更新超时"), "never": _("尚无数据")},
        "none": _("无预警"),
        "noAlerts": _("当前无预警"),
        "noOrders": _("暂无工单"),
        "pickAlert": _("点击预警查看监测点时间序列"),
        "updated": _("更新于"),
        "colon": _("："),
        "mapError": _("地图资源未安装：请运行 make assets（npm ci）"),
        "points": _("监测点"),
        "city": _("全市"),
        "back": _("返回全市"),
        "undisclosed": _("区划未公开的预警"),
    }


def _districts(request: HttpRequest) -> dict[str, str]:
    return dict(
        CodeItem.objects.restrict(request.user, VIEW)
        .filter(code_list__code="gb2260-shanghai")
        .order_by("code_list__version", "order")
        .values_list("code", "name")
    )


def _clock() -> dict:
    """The server's time and zone offset, so the screen's clock never follows the viewer's."""
    now = timezone.localtime()
    return {
        "epoch_ms": int(now.timestamp() * 1000),
        "offset_minutes": int(now.utcoffset().total_seconds() // 60),
        "zone": str(timezone.get_current_timezone()),
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The 运行态势 page (``?screen=1``: the 大屏 mode)."""
    if request.GET.get("screen") == "1":
        return screen(request)
    log_ops_centre_read(request.user, view="dashboard")
    context = {
        "districts": _districts(request),
        "labels": _labels(),
        "refresh_seconds": REFRESH_SECONDS,
        "ops_centre": ops_centre_department(request.user),
        "panels": registered_panels(),
    }
    return render(request, "operations/dashboard.html", context)


@login_required
def screen(request: HttpRequest) -> HttpResponse:
    """The full-screen 大屏: 16:9, server clock, alert ticker, legend, point markers,
    drill-down from the city to a district, refreshed from ``screen_data`` every
    ``?refresh=`` seconds (2–3600, default 15)."""
    log_ops_centre_read(request.user, view="screen")
    refresh = request.GET.get("refresh", "")
    seconds = (
        int(refresh)
        if refresh.isascii() and refresh.isdigit() and 2 <= int(refresh) <= 3600
        else None
    )
    context = {
        "districts": _districts(request),
        "labels": _labels(),
        "refresh_seconds": seconds or SCREEN_REFRESH_SECONDS,
        "clock": _clock(),
    }
    return render(request, "operations/screen.html", context)


def _stamp(value) -> str:
    moment = local(value)
    return f"{moment:%Y-%m-%d %H:%M}" if moment else ""


@login_required
def screen_data(request: HttpRequest) -> JsonResponse:
    """What the screen draws, in one JSON document: summary, open alerts, points, clock.
    Times are Asia/Shanghai strings made here."""
    user = request.user
    summary = selectors.summary(user=user)
    districts = _districts(request)
    alerts = list(selectors.alert_list(user=user, state="open")[:50])
    worst = dict(  # the worst open alert of each point, over all open alerts
        selectors.alert_list(user=user, state="open")
        .exclude(point=None)
        .values_list("point_id")
        .annotate(worst=Max("level"))
        .order_by()
    )
    rows = list(
        selectors.point_list(user=user)
        .exclude(latitude=None)
        .values_list(
            "pk",
            "resource_id",
            "name",
            "external_id",
            "district_code",
            "longitude",
            "latitude",
            "department__short_name",
        )[:MAX_POINTS]
    )  # tuples, not model instances: thousands of markers per poll
    # Alerts and points are viewed alike (ops-wide or by grant): one set of clearances.
    values = value_access(user=user, model=MonitoringPoint)
    values.prepare({row[1] for row in rows} | {a.resource_id for a in alerts})
    points = []
    for pk, resource_id, name, external_id, district, lon, lat, department in rows:
        clearance = values.clearance(resource_id)
        if not clearance.attribute(MonitoringPoint, "latitude") or not clearance.attribute(
            MonitoringPoint, "longitude"
        ):
            continue  # no marker where the coordinates' fields are not read in clear
        shown = clearance.attribute(MonitoringPoint, "name") and name
        if not shown and clearance.attribute(MonitoringPoint, "external_id"):
            shown = external_id
        points.append(
            {
                "id": pk,
                "name": shown or "",
                "district": district
                if clearance.attribute(MonitoringPoint, "district_code")
                else "",
                "lon": lon,
                "lat": lat,
                "level": worst.get(pk, 0),
                "department": department,
            }
        )
    payload = {
        "generated_at": _stamp(summary["generated_at"]),
        "clock": _clock(),
        "summary": {**summary, "generated_at": _stamp(summary["generated_at"])},
        "alerts": [
            {
                "id": a.pk,
                "level": a.level,
                "level_label": level_label(a.level),
                "hazard": hazard_label(a.hazard),
                "district": districts.get(code, code),
                "district_code": code,
                "point": point_label(values, a.point) if a.point_id else "",
                "opened_at": _stamp(values.alert_times(a)["opened_at"]),
            }
            for a in alerts
            for code in [_alert_district(values, a)]
        ],
        "points": points,
    }
    log_ops_centre_read(user, view="screen_data", rows=len(alerts) + len(points))
    return JsonResponse(payload)


def _alert_district(values, alert) -> str:
    """An alert's district, blank where it is not read in clear (a point alert's is its
    point's; a compound alert's its points' and events': ``alert_district_clear``)."""
    return alert.district_code if values.alert_district_clear(alert) else ""


def _order_or_404(request: HttpRequest, pk: int) -> WorkOrder:
    try:
        return selectors.work_order_get(user=request.user, work_order_id=pk)
    except WorkOrder.DoesNotExist as exc:
        raise Http404 from exc


@login_required
def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One order: its facts, the closed-loop timeline and the moves the user may make."""
    order = _order_or_404(request, pk)
    log_ops_centre_read(request.user, view="work_order", rows=1, detail={"work_order": order.code})
    moves = services.available_moves(user=request.user, order=order)
    departments = (
        Department.objects.restrict(request.user, VIEW)
        .filter(is_active=True)
        .order_by("code")
        .values_list("pk", "short_name")
        if "dispatch" in moves
        else []
    )
    context = {
        "order": order,
        "alert": order.alert,
        "level_label": level_label(order.alert.level),
        "state_label": services.state_label(order.state),
        "timeline": order_timeline(user=request.user, order=order),
        "moves": [(m, _move_label(m)) for m in moves],
        "departments": departments,
        "times": {
            "dispatched_at": local(order.dispatched_at),
            "accept_by": local(order.accept_by),
            "resolve_by": local(order.resolve_by),
        },
        "timeliness": _labels()["timeliness"][selectors.timeliness(order, timezone.now())],
    }
    return render(request, "operations/order.html", context)


@login_required
@require_POST
def order_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Make one move (POST ``move``) on an order through the services; errors come back
    as messages on the order page."""
    order = _order_or_404(request, pk)
    move = request.POST.get("move", "")
    if move not in MOVE_LABELS:
        messages.error(request, _("未知的操作。"))
        return redirect("operations:order", pk=order.pk)
    text = request.POST.get("feedback", "")
    try:
        if move == "dispatch":
            # The role first: someone outside the ops centre learns nothing of the form.
            services.check_ops_centre(user=request.user, action="dispatch")
            department = _department(request)
            if department is None:
                return _bad_department(request, order)
            services.dispatch_work_order(
                user=request.user, work_order=order, department=department, note=text
            )
        elif move == "urge":
            services.urge_work_order(user=request.user, work_order=order, note=text)
        else:
            target, sources = services.MOVES[move]
            services.check_move_role(user=request.user, order=order, move=move)
            if order.state not in sources:
                raise ValidationError(
                    _("工单不能从“%(from)s”变为“%(to)s”。")
                    % {
                        "from": services.state_label(order.state),
                        "to": services.state_label(target),
                    }
                )
            services.transition_work_order(
                user=request.user, work_order=order, to_state=target, feedback=text
            )
    except (PermissionDenied, ValidationError) as exc:
        reason = _("；").join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
        messages.error(request, f"{_move_label(move)}{_('：')}{reason}")
    else:
        messages.success(
            request,
            _("工单 %(code)s：%(move)s 完成。") % {"code": order.code, "move": _move_label(move)},
        )
    return redirect("operations:order", pk=order.pk)


def _department(request: HttpRequest) -> Department | None:
    """The department picked for 派单, or None for a missing or malformed choice."""
    raw = request.POST.get("department", "")
    # ASCII digits only: str.isdigit() also accepts "²" (int() fails) and "١" (read as 1).
    if not (raw.isascii() and raw.isdigit()):
        return None
    return (
        Department.objects.restrict(request.user, VIEW).filter(pk=int(raw), is_active=True).first()
    )


def _bad_department(request: HttpRequest, order: WorkOrder) -> HttpResponse:
    """The order page again, with the error, as a 400: the form's value was not usable."""
    messages.error(request, f"{_move_label('dispatch')}{_('：')}{_('请选择处置部门。')}")
    response = order_detail(request, order.pk)
    response.status_code = 400
    return response
