"""REST API of the operations view (/api/v1/ops/), for big screens and the dashboard."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response

from hub.models import Domain
from operations import selectors
from operations.api.serializers import (
    AlertDetailSerializer,
    AlertSerializer,
    PointSerializer,
    ReadingSerializer,
    TransitionRequestSerializer,
    WorkOrderSerializer,
)
from operations.models import Alert, AlertState, Level, MonitoringPoint, WorkOrder, WorkOrderState
from operations.services.workorders import transition_work_order

DISTRICT = OpenApiParameter("district", str, description="GB/T 2260 district code (区划代码)")
DOMAIN = OpenApiParameter("domain", str, enum=Domain.values, description="Domain (领域)")


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError as exc:
        raise Http404 from exc


@extend_schema_view(list=extend_schema(parameters=[DOMAIN, DISTRICT]))
class PointViewSet(viewsets.ReadOnlyModelViewSet):
    """Monitoring points (监测点) of resources whose records the caller may view."""

    serializer_class = PointSerializer
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MonitoringPoint.objects.none()
        params = self.request.query_params
        return selectors.point_list(
            user=self.request.user, domain=params.get("domain"), district=params.get("district")
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("metric", str, description="Metric (指标)"),
            OpenApiParameter("limit", int, description="At most this many (default 200)"),
        ],
        responses=ReadingSerializer(many=True),
    )
    @action(detail=True, methods=["get"])
    def readings(self, request: Request, pk: str) -> Response:
        """The latest readings of the point, oldest first (a time series)."""
        limit = min(_int(request.query_params.get("limit")) or 200, 2000)
        try:
            rows = selectors.point_readings(
                user=request.user,
                point_id=_int(pk),
                metric=request.query_params.get("metric"),
                limit=limit,
            )
        except MonitoringPoint.DoesNotExist as exc:
            raise Http404 from exc
        labels = selectors.metric_labels(resource_ids={r.resource_id for r in rows})
        return Response(ReadingSerializer(rows, many=True, context={"labels": labels}).data)


ALERT_FILTERS = [
    OpenApiParameter("level", int, enum=Level.values, description="1 蓝 … 4 红"),
    DOMAIN,
    DISTRICT,
    OpenApiParameter("state", str, enum=AlertState.values, description="open | closed"),
]


@extend_schema_view(list=extend_schema(parameters=ALERT_FILTERS))
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Alerts (预警) the caller may see; others are 404."""

    filter_backends: list = []

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        params = self.request.query_params
        return selectors.alert_list(
            user=self.request.user,
            level=_int(params.get("level")),
            domain=params.get("domain"),
            district=params.get("district"),
            state=params.get("state"),
        )

    def get_object(self) -> Alert:
        try:
            return selectors.alert_get(user=self.request.user, alert_id=_int(self.kwargs["pk"]))
        except Alert.DoesNotExist as exc:
            raise Http404 from exc


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=WorkOrderState.values),
            OpenApiParameter("department", str, description="Department code (处置部门)"),
        ]
    )
)
class WorkOrderViewSet(viewsets.ReadOnlyModelViewSet):
    """Work orders (工单) of visible alerts or of the caller's departments."""

    serializer_class = WorkOrderSerializer
    filter_backends: list = []

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "now": timezone.now()}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkOrder.objects.none()
        params = self.request.query_params
        return selectors.work_order_list(
            user=self.request.user, state=params.get("state"), department=params.get("department")
        )

    def get_object(self) -> WorkOrder:
        try:
            return selectors.work_order_get(
                user=self.request.user, work_order_id=_int(self.kwargs["pk"])
            )
        except WorkOrder.DoesNotExist as exc:
            raise Http404 from exc

    @extend_schema(request=TransitionRequestSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request: Request, pk: str) -> Response:
        """Move the order: its department accepts, starts and resolves (with feedback);
        the resource's provider or the ops centre, never the resolving department,
        verifies, sends back or closes. 403 outside the role, 409 for an invalid move."""
        order = self.get_object()
        body = TransitionRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            moved = transition_work_order(
                user=request.user,
                work_order=order,
                to_state=body.validated_data["to"],
                feedback=body.validated_data["feedback"],
            )
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_409_CONFLICT)
        data = WorkOrderSerializer(moved.work_order, context=self.get_serializer_context()).data
        return Response(data)


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def summary(request: Request) -> Response:
    """Alerts by level, domain and district, work order timeliness, data freshness."""
    return Response(selectors.summary(user=request.user))
