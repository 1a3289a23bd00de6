"""Thin REST views of the push path; every write goes through streaming.services."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors.api.views import uploader_department
from connectors.selectors import uploadable_resource
from hub.api.parsers import JSONParser
from hub.records.pushed_text import text_problem
from permissions.audit import log_event
from permissions.authentication import SessionUserRateThrottle
from streaming import services
from streaming.api.serializers import PushReceiptSerializer, receipt_body
from streaming.idempotency import HEADER, MAX_KEY_LENGTH, key_problem
from streaming.models import PushReceipt
from streaming.tasks import flush_pushes
from streaming.throttling import PushKeyRateThrottle


def max_push_rows() -> int:
    return int(getattr(settings, "HUB_PUSH_MAX_ROWS_PER_PUSH", 1000))


class ResourcePushView(APIView):
    """Push records (a JSON list) for a micro-batched load: 202 with a receipt once the
    push is stored; poll the receipt for its status and row errors."""

    parser_classes = [JSONParser]
    throttle_classes = [PushKeyRateThrottle, SessionUserRateThrottle]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        parameters=[
            OpenApiParameter(
                HEADER,
                str,
                OpenApiParameter.HEADER,
                description=(
                    f"Up to {MAX_KEY_LENGTH} visible ASCII characters or spaces; the same key"
                    " with the same records is a replay (200), with other records a 409."
                ),
            )
        ],
        responses={
            200: PushReceiptSerializer,
            202: PushReceiptSerializer,
            400: OpenApiResponse(
                description="Not a non-empty list of JSON objects, or a bad Idempotency-Key."
            ),
            404: OpenApiResponse(description="No such resource, or pushing not allowed."),
            409: OpenApiResponse(description="Idempotency-Key reused for other records."),
        },
    )
    def post(self, request: Request, code: str) -> Response:
        prefix = getattr(request.auth, "prefix", "") or ""
        resource = uploadable_resource(request.user, code)
        if resource is None:
            log_event(
                actor=request.user,
                action="upload",
                resource=code[:64],
                api_key_prefix=prefix,
                outcome="denied",
            )
            raise Http404
        records = request.data
        if isinstance(records, dict) and isinstance(records.get("records"), list):
            records = records["records"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return Response(
                {"detail": _("请求体必须是记录（JSON 对象）的列表。")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if not records:
            return Response({"detail": _("记录列表为空。")}, status=status.HTTP_400_BAD_REQUEST)
        if len(records) > (limit := max_push_rows()):
            return Response(
                {"detail": _("一次推送最多 %(n)d 条记录，请改用文件上传。") % {"n": limit}},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if (problem := text_problem(records)) is not None:
            return Response({"detail": problem}, status=status.HTTP_400_BAD_REQUEST)
        idempotency_key = request.headers.get(HEADER, "").strip()
        if (problem := key_problem(idempotency_key)) is not None:
            return Response({HEADER: [problem]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            accepted = services.accept_push(
                resource=resource,
                department=uploader_department(request.user, resource),
                records=records,
                user=request.user,
                api_key_prefix=prefix,
                idempotency_key=idempotency_key,
            )
        except services.PushConflict as exc:
            return Response(
                {"detail": exc.message, "receipt": exc.receipt.pk},
                status=status.HTTP_409_CONFLICT,
            )
        receipt = accepted.receipt
        if not accepted.replayed and flush_pushes.app.conf.task_always_eager:
            receipt.refresh_from_db()  # loaded in-process on commit
        body = receipt_body(receipt, request=request, replayed=accepted.replayed)
        code_ = status.HTTP_200_OK if accepted.replayed else status.HTTP_202_ACCEPTED
        response = Response(body, status=code_)
        response["Location"] = body["url"]
        return response


class PushReceiptView(APIView):
    """One push receipt: status, batch and the push's own row errors (its department)."""

    @extend_schema(responses=PushReceiptSerializer)
    def get(self, request: Request, pk: int) -> Response:
        receipt = PushReceipt.objects.restrict(request.user).filter(pk=pk).first()
        if receipt is None:
            raise Http404
        if receipt.errors:
            # Row errors quote pushed values: reading them joins the audit chain.
            log_event(
                actor=request.user,
                action="read_batch",
                resource=receipt.resource_id and receipt.resource,
                api_key_prefix=getattr(request.auth, "prefix", "") or "",
                rows=len(receipt.errors),
                detail={"receipt": receipt.pk, "what": "errors"},
            )
        return Response(PushReceiptSerializer(receipt, context={"request": request}).data)
