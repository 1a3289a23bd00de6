"""Serializers of the push API: a receipt as its department sees it."""

from __future__ import annotations

from typing import Any

from django.urls import get_script_prefix, reverse
from rest_framework import serializers

from streaming.models import PushReceipt


class PushReceiptSerializer(serializers.ModelSerializer):
    """A push receipt: its status, its batch once loaded, and its own row errors (rows
    numbered within the push, 1 = its first record)."""

    resource = serializers.SlugRelatedField(slug_field="code", read_only=True)
    department = serializers.SlugRelatedField(slug_field="code", read_only=True)
    rows = serializers.IntegerField(source="row_count", read_only=True)
    is_final = serializers.BooleanField(read_only=True)
    url = serializers.SerializerMethodField()
    replayed = serializers.SerializerMethodField()
    errors = serializers.SerializerMethodField()

    class Meta:
        model = PushReceipt
        fields = [
            "id",
            "url",
            "resource",
            "department",
            "status",
            "is_final",
            "rows",
            "batch",
            "errors",
            "message",
            "replayed",
            "created_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_url(self, receipt: PushReceipt) -> str:
        path = reverse("push-receipt-detail", args=[receipt.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_replayed(self, receipt: PushReceipt) -> bool:
        return bool(self.context.get("replayed", False))

    def get_errors(self, receipt: PushReceipt) -> list[dict]:
        return [
            {"row": e.get("row"), "column": e.get("column", ""), "message": e.get("message", "")}
            for e in receipt.errors or []
        ]


_DATETIME = serializers.DateTimeField()
# A receipt's path with a stand-in id, per script prefix: reversing the URL on every push
# answer cost more than the rest of the body.
_STAND_IN = 917_305_264_113
_receipt_paths: dict[str, tuple[str, str]] = {}


def _receipt_path(pk: int) -> str:
    prefix = get_script_prefix()
    parts = _receipt_paths.get(prefix)
    if parts is None:
        head, stand_in, tail = reverse("push-receipt-detail", args=[_STAND_IN]).rpartition(
            str(_STAND_IN)
        )
        parts = _receipt_paths[prefix] = (head, tail) if stand_in else ("", "")
    if not parts[0]:
        return reverse("push-receipt-detail", args=[pk])
    return f"{parts[0]}{int(pk)}{parts[1]}"


def receipt_body(receipt: PushReceipt, *, request=None, replayed: bool = False) -> dict[str, Any]:
    """What PushReceiptSerializer renders, built directly: the push answer is the hot
    path, and a ModelSerializer builds its fields from the model on every instance
    (tests/streaming/test_push_api.py checks both give the same body)."""
    path = _receipt_path(receipt.pk)
    return {
        "id": receipt.pk,
        "url": request.build_absolute_uri(path) if request else path,
        "resource": receipt.resource.code,
        "department": receipt.department.code,
        "status": receipt.status,
        "is_final": receipt.is_final,
        "rows": receipt.row_count,
        "batch": receipt.batch_id,
        "errors": [
            {"row": e.get("row"), "column": e.get("column", ""), "message": e.get("message", "")}
            for e in receipt.errors or []
        ],
        "message": receipt.message,
        "replayed": replayed,
        "created_at": _DATETIME.to_representation(receipt.created_at),
        "finished_at": _DATETIME.to_representation(receipt.finished_at),
    }
