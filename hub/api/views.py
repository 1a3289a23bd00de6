"""Read-only catalog API: departments, resources, Table Schema and DCAT."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import viewsets
from rest_framework.decorators import action, api_view, renderer_classes
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from hub.api.filters import ResourceFilterSet
from hub.api.serializers import (
    DataResourceDetailSerializer,
    DataResourceSerializer,
    DepartmentSerializer,
)
from hub.catalog import selectors
from hub.catalog.exports import dcat_catalog, table_schema
from hub.catalog.models import DataResource, FieldSpec
from permissions.masking import masker_for
from permissions.record_access import record_access, visible_fields


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Departments (部门) of the city."""

    serializer_class = DepartmentSerializer
    lookup_field = "code"
    filter_backends: list = []

    def get_queryset(self):
        return selectors.department_list(user=self.request.user)


class DataResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """Data resources (数据资源) whose metadata the caller may see; others are 404."""

    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    # The list's filters apply on top of what the selector lets the caller see.
    filter_backends = [DjangoFilterBackend]
    filterset_class = ResourceFilterSet

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataResource.objects.none()
        return selectors.resource_list(user=self.request.user)

    def get_serializer_class(self):
        return DataResourceSerializer if self.action == "list" else DataResourceDetailSerializer

    def retrieve(self, request: Request, code: str) -> Response:
        resource = self.get_object()
        context = {
            **self.get_serializer_context(),
            "visible_fields": visible_fields(request.user, resource),
        }
        return Response(DataResourceDetailSerializer(resource, context=context).data)

    def get_object(self) -> DataResource:
        try:
            return selectors.resource_get(user=self.request.user, code=self.kwargs["code"])
        except DataResource.DoesNotExist as exc:
            raise Http404 from exc

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, parameters=[])
    @action(detail=True, methods=["get"], url_path="schema", url_name="schema")
    def table_schema(self, request: Request, code: str) -> Response:
        """The resource's Frictionless Table Schema as the caller receives its records: their
        fields, masked ones as masked text (``schema_fields``)."""
        try:
            resource = selectors.resource_get(user=request.user, code=code, code_items=True)
        except DataResource.DoesNotExist as exc:
            raise Http404 from exc
        fields, masked = schema_fields(request.user, resource)
        return Response(table_schema(resource, fields, masked=masked))


def schema_fields(user, resource: DataResource) -> tuple[list[FieldSpec], set[str]]:
    """The fields of ``user``'s Table Schema and those masked for them.

    A caller with record access gets the fields of their exports, masked as they receive
    them, so an export validates against the schema. Others (metadata only) see every
    field, masked as a grant without clear fields would give them (what a request gets).
    """
    access = record_access(user, resource)
    if access is not None:
        return access.fields, set(access.maskers)
    fields = visible_fields(user, resource)
    return fields, {spec.name for spec in fields if masker_for(spec) is not None}


def absolute_url_builder(request: Request):
    """A ``url_for(kind, code)`` for DCAT building absolute URLs on this host."""

    def url_for(kind: str, code: str) -> str:
        if kind == "catalog":
            return request.build_absolute_uri(reverse("catalog-jsonld"))
        if kind == "resource":
            return request.build_absolute_uri(reverse("resource-detail", args=[code]))
        if kind == "schema":
            return request.build_absolute_uri(reverse("resource-schema", args=[code]))
        return request.build_absolute_uri(reverse("resource-detail", args=[code]) + "records/")

    return url_for


class JsonLdRenderer(JSONRenderer):
    media_type = "application/ld+json"
    format = "jsonld"


@extend_schema(
    responses={
        (200, JsonLdRenderer.media_type): OpenApiTypes.OBJECT,
        (200, JSONRenderer.media_type): OpenApiTypes.OBJECT,
    }
)
@api_view(["GET"])
@renderer_classes([JsonLdRenderer, JSONRenderer])
def catalog_jsonld(request: Request) -> Response:
    """The catalog as DCAT JSON-LD (``application/ld+json``, or ``application/json`` when
    only that is accepted), listing the resources the caller may see."""
    resources = selectors.resource_list(user=request.user)
    document = dcat_catalog(
        resources, absolute_url_builder(request), title="上海市城市数据中枢资源目录"
    )
    return Response(document)
