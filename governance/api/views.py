"""Objections and notifications over REST: ``/api/v1/objections/``, ``/api/v1/notifications/``."""

from __future__ import annotations

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from governance import selectors, services
from governance.api.filters import NotificationFilterSet, ObjectionFilterSet
from governance.api.serializers import (
    CorrectSerializer,
    NotificationSerializer,
    ObjectionCreateSerializer,
    ObjectionSerializer,
    RejectSerializer,
)
from governance.models import Notification, Objection
from hub.api.parsers import JSONParser
from hub.catalog.models import DataResource, Department
from hub.records.models import UploadBatch
from permissions.models import ApiKeyScope


def _call(function, **kwargs):
    """A service call with Django's errors turned into DRF's (400, 403, 404)."""
    try:
        return function(**kwargs)
    except DjangoValidationError as exc:
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        raise ValidationError(detail) from exc
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc)) from exc
    except ObjectDoesNotExist as exc:
        raise Http404 from exc


class ObjectionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Objections filed by the caller's departments or addressed to them as provider."""

    # Filing or answering an objection: a "read" key may do it (corrections by batch
    # need the batch uploaded with a push key first).
    api_key_scope = ApiKeyScope.READ
    serializer_class = ObjectionSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = ObjectionFilterSet
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Objection.objects.none()
        return selectors.objection_list(user=self.request.user)

    @extend_schema(request=ObjectionCreateSerializer, responses=ObjectionSerializer)
    def create(self, request: Request) -> Response:
        data = ObjectionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        resource = (
            DataResource.objects.restrict(request.user, "view")
            .filter(code=values["resource"])
            .first()
        )
        if resource is None:
            raise Http404
        code = values.get("department")
        own = Department.objects.restrict(request.user, "member")
        department = (own.filter(code=code) if code else own.order_by("pk")).first()
        if department is None:
            raise ValidationError({"department": "unknown department"})
        result = _call(
            services.file_objection,
            user=request.user,
            department=department,
            resource=resource,
            scope=values["scope"],
            reason=values["reason"],
            record_key=values.get("record_key", ""),
            field_name=values.get("field_name", ""),
            batch_id=values.get("batch"),
            evidence=values.get("evidence", ""),
            attachment=values.get("attachment"),
        )
        return Response(ObjectionSerializer(result.objection).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=CorrectSerializer, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def correct(self, request: Request, pk: str) -> Response:
        """Correct (provider only): a value in place, or a new batch of the resource."""
        objection = self.get_object()
        data = CorrectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        note = values.get("note", "")
        if "batch" in values:
            batch = (
                UploadBatch.objects.restrict(request.user, "view")
                .filter(pk=values["batch"], resource=objection.resource_id)
                .first()
            )
            if batch is None:
                raise ValidationError({"batch": [_("请选择本资源的更正批次。")]})
            _call(
                services.correct_by_batch,
                user=request.user,
                objection=objection,
                batch=batch,
                note=note,
            )
        else:
            _call(
                services.correct_value,
                user=request.user,
                objection=objection,
                value=values["value"],
                field_name=values.get("field_name", ""),
                note=note,
            )
        return Response(ObjectionSerializer(self.get_object()).data)

    @extend_schema(request=RejectSerializer, responses=ObjectionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str) -> Response:
        """Reject (provider only); a reason is required."""
        objection = self.get_object()
        data = RejectSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(
            services.reject_objection,
            user=request.user,
            objection=objection,
            reason=data.validated_data["reason"],
        )
        return Response(ObjectionSerializer(self.get_object()).data)


class NotificationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The caller's notifications (own and their departments'), newest first."""

    api_key_scope = ApiKeyScope.READ
    serializer_class = NotificationSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Notification.objects.none()
        return selectors.notification_list(user=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str) -> Response:
        """Mark one notification as read."""
        notification = self.get_object()
        _call(services.mark_read, user=request.user, notifications=[notification])
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)
