"""``GET /api/v1/governance/assessment/?period=2026-03``: the 考核 table as JSON.

The same figures as the page and the XLSX (``selectors.assess``); for the 共享主管部门's
staff and superusers (and their department's API keys with ``read``), 403 for others;
audited as a ``read`` with ``detail.view = "assessment-api"``.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from governance.assessment import selectors
from governance.assessment.periods import PERIOD_PATTERN, default_period, parse_period
from hub.api.query_fields import QueryRegexField
from permissions.audit import log_event
from permissions.authentication import request_key_prefix
from permissions.policies import may_assess


class AssessmentQuerySerializer(serializers.Serializer):
    period = QueryRegexField(
        PERIOD_PATTERN,
        required=False,
        help_text="2026-03 (month), 2026-Q1 (quarter) or 2026 (year); default: last month",
    )


class ColumnSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["count", "rate"])


class IndicatorSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    weight = serializers.FloatField()
    columns = ColumnSerializer(many=True)


class FiguresSerializer(serializers.Serializer):
    score = serializers.FloatField(allow_null=True, help_text="sub-score, 0–100")
    values = serializers.DictField(child=serializers.FloatField(allow_null=True))


class DepartmentResultSerializer(serializers.Serializer):
    rank = serializers.IntegerField(allow_null=True)
    code = serializers.CharField()
    name = serializers.CharField()
    score = serializers.FloatField(allow_null=True, help_text="weighted score, 0–100")
    indicators = serializers.DictField(child=FiguresSerializer())


class AssessmentSerializer(serializers.Serializer):
    period = serializers.CharField()
    title = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField(help_text="the first day after the period")
    computed_at = serializers.DateTimeField()
    indicators = IndicatorSerializer(many=True)
    results = DepartmentResultSerializer(many=True)


def _sub(score: float | None) -> float | None:
    return None if score is None else round(100 * score, 1)


@extend_schema(
    parameters=[AssessmentQuerySerializer],
    responses=AssessmentSerializer,
    operation_id="governance_assessment",
)
@api_view(["GET"])
def assessment(request: Request) -> Response:
    """考核: every department's figures, sub-scores, weighted score and rank for a period."""
    if not may_assess(request.user):
        raise PermissionDenied
    query = AssessmentQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    text = query.validated_data.get("period")
    try:
        period = parse_period(text) if text else default_period()
    except DjangoValidationError as error:
        raise ValidationError({"period": error.messages}) from error
    table = selectors.assess(user=request.user, period=period)
    body = {
        "period": period.label,
        "title": period.title,
        "start": period.start_date,
        "end": period.end_date,
        "computed_at": table.computed_at,
        "indicators": [
            {
                "code": item.code,
                "label": str(item.label),
                "weight": table.weights[item.code],
                "columns": [
                    {"key": c.key, "label": str(c.label), "kind": c.kind} for c in item.columns
                ],
            }
            for item in table.indicators
        ],
        "results": [
            {
                "rank": row.rank,
                "code": row.code,
                "name": row.name,
                "score": row.score,
                "indicators": {
                    code: {"score": _sub(f.score), "values": f.values}
                    for code, f in row.figures.items()
                },
            }
            for row in table.rows
        ],
    }
    log_event(
        actor=request.user,
        action="read",
        api_key_prefix=request_key_prefix(request),
        rows=len(table.rows),
        detail={"view": "assessment-api", "period": period.label},
    )
    return Response(AssessmentSerializer(body).data)


urlpatterns = [path("governance/assessment/", assessment, name="assessment-api")]
