"""Read-only catalog API: departments, resources, Table Schema and DCAT."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action, api_view
from rest_framework.request import Request
from rest_framework.response import Response

from hub import selectors
from hub.api.serializers import (
    DataResourceDetailSerializer,
    DataResourceSerializer,
    DepartmentSerializer,
)
from hub.exports import dcat_catalog, table_schema
from hub.models import DataResource, Domain, SharingType
from permissions.selectors import visible_fields


class DepartmentViewSet(viewsets.ReadOnlyModelViewSet):
    """Departments (部门) of the city."""

    serializer_class = DepartmentSerializer
    lookup_field = "code"
    filter_backends: list = []

    def get_queryset(self):
        return selectors.department_list()


RESOURCE_FILTERS = [
    OpenApiParameter("provider", str, description="Provider department code (提供方)"),
    OpenApiParameter("domain", str, enum=Domain.values, description="Domain (领域)"),
    OpenApiParameter("sharing_type", str, enum=SharingType.values, description="共享类型"),
    OpenApiParameter("search", str, description="Search in code, name and summary"),
]


@extend_schema_view(list=extend_schema(parameters=RESOURCE_FILTERS))
class DataResourceViewSet(viewsets.ReadOnlyModelViewSet):
    """Data resources (数据资源) whose metadata the caller may see; others are 404."""

    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends: list = []

    def get_queryset(self):
        params = self.request.query_params
        if getattr(self, "swagger_fake_view", False):
            return DataResource.objects.none()
        return selectors.resource_list(
            user=self.request.user,
            provider=params.get("provider"),
            domain=params.get("domain"),
            sharing_type=params.get("sharing_type"),
            search=params.get("search"),
        )

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
        """The resource's Frictionless Table Schema (fields the caller may see)."""
        resource = self.get_object()
        return Response(table_schema(resource, visible_fields(request.user, resource)))


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


@extend_schema(responses={200: OpenApiTypes.OBJECT})
@api_view(["GET"])
def catalog_jsonld(request: Request) -> Response:
    """The catalog as DCAT JSON-LD, listing the resources the caller may see."""
    resources = selectors.resource_list(user=request.user)
    document = dcat_catalog(
        resources, absolute_url_builder(request), title="上海市城市数据中枢资源目录"
    )
    return Response(document, content_type="application/ld+json")
