"""REST API of the operations view (/api/v1/ops/), for big screens and the dashboard."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action, api_view
from rest_framework.exceptions import PermissionDenied as DRFPermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from hub.catalog.models import Department
from hub.catalog.restricted import VIEW
from operations import selectors
from operations.api.filters import (
    AlertFilterSet,
    PointFilterSet,
    ReadingsQuerySerializer,
    WorkOrderFilterSet,
)
from operations.api.serializers import (
    AlertDetailSerializer,
    AlertSerializer,
    DispatchRequestSerializer,
    PointSerializer,
    ReadingSerializer,
    TransitionRequestSerializer,
    UrgeRequestSerializer,
    WorkOrderSerializer,
)
from operations.audit import log_ops_centre_read
from operations.models import Alert, MonitoringPoint, Reading, WorkOrder
from operations.services.workorders import (
    check_ops_centre,
    dispatch_work_order,
    transition_work_order,
    urge_work_order,
)
from operations.values import value_access

MAX_ID = 2**63 - 1  # Ids are 64-bit; a larger number names no object.


def _int(value: str | None) -> int | None:
    """An object id from the path: a 404 when it cannot name one."""
    try:
        number = int(value) if value and len(value) <= 20 else None
    except ValueError as exc:
        raise Http404 from exc
    if number is None or not 1 <= number <= MAX_ID:
        raise Http404
    return number


class OpsCentreAudited:
    """Reads by the ops centre under the 一网统管 policy append a ``read`` audit event."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method == "GET" and response.status_code == 200:
            data = response.data
            results = data.get("results") if isinstance(data, dict) else data
            rows = len(results) if isinstance(results, list) else 1
            log_ops_centre_read(request.user, view=f"api:{self.basename}:{self.action}", rows=rows)
        return response


class PointViewSet(OpsCentreAudited, viewsets.ReadOnlyModelViewSet):
    """Monitoring points (监测点) of resources whose records the caller may view."""

    serializer_class = PointSerializer
    # Filters apply on top of what the selector lets the caller see.
    filter_backends = [DjangoFilterBackend]
    filterset_class = PointFilterSet

    def get_serializer_context(self):
        values = value_access(user=self.request.user, model=MonitoringPoint)
        return {**super().get_serializer_context(), "values": values}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MonitoringPoint.objects.none()
        return selectors.point_list(user=self.request.user)

    @extend_schema(parameters=[ReadingsQuerySerializer], responses=ReadingSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def readings(self, request: Request, pk: str) -> Response:
        """The latest readings of the point, oldest first (a time series, one array)."""
        query = ReadingsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = value_access(user=request.user, model=Reading)
        try:
            rows = selectors.point_readings(
                user=request.user,
                point_id=_int(pk),
                metric=query.validated_data.get("metric") or None,
                limit=query.validated_data["limit"],
                values=values,
            )
        except MonitoringPoint.DoesNotExist as exc:
            raise Http404 from exc
        labels = selectors.metric_labels(
            user=request.user, resource_ids={r.resource_id for r in rows}
        )
        context = {"labels": labels, "values": values}
        return Response(ReadingSerializer(rows, many=True, context=context).data)


class AlertViewSet(OpsCentreAudited, viewsets.ReadOnlyModelViewSet):
    """Alerts (预警) the caller may see; others are 404."""

    filter_backends = [DjangoFilterBackend]
    filterset_class = AlertFilterSet

    def get_serializer_class(self):
        return AlertDetailSerializer if self.action == "retrieve" else AlertSerializer

    def get_serializer_context(self):
        values = value_access(user=self.request.user, model=Alert)
        return {**super().get_serializer_context(), "values": values}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Alert.objects.none()
        return selectors.alert_list(user=self.request.user)

    def get_object(self) -> Alert:
        try:
            return selectors.alert_get(user=self.request.user, alert_id=_int(self.kwargs["pk"]))
        except Alert.DoesNotExist as exc:
            raise Http404 from exc


class WorkOrderViewSet(OpsCentreAudited, viewsets.ReadOnlyModelViewSet):
    """Work orders (工单) of visible alerts or of the caller's departments."""

    serializer_class = WorkOrderSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = WorkOrderFilterSet

    def get_serializer_context(self):
        values = value_access(user=self.request.user, model=Alert)
        return {**super().get_serializer_context(), "now": timezone.now(), "values": values}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return WorkOrder.objects.none()
        return selectors.work_order_list(user=self.request.user)

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

    def _check_ops_centre(self, action_name: str) -> None:
        try:
            check_ops_centre(user=self.request.user, action=action_name)
        except PermissionDenied as exc:
            raise DRFPermissionDenied(str(exc)) from exc

    def _ops_move(self, call) -> Response:
        try:
            moved = call()
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ValidationError as exc:
            return Response({"detail": exc.messages}, status=status.HTTP_409_CONFLICT)
        data = WorkOrderSerializer(moved.work_order, context=self.get_serializer_context()).data
        return Response(data)

    @extend_schema(request=DispatchRequestSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"], url_path="dispatch")  # ``dispatch`` is the view's
    def dispatch_to(self, request: Request, pk: str) -> Response:
        """派单: the ops centre assigns the order (dispatched, accepted or in progress) to a
        department, which starts it again with fresh deadlines. 400 for an unknown
        department, 403 outside the ops centre, 409 for an order already resolved."""
        order = self.get_object()
        self._check_ops_centre("dispatch")
        body = DispatchRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        department = (
            Department.objects.restrict(request.user, VIEW)
            .filter(code=body.validated_data["department"], is_active=True)
            .first()
        )
        if department is None:
            return Response({"department": [_("未知的部门。")]}, status=status.HTTP_400_BAD_REQUEST)
        return self._ops_move(
            lambda: dispatch_work_order(
                user=request.user,
                work_order=order,
                department=department,
                note=body.validated_data["note"],
            )
        )

    @extend_schema(request=UrgeRequestSerializer, responses=WorkOrderSerializer)
    @action(detail=True, methods=["post"])
    def urge(self, request: Request, pk: str) -> Response:
        """督办: the ops centre presses the assigned department (state unchanged)."""
        order = self.get_object()
        self._check_ops_centre("urge")
        body = UrgeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._ops_move(
            lambda: urge_work_order(
                user=request.user, work_order=order, note=body.validated_data["note"]
            )
        )


@extend_schema(responses=OpenApiTypes.OBJECT)
@api_view(["GET"])
def summary(request: Request) -> Response:
    """Alerts by level, domain and district, work order timeliness, data freshness."""
    data = selectors.summary(user=request.user)
    log_ops_centre_read(request.user, view="api:ops-summary", rows=data["open_alerts"])
    return Response(data)
