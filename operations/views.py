"""The operations dashboard page (/ops/). Data comes from the ops API, refreshed in place."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hub.catalog.models import CodeItem, Domain
from operations.models import Level, WorkOrderState

REFRESH_SECONDS = 30


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
    }


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The 运行态势 page: district map, alerts, time series, work orders, freshness."""
    districts = dict(
        CodeItem.objects.restrict(request.user, "view")
        .filter(code_list__code="gb2260-shanghai")
        .order_by("code_list__version", "order")
        .values_list("code", "name")
    )
    context = {
        "districts": districts,
        "labels": _labels(),
        "refresh_seconds": REFRESH_SECONDS,
    }
    return render(request, "operations/dashboard.html", context)
