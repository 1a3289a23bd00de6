"""REST API of the risk index (/api/v1/risk/): latest scores, history, map layer.

Visible to all staff (``risk.policies``); the breakdown's sources follow the viewer's
access to each resource (``risk.selectors``).
"""

from __future__ import annotations

import re

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from risk import selectors
from risk.api.serializers import (
    DistrictsQuerySerializer,
    HistoryQuerySerializer,
    MapQuerySerializer,
)
from risk.policies import is_viewer

DISTRICT = re.compile(r"^[0-9]{6,12}$")


def _viewer(request: Request) -> None:
    if not is_viewer(request.user):
        raise PermissionDenied


@extend_schema(parameters=[DistrictsQuerySerializer], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def districts(request: Request) -> Response:
    """The latest snapshot: per district and hazard, the three dimensions, the risk, its
    class and the per-indicator breakdown (raw, normalised, source, freshness, stale)."""
    _viewer(request)
    query = DistrictsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    snapshot = selectors.latest_snapshot(user=request.user)
    if snapshot is None:
        return Response({"snapshot": None, "legend": selectors.legend(), "results": []})
    results = selectors.district_scores(
        user=request.user,
        snapshot=snapshot,
        hazard=query.validated_data.get("hazard"),
        district=query.validated_data.get("district"),
    )
    return Response(
        {
            "snapshot": {
                "id": snapshot.pk,
                "computed_at": snapshot.computed_at,
                "trigger": snapshot.trigger,
                "department": snapshot.department,
                "stale_indicators": snapshot.stale_indicators,
                "unavailable_indicators": snapshot.unavailable_indicators,
            },
            "legend": selectors.legend(),
            "results": results,
        }
    )


@extend_schema(parameters=[HistoryQuerySerializer], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def district_history(request: Request, code: str) -> Response:
    """The trend of one district for one hazard (oldest first)."""
    _viewer(request)
    if not DISTRICT.match(code):
        raise Http404
    query = HistoryQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    rows = selectors.history(
        user=request.user,
        district=code,
        hazard=query.validated_data["hazard"],
        limit=query.validated_data["limit"],
    )
    return Response({"district": code, "hazard": query.validated_data["hazard"], "results": rows})


@extend_schema(parameters=[MapQuerySerializer], responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def map_layer(request: Request) -> Response:
    """The map layer: district code, name, index and class, with the legend classes."""
    _viewer(request)
    query = MapQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return Response(selectors.map_layer(user=request.user, hazard=query.validated_data["hazard"]))
