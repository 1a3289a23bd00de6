"""Records API: ``GET /api/v1/resources/{code}/records/`` (page, filters, exports).

Thin view: the resource is looked up through ``restrict(…, VIEW_RECORDS)`` (404 when the
caller may not read it), ``record_access`` gives fields, masking and row scope, and
every response is written to the audit log with the rows and fields it returned.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Prefetch, QuerySet, prefetch_related_objects
from django.db.models.fields.json import KT
from django.db.models.query import ValuesIterable
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from hub.api.pagination import bounded_int
from hub.api.record_exports import export_response
from hub.api.record_filters import filter_records, hidden_parts, projection
from hub.api.record_pages import (
    Cursor,
    Ordering,
    choose_ordering,
    decode_cursor,
    encode_cursor,
    read_page,
)
from hub.api.record_schema import RECORD_PARAMETERS, RECORD_RESPONSES
from hub.catalog.models import DataResource, FieldSpec
from hub.catalog.restricted import VIEW
from hub.records.models import Record
from permissions.audit import AuditEvent, log_event, read_and_log
from permissions.authentication import request_key_prefix
from permissions.masking import apply_mask
from permissions.prepared import prepared_statements
from permissions.record_access import (
    RecordAccess,
    load_annotated_grants,
    record_access,
    with_active_grants,
)
from permissions.selectors import VIEW_RECORDS, restrict

EXPORT_FORMATS = ("csv", "xlsx", "json")
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def readable_resource(user, code: str) -> DataResource:
    """The resource if the caller may read its records; Http404 otherwise.

    One statement: ``restrict()``'s condition and the caller's active grants, run as a
    prepared statement where available (``prepared_statements``: parsing and planning it
    cost more than executing it). Its fields are read afterwards, as any page does.
    """
    queryset = restrict(DataResource.objects.all(), user, VIEW_RECORDS)
    lookup = with_active_grants(queryset.filter(code=code).order_by(), user)
    with prepared_statements(lookup.db):
        found = next(iter(lookup), None)
    if found is None:
        raise Http404
    load_annotated_grants(found)
    fields = FieldSpec.objects.restrict(user, VIEW)
    prefetch_related_objects([found], Prefetch("fields", queryset=fields))
    return found


def masked_row(data: dict, names: list[str], maskers: dict[str, Callable]) -> dict:
    """Project one record's data onto ``names`` and mask what the caller may not see."""
    row = {name: data.get(name) for name in names}
    for name, masker in maskers.items():
        if name in row:
            row[name] = apply_mask(masker, row[name])
    return row


def masked_rows(items: list[dict], names: list[str], maskers: dict[str, Callable]) -> list[dict]:
    """``masked_row`` over a page: project every row, then mask column by column."""
    rows = [{name: data.get(name) for name in names} for data in items]
    for name, masker in maskers.items():
        if name not in names:
            continue
        for row in rows:
            value = row[name]
            if value is not None:  # As apply_mask: None stays None, the rest masked as text.
                row[name] = masker(str(value))
    return rows


def text_rows(queryset: QuerySet[Record], names: list[str], maskers: dict) -> Iterator[list]:
    """Rows of text values taken out of JSON by the database (fast path for exports)."""
    columns = {f"c{i}": KT(f"data__{name}") for i, name in enumerate(names)}
    values = queryset.annotate(**columns).values_list(*columns, named=False)
    masked = [(i, maskers[name]) for i, name in enumerate(names) if name in maskers]
    for row in values.iterator(chunk_size=5000):
        if masked:
            row = list(row)
            for index, masker in masked:
                row[index] = apply_mask(masker, row[index])
        yield row


class LoggedValuesIterable(ValuesIterable):
    """``values()`` rows of a query carrying an ``AuditedRead`` (``query.hub_audit``): on
    PostgreSQL the one SELECT also appends the read event (``read_and_log``)."""

    def __iter__(self):
        query = self.queryset.query
        audit = getattr(query, "hub_audit", None)
        if audit is None or audit.event is not None or not audit.combined(self.queryset.db):
            yield from super().__iter__()  # Logged by the view (or already logged).
            return
        compiler = query.get_compiler(self.queryset.db)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:
            return  # No query runs: the view logs the empty page.
        rows, audit.event = read_and_log(sql, params, **audit.event_values)
        names = list(query.selected or ()) or [
            *query.extra_select,
            *query.values_select,
            *query.annotation_select,
        ]
        for row in compiler.results_iter(results=[rows]):
            yield dict(zip(names, row, strict=True))


class AuditedRead:
    """Audit of one records page, appended by the page query itself where the database
    allows it (``read_and_log``); ``event`` stays None otherwise and the view logs."""

    def __init__(self, **event) -> None:
        self.event_values = event
        self.event: AuditEvent | None = None

    @staticmethod
    def combined(alias: str) -> bool:
        return connections[alias].vendor == "postgresql"

    def values(self, queryset: QuerySet[Record], *fields: str, page_size: int) -> QuerySet:
        """``queryset.values(*fields)`` whose evaluation also appends the event (once)."""
        self.event_values["page_size"] = page_size
        values = queryset.values(*fields)
        values.query.hub_audit = self  # Query.clone() copies it to sliced/filtered copies.
        values._iterable_class = LoggedValuesIterable
        return values


class ResourceRecordsView(APIView):
    """Records (数据记录) of one resource the caller may read, masked and row-scoped.

    Field equality filters: ``eq.<field>=<value>`` (not on masked fields). Filters, order
    and cursors never depend on a value the caller cannot read (``record_filters``,
    ``record_pages``).
    """

    def perform_content_negotiation(self, request: Request, force: bool = False):
        # ``format=csv|xlsx|json`` selects an export, not a DRF renderer; other values are
        # a 400 (when rendering that 400, ``force``, JSON is used).
        fmt = request.query_params.get("format")
        if fmt is not None:
            if fmt in EXPORT_FORMATS or force:
                return JSONRenderer(), JSONRenderer.media_type
            raise ValidationError({"format": [_("format 只能是 csv、xlsx 或 json。")]})
        return super().perform_content_negotiation(request, force)

    @extend_schema(parameters=RECORD_PARAMETERS, responses=RECORD_RESPONSES)
    def get(self, request: Request, code: str):
        user = request.user
        prefix = request_key_prefix(request)
        try:
            resource = readable_resource(user, code)
        except Http404:
            log_event(
                actor=user,
                action="read",
                resource=code[:64],
                api_key_prefix=prefix,
                outcome="denied",
            )
            raise
        access = record_access(user, resource)
        if access is None:  # Readable per restrict() but no scope: treat as not visible.
            raise Http404
        params = request.query_params
        names = projection(params, access)
        hidden = hidden_parts(resource, access)
        ordering = choose_ordering(params.get("order"), key_readable=not hidden.key)
        queryset = filter_records(
            # The records' door, for one resource: its record access and row scope.
            Record.objects.restrict(user, VIEW_RECORDS, resource=resource),
            params,
            access,
            resource,
            hidden,
        )
        fmt = params.get("format")
        if fmt in EXPORT_FORMATS:
            return self.export(request, resource, queryset, names, access, fmt, ordering)
        page_size = bounded_int(
            params, "page_size", minimum=1, maximum=MAX_PAGE_SIZE, default=PAGE_SIZE
        )
        token = params.get("cursor")
        cursor = decode_cursor(token, resource_id=resource.pk, ordering=ordering) if token else None
        # The page query also appends the read event (one statement on PostgreSQL).
        audit = AuditedRead(actor=user, resource=resource, api_key_prefix=prefix, fields=names)
        values = audit.values(
            ordering.prepare(queryset), "data", *ordering.columns, page_size=page_size
        )
        page = read_page(values, ordering, cursor, page_size, resource.pk)
        rows = masked_rows([item["data"] for item in page.rows], names, access.maskers)
        # Logged here on SQLite or when no query ran; a count differing from the rows sent
        # (not expected) is corrected by a second event rather than left wrong.
        if audit.event is None or audit.event.rows != len(rows):
            log_event(
                actor=user,
                action="read",
                resource=resource,
                api_key_prefix=prefix,
                rows=len(rows),
                fields=names,
                detail={} if audit.event is None else {"corrects": audit.event.sequence},
            )
        return Response(
            {
                "next": self.page_link(request, page.next),
                "previous": self.page_link(request, page.previous),
                "fields": names,
                "results": rows,
            }
        )

    @staticmethod
    def page_link(request: Request, cursor: Cursor | None) -> str | None:
        if cursor is None:
            return None
        return replace_query_param(request.build_absolute_uri(), "cursor", encode_cursor(cursor))

    def export(
        self,
        request: Request,
        resource: DataResource,
        queryset: QuerySet[Record],
        names: list[str],
        access: RecordAccess,
        fmt: str,
        ordering: Ordering,
    ):
        """Stream every matching row in ``fmt``, in the page order; audited on its end."""
        user, prefix = request.user, request_key_prefix(request)
        ordered = ordering.prepare(queryset).order_by(*ordering.order_by())
        if fmt == "json":
            rows = (
                list(masked_row(data, names, access.maskers).values())
                for data in ordered.values_list("data", flat=True).iterator(chunk_size=5000)
            )
        else:
            rows = text_rows(ordered, names, access.maskers)

        def done(count: int) -> None:
            log_event(
                actor=user,
                action="export",
                resource=resource,
                api_key_prefix=prefix,
                rows=count,
                fields=names,
                detail={"format": fmt},
            )

        return export_response(fmt, names, rows, resource.code, done)
