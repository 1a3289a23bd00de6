"""The risk page (/risk/): the district map coloured by index, legend, breakdown, trend.

Server-rendered: the table of the latest snapshot comes with the page; the map and the
trend chart are drawn by ``risk/risk.js`` from the same JSON the API serves.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hub.catalog.restricted import VIEW
from risk import selectors
from risk.models import Dimension, Hazard, IndicatorStatus, RiskIndicator
from risk.names import indicator_label, join_names
from risk.policies import is_viewer


def _labels() -> dict:
    return {
        "hazards": {value: str(label) for value, label in Hazard.choices},
        "dimensions": {value: str(label) for value, label in Dimension.choices},
        "statuses": {value: str(label) for value, label in IndicatorStatus.choices},
        "risk": _("风险指数"),
        "stale": _("已过期"),
        "noData": _("无数据"),
        "colon": _("："),
        "mapError": _("地图资源未安装：请运行 make assets（npm ci）"),
    }


def _names(user, codes: list[str]) -> str:
    """The indicators' names, not their codes, in the viewer's language."""
    visible = RiskIndicator.objects.restrict(user, VIEW).filter(code__in=codes)
    names = dict(visible.values_list("code", "name"))
    return join_names(indicator_label(names.get(code, code)) for code in codes)


@login_required
def risk_page(request: HttpRequest) -> HttpResponse:
    """风险谱系: the latest index per district for one hazard."""
    if not is_viewer(request.user):
        raise PermissionDenied
    hazard = request.GET.get("hazard") or Hazard.ALL
    if hazard not in Hazard.values:
        hazard = Hazard.ALL
    snapshot = selectors.latest_snapshot(user=request.user)
    rows = (
        selectors.district_scores(user=request.user, snapshot=snapshot, hazard=hazard)
        if snapshot
        else []
    )
    rows.sort(key=lambda r: (r["risk"] is None, -(r["risk"] or 0)))
    for row in rows:
        for item in row["indicators"]:
            item["name"] = indicator_label(item["name"])
    hazards = selectors.hazards(user=request.user, snapshot=snapshot) if snapshot else []
    context = {
        "snapshot": snapshot,
        "hazard": hazard,
        "hazards": [(h, Hazard(h).label) for h in hazards if h in Hazard.values],
        "rows": rows,
        "legend": selectors.legend(),
        "labels": _labels(),
        "dimensions": Dimension,
        "stale_names": _names(request.user, snapshot.stale_indicators) if snapshot else "",
        "unavailable_names": (
            _names(request.user, snapshot.unavailable_indicators) if snapshot else ""
        ),
    }
    return render(request, "risk/index.html", context)
