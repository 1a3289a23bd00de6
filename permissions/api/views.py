"""Access requests over REST: ``/api/v1/access-requests/`` (申请 → 审批)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import VIEW
from permissions import request_checks, services
from permissions.api.filters import AccessRequestFilterSet
from permissions.api.serializers import (
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    ApproveSerializer,
    DuplicateRequestSerializer,
    RefuseSerializer,
)
from permissions.models import AccessRequest, ApiKeyScope


def _drf_errors(exc: DjangoValidationError):
    detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    return ValidationError(detail)


class AccessRequestViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Requests filed by the caller's departments or addressed to them as provider."""

    # Asking for, approving or refusing access writes no data: a "read" key may do it.
    api_key_scope = ApiKeyScope.READ
    serializer_class = AccessRequestSerializer
    # List filters apply on top of the requests the caller may see.
    filter_backends = [DjangoFilterBackend]
    filterset_class = AccessRequestFilterSet

    def get_queryset(self):
        queryset = AccessRequest.objects.select_related("resource", "requester", "grant")
        if getattr(self, "swagger_fake_view", False):
            return queryset.none()
        return queryset.restrict(self.request.user, VIEW)

    @extend_schema(
        request=AccessRequestCreateSerializer,
        responses={
            201: AccessRequestSerializer,
            409: OpenApiResponse(
                DuplicateRequestSerializer,
                description="The department already has a pending request for the resource.",
            ),
        },
    )
    def create(self, request: Request) -> Response:
        data = AccessRequestCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        resource = DataResource.objects.restrict(request.user, VIEW).filter(code=values["resource"])
        resource = resource.first()
        if resource is None:
            raise Http404
        code = values.get("requester")
        # Requests are filed for one of the caller's own departments.
        own = Department.objects.restrict(request.user, "member")
        requester = (own.filter(code=code) if code else own.order_by("pk")).first()
        if requester is None:
            raise ValidationError({"requester": "unknown department"})
        try:
            created = services.request_access(
                user=request.user,
                requester=requester,
                resource=resource,
                purpose=values["purpose"],
                fields=values.get("fields"),
                districts=values.get("districts"),
                duration_days=values["duration_days"],
            )
        except request_checks.DuplicateRequest as exc:
            return Response(
                {"detail": exc.messages[0], "existing": exc.existing.pk},
                status=status.HTTP_409_CONFLICT,
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        body = AccessRequestSerializer(created).data
        return Response(body, status=status.HTTP_201_CREATED)

    def _check_may_decide(self, access_request) -> None:
        try:
            request_checks.check_may_decide(user=self.request.user, access_request=access_request)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc

    @extend_schema(request=ApproveSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str) -> Response:
        """Approve (provider only): creates the expiring grant."""
        access_request = self.get_object()
        self._check_may_decide(access_request)
        data = ApproveSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.approve_request(
                user=request.user,
                access_request=access_request,
                clear_fields=data.validated_data.get("clear_fields"),
                fields=data.validated_data.get("fields"),
                districts=data.validated_data.get("districts"),
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(AccessRequestSerializer(self.get_object()).data)

    @extend_schema(request=RefuseSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str) -> Response:
        """Refuse (provider only); a reason is required."""
        access_request = self.get_object()
        self._check_may_decide(access_request)
        data = RefuseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.refuse_request(
                user=request.user,
                access_request=access_request,
                reason=data.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(AccessRequestSerializer(self.get_object()).data)

    @extend_schema(
        request=None,
        responses={
            200: AccessRequestSerializer,
            400: OpenApiResponse(description="The request is no longer pending."),
            403: OpenApiResponse(description="Not a member of the requesting department."),
            404: OpenApiResponse(description="No such request visible to the caller."),
        },
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request: Request, pk: str) -> Response:
        """Withdraw (撤回) a pending request (the requesting department only)."""
        access_request = self.get_object()
        try:
            services.withdraw_request(user=request.user, access_request=access_request)
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(AccessRequestSerializer(self.get_object()).data)
