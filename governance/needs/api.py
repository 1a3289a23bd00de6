"""Data needs over REST: ``/api/v1/needs/`` (list, file, one need, suggestions, route,
link, commit, refuse, close). Reads through ``governance.needs.selectors``, writes through
``governance.needs.services``; a need the caller may not see is a 404."""

from __future__ import annotations

import django_filters
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from governance.api.filters import StrictChoiceFilter, boolean_filter
from governance.api.views import _call
from governance.needs import routing, selectors, services
from governance.needs.models import DataNeed, NeedAnswer, NeedStatus
from governance.needs.policies import ROUTE
from governance.needs.serializers import (
    NeedCloseSerializer,
    NeedCommitSerializer,
    NeedCreateSerializer,
    NeedLinkSerializer,
    NeedRefuseSerializer,
    NeedRouteSerializer,
    NeedSerializer,
    SuggestionSerializer,
)
from hub.api.parsers import JSONParser
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import VIEW
from permissions.models import ApiKeyScope


class NeedFilterSet(django_filters.FilterSet):
    status = StrictChoiceFilter(choices=NeedStatus.choices)
    answer = StrictChoiceFilter(choices=NeedAnswer.choices)
    department = django_filters.CharFilter(
        field_name="department__code", help_text="Filing department code (需求部门)"
    )
    provider = django_filters.CharFilter(
        field_name="provider__code", help_text="Provider department code (分派给)"
    )
    overdue = boolean_filter("Past the answer deadline or commitment date (true | false)")

    class Meta:
        model = DataNeed
        fields = ["status", "answer", "department", "provider", "overdue"]


def suggestion_rows(suggestions: list[routing.ProviderSuggestion]) -> list[dict]:
    return [
        {
            "provider": s.department.code,
            "provider_name": s.department.name,
            "score": s.score,
            "resources": [
                {
                    "code": m.resource.code,
                    "name": m.resource.name,
                    "score": m.score,
                    "terms": m.terms,
                }
                for m in s.resources
            ],
        }
        for s in suggestions
    ]


class NeedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """Data needs filed by the caller's departments, routed to them, or (for the 共享主管部门)
    all of them."""

    api_key_scope = ApiKeyScope.READ
    serializer_class = NeedSerializer
    filter_backends = [DjangoFilterBackend]
    filterset_class = NeedFilterSet
    # JSON only: a form post's empty field would read as "not given" (DRF's HTML rule).
    parser_classes = [JSONParser]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return DataNeed.objects.none()
        return selectors.need_list(user=self.request.user)

    def _answer(self, need: DataNeed) -> Response:
        return Response(NeedSerializer(selectors.need_get(user=self.request.user, pk=need.pk)).data)

    @extend_schema(request=NeedCreateSerializer, responses={201: NeedSerializer})
    def create(self, request: Request) -> Response:
        data = NeedCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        code = values.pop("department", None)
        own = Department.objects.restrict(request.user, "member")
        department = (own.filter(code=code) if code else own.order_by("pk")).first()
        if department is None:
            raise ValidationError({"department": "unknown department"})
        result = _call(services.file_need, user=request.user, department=department, **values)
        return Response(NeedSerializer(result.need).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=SuggestionSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def suggestions(self, request: Request, pk: str) -> Response:
        """Likely providers (the router's catalog search by keywords and fields)."""
        need = self.get_object()
        if not selectors.may(user=request.user, need=need, action=ROUTE):
            raise PermissionDenied("only the data sharing authority routes needs")
        terms = routing.need_terms(keywords=need.keywords, fields=need.fields, title=need.title)
        rows = suggestion_rows(routing.suggest(user=request.user, terms=terms))
        return Response(SuggestionSerializer(rows, many=True).data)

    @extend_schema(request=NeedRouteSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["post"])
    def route(self, request: Request, pk: str) -> Response:
        """Route to a provider department (the 共享主管部门 only)."""
        need = self.get_object()
        data = NeedRouteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        provider = Department.objects.filter(code=values["provider"], is_active=True).first()
        if provider is None:
            raise ValidationError({"provider": "unknown department"})
        _call(
            services.route_need,
            user=request.user,
            need=need,
            provider=provider,
            candidates=values.get("candidates", []),
            note=values.get("note", ""),
        )
        return self._answer(need)

    @extend_schema(request=NeedLinkSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["post"])
    def link(self, request: Request, pk: str) -> Response:
        """Answer with an existing resource: opens an access request for the filer."""
        need = self.get_object()
        data = NeedLinkSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        resource = (
            DataResource.objects.restrict(request.user, VIEW)
            .filter(code=values["resource"])
            .first()
        )
        if resource is None:
            raise ValidationError({"resource": "unknown resource"})
        _call(
            services.answer_link,
            user=request.user,
            need=need,
            resource=resource,
            fields=values.get("fields") or None,
            note=values.get("note", ""),
        )
        return self._answer(need)

    @extend_schema(request=NeedCommitSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str) -> Response:
        """Answer with a commitment to publish by a date."""
        need = self.get_object()
        data = NeedCommitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        _call(
            services.answer_commit,
            user=request.user,
            need=need,
            date=values["date"],
            note=values.get("note", ""),
        )
        return self._answer(need)

    @extend_schema(request=NeedRefuseSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk: str) -> Response:
        """Refuse to provide; the basis is required."""
        need = self.get_object()
        data = NeedRefuseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.answer_refuse, user=request.user, need=need, **data.validated_data)
        return self._answer(need)

    @extend_schema(request=NeedCloseSerializer, responses=NeedSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request: Request, pk: str) -> Response:
        """Close (the filing department or the authority)."""
        need = self.get_object()
        data = NeedCloseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        _call(services.close_need, user=request.user, need=need, **data.validated_data)
        return self._answer(need)
