"""Thin REST views of the ingest side; every write goes through connectors.services."""

from __future__ import annotations

from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from connectors import services
from connectors.api.serializers import BatchSerializer, UploadSerializer
from connectors.pipeline.corrections import CorrectionError, correction_target
from connectors.selectors import uploadable_resource, visible_batches
from hub.api.parsers import JSONParser
from hub.api.records import ResourceRecordsView
from hub.catalog.models import DataResource, Department
from hub.catalog.selectors import resource_get
from hub.records.idempotency import HEADER as IDEMPOTENCY_HEADER
from hub.records.idempotency import MAX_KEY_LENGTH, key_problem
from hub.records.models import UploadBatch
from hub.records.pushed_text import text_problem
from permissions.audit import log_event
from permissions.selectors import user_department_ids

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def uploader_department(user, resource: DataResource) -> Department:
    """The department a batch is attributed to: the provider if the user is in it."""
    departments = user_department_ids(user)
    if not departments or resource.provider_id in departments:
        return resource.provider
    return Department.objects.get(pk=departments[0])


def _upload_target(request: Request, code: str) -> DataResource:
    # A key with the "push" scope may upload to its own department's resources.
    resource = uploadable_resource(request.user, code)
    if resource is None:
        log_event(
            actor=request.user,
            action="upload",
            resource=code[:64],
            api_key_prefix=getattr(request.auth, "prefix", "") or "",
            outcome="denied",
        )
        raise Http404
    return resource


def batch_response(request: Request, upload: services.UploadResult) -> Response:
    """200 for a no-op duplicate, 201 when it already finished in-process, 202 if queued."""
    batch = upload.batch
    if upload.is_duplicate:
        code = status.HTTP_200_OK
    else:
        batch.refresh_from_db()
        code = status.HTTP_201_CREATED if batch.is_final else status.HTTP_202_ACCEPTED
    context = {"request": request, "upload": upload}
    return Response(BatchSerializer(batch, context=context).data, status=code)


class ResourceUploadView(APIView):
    """Upload a CSV/XLSX/JSON file into a resource (需要上传权限)."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        request=UploadSerializer,
        responses={200: BatchSerializer, 201: BatchSerializer, 202: BatchSerializer},
    )
    def post(self, request: Request, code: str) -> Response:
        resource = _upload_target(request, code)
        upload = request.FILES.get("file")
        if upload is None:
            return Response(
                {"file": [_("请选择要上传的文件。")]}, status=status.HTTP_400_BAD_REQUEST
            )
        options = UploadSerializer(data=request.data, partial=True)
        if not options.is_valid():
            errors = {k: v for k, v in options.errors.items() if k != "file"}
            if errors:
                return Response(errors, status=status.HTTP_400_BAD_REQUEST)
        choices = options.validated_data if not options.errors else {}
        try:
            corrects = correction_target(
                resource=resource, batch_id=request.data.get("corrects") or None
            )
        except CorrectionError as exc:
            return Response({"corrects": [exc.message]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            upload = services.upload_file(
                resource=resource,
                department=uploader_department(request.user, resource),
                uploaded_by=request.user,
                api_key_prefix=getattr(request.auth, "prefix", "") or "",
                file=upload,
                original_filename=upload.name or "upload",
                sheet=str(request.data.get("sheet", "") or ""),
                accept_valid_rows=choices.get("accept_valid_rows"),
                corrects=corrects,
            )
        except services.UploadTooLarge as exc:
            return Response(
                {"detail": exc.message}, status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
            )
        return batch_response(request, upload)


class RecordPushView(APIView):
    """Push records as a JSON list; an ``Idempotency-Key`` header makes retries safe."""

    parser_classes = [JSONParser]

    @extend_schema(
        request={"application/json": {"type": "array", "items": {"type": "object"}}},
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_HEADER,
                str,
                OpenApiParameter.HEADER,
                description=f"At most {MAX_KEY_LENGTH} visible ASCII characters or spaces; "
                "a retry with the same key and records answers the same batch.",
            ),
            OpenApiParameter(
                "accept_valid_rows",
                bool,
                description="Load the valid records and keep the rejected ones as a "
                "correction batch; absent: the resource's setting.",
            ),
        ],
        responses={200: BatchSerializer, 201: BatchSerializer, 202: BatchSerializer},
    )
    def post(self, request: Request, code: str) -> Response:
        resource = _upload_target(request, code)
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
        if (problem := text_problem(records)) is not None:
            return Response({"detail": problem}, status=status.HTTP_400_BAD_REQUEST)
        accept = request.query_params.get("accept_valid_rows")
        if accept not in (None, "", "true", "false", "1", "0"):
            return Response(
                {"accept_valid_rows": [_("只能是 true 或 false。")]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "").strip()
        if (problem := key_problem(idempotency_key)) is not None:
            return Response({IDEMPOTENCY_HEADER: [problem]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            upload = services.ingest_records(
                resource=resource,
                department=uploader_department(request.user, resource),
                records=records,
                user=request.user,
                api_key_prefix=getattr(request.auth, "prefix", "") or "",
                idempotency_key=idempotency_key,
                accept_valid_rows=None if accept in (None, "") else accept in ("true", "1"),
            )
        except services.IdempotencyConflict as exc:
            return Response(
                {"detail": exc.message, "batch": exc.batch.pk}, status=status.HTTP_409_CONFLICT
            )
        return batch_response(request, upload)


def _audit_batch_read(request: Request, batch: UploadBatch, action: str, *, rows: int) -> None:
    log_event(
        actor=request.user,
        action=action,
        resource=batch.resource,
        api_key_prefix=getattr(request.auth, "prefix", "") or "",
        rows=rows,
        detail={"batch": batch.pk, "what": "errors" if action == "read_batch" else "error_report"},
    )


class BatchDetailView(APIView):
    """One batch: status, counts, errors and the error report link (for polling)."""

    @extend_schema(responses=BatchSerializer)
    def get(self, request: Request, pk: int) -> Response:
        batch = visible_batches(request.user).filter(pk=pk).first()
        if batch is None:
            raise Http404
        if batch.errors:
            # Row errors quote source values: reading them joins the audit chain (status
            # polls of a batch without errors do not, or a poll loop would flood it).
            _audit_batch_read(request, batch, "read_batch", rows=len(batch.errors))
        return Response(BatchSerializer(batch, context={"request": request}).data)


class BatchErrorReportView(APIView):
    """Download the XLSX error report of a rejected batch."""

    @extend_schema(responses={(200, XLSX): bytes})
    def get(self, request: Request, pk: int) -> FileResponse:
        batch = visible_batches(request.user).filter(pk=pk).first()
        if batch is None or not batch.error_report:
            raise Http404
        _audit_batch_read(request, batch, "export", rows=batch.rejected)
        return FileResponse(
            batch.error_report.open("rb"),
            as_attachment=True,
            filename=f"batch-{batch.pk}-errors.xlsx",
            content_type=XLSX,
        )


class ResourceTemplateView(APIView):
    """Download the XLSX upload template of a resource (labels, notes, drop-downs)."""

    @extend_schema(responses={(200, XLSX): bytes})
    def get(self, request: Request, code: str) -> HttpResponse:
        try:
            resource = resource_get(user=request.user, code=code, code_items=True)
        except DataResource.DoesNotExist as exc:
            raise Http404 from exc
        from connectors.writers.template import build_template

        response = HttpResponse(build_template(resource), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{resource.code}-template.xlsx"'
        return response


class ResourceRecordsEndpoint(ResourceRecordsView):
    """``/resources/{code}/records/``: GET reads records through the permission
    chokepoint (hub.api.records), POST pushes records through the ingest service."""

    parser_classes = [JSONParser]
    post = RecordPushView.post
