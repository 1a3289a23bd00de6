"""Pages of the data explorer: the list of shared resources and one resource's page.

Thin views: reads go through ``explorer.selectors`` (the models' doors and the caller's
record access), the grid's parameters through ``explorer.grid`` (the records API's
filters and keyset pages). A page of records is audited as a ``read``, a download as an
``export``, exactly as the records API audits them.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse, reverse_lazy
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from explorer import grid, selectors
from hub.api.pagination import bounded_int
from hub.api.record_exports import export_response
from hub.api.record_filters import filter_records, hidden_parts
from hub.api.record_pages import decode_cursor, encode_cursor, read_page
from hub.api.records import AuditedRead, masked_rows, text_rows
from hub.catalog.models import DataResource, SharingType
from hub.records.models import Record
from permissions.audit import log_event
from permissions.record_access import RecordAccess
from permissions.selectors import VIEW_RECORDS

LIST_PAGE_SIZE = 50
LOGIN_URL = reverse_lazy("admin:login")


def _context(request: HttpRequest, **values) -> dict:
    """The admin's context (header, user tools) without its app sidebar."""
    return {**admin.site.each_context(request), "is_nav_sidebar_enabled": False, **values}


@login_required(login_url=LOGIN_URL)
def resource_index(request: HttpRequest) -> HttpResponse:
    """共享数据: resources the caller may see, searchable, with the caller's access."""
    params = request.GET
    errors: list[tuple[str, str]] = []
    search = (params.get("q") or "").strip()[:100]
    provider = (params.get("provider") or "").strip()
    sharing_type = (params.get("sharing_type") or "").strip()
    departments = list(selectors.providers(user=request.user))
    if provider and provider not in {d.code for d in departments}:
        errors.append(("provider", _("没有该提供部门。")))
        provider = ""
    if sharing_type and sharing_type not in SharingType.values:
        errors.append(("sharing_type", _("共享类型无效。")))
        sharing_type = ""
    try:
        number = bounded_int(params, "page", minimum=1, maximum=100_000, default=1)
    except ValidationError as exc:
        errors.extend(grid.error_messages(exc))
        number = 1
    queryset = selectors.resource_index(
        user=request.user, search=search, provider=provider, sharing_type=sharing_type
    )
    page = Paginator(queryset, LIST_PAGE_SIZE).get_page(number)
    statuses = selectors.access_statuses(user=request.user, resources=page.object_list)
    labels = dict(selectors.AccessStatus.choices)
    rows = [(resource, statuses[resource.pk], labels[statuses[resource.pk]]) for resource in page]
    query = params.copy()
    query.pop("page", None)
    context = _context(
        request,
        title=_("共享数据"),
        rows=rows,
        page=page,
        query=query.urlencode(),
        search=search,
        provider=provider,
        sharing_type=sharing_type,
        departments=departments,
        sharing_types=SharingType.choices,
        errors=errors,
        need_url=need_url(),
    )
    return render(request, "explorer/index.html", context, status=400 if errors else 200)


@login_required(login_url=LOGIN_URL)
def resource_page(request: HttpRequest, code: str) -> HttpResponse:
    """One resource: metadata, the caller's access, the grid, downloads, the API snippet."""
    user = request.user
    try:
        resource = selectors.resource_for(user=user, code=code)
    except Http404:
        log_event(actor=user, action="read", resource=code[:64], outcome="denied")
        raise
    access = selectors.access_for(user=user, resource=resource)
    if access is None:
        pending = resource.pk in selectors.pending_requests(user=user, resource_ids=[resource.pk])
    else:
        pending = False
    status = selectors.status_of(resource, readable=access is not None, pending=pending)
    names = selectors.code_names(user=user, resource=resource)
    context = _context(
        request,
        title=resource.name,
        resource=resource,
        access=access,
        status=status,
        status_label=selectors.AccessStatus(status).label,
        fields=_field_rows(resource, access),
        freshness=selectors.Freshness(selectors.freshness(resource)).label,
        may_upload=selectors.may_upload(user=user, resource=resource),
        request_url=request_url(resource),
        objection_url=objection_url(resource) if access is not None else "",
        errors=[],
    )
    code_status = 200
    if access is not None:
        try:
            response = _grid(request, resource, access, names, context)
        except ValidationError as exc:
            context["errors"] = grid.error_messages(exc)
            code_status = 400
        else:
            if response is not None:
                return response
    return render(request, "explorer/resource.html", context, status=code_status)


def request_url(resource: DataResource) -> str:
    """Where to ask for access: the sharing workflow's request page when it is installed
    (``access:request``), else the admin's access-request add page for the resource."""
    try:
        return reverse("access:request", args=[resource.code])
    except NoReverseMatch:
        return f"{reverse('admin:permissions_accessrequest_add')}?resource={resource.pk}"


def need_url() -> str:
    """Where to ask for data the catalog lacks (需求清单, governance's page by URL name)."""
    try:
        return reverse("governance:need-new")
    except NoReverseMatch:
        return ""


def objection_url(resource: DataResource) -> str:
    """Where a reader objects to the data (提出异议): governance's form, reached by URL name
    because the explorer and governance are peers that may not import each other; empty
    when governance is not installed."""
    try:
        return reverse("governance:objection-new", args=[resource.code])
    except NoReverseMatch:
        return ""


def _field_rows(resource: DataResource, access: RecordAccess | None) -> list[dict]:
    """The fields' metadata and what the caller receives of each (clear, masked, none)."""
    received = set(access.field_names) if access else set()
    masked = set(access.maskers) if access else set()
    rows = []
    for spec in resource.fields.all():
        if spec.name in masked:
            state = _("脱敏")
        elif spec.name in received:
            state = _("明文")
        else:
            state = _("不可见")
        rows.append({"spec": spec, "state": state, "masked": spec.name in masked})
    return rows


def _grid(
    request: HttpRequest,
    resource: DataResource,
    access: RecordAccess,
    names: dict[int, dict[str, str]],
    context: dict,
) -> HttpResponse | None:
    """Fill ``context`` with the grid (or return a download); a ValidationError names the
    parameter at fault."""
    user, params = request.user, request.GET
    hidden = hidden_parts(resource, access)
    columns = grid.grid_columns(resource, access, hidden, names)
    context.update(
        columns=columns,
        hidden=hidden,
        districts=selectors.district_choices(resource, names) if not hidden.district else [],
        filter_fields=[c for c in columns if not c.masked and c.name not in hidden.fields],
        params=params,
    )
    records = Record.objects.restrict(user, VIEW_RECORDS, resource=resource)
    count = selectors.visible_count(records, resource, access)
    cap = selectors.COUNT_CAP
    context["record_count"] = _("超过 %(n)s") % {"n": f"{cap:,}"} if count > cap else count
    filters = grid.api_filters(params)
    ordering = grid.grid_ordering(params.get("order"), resource, access, hidden)
    queryset = filter_records(records, filters, access, resource, hidden)
    field_names = access.field_names
    fmt = params.get("format")
    if fmt is not None:
        if fmt not in grid.EXPORT_FORMATS:
            raise ValidationError({"format": [_("format 只能是 csv 或 xlsx。")]})
        return _download(request, resource, queryset, ordering, columns, access, fmt)
    size = bounded_int(
        params, "page_size", minimum=1, maximum=grid.MAX_PAGE_SIZE, default=grid.PAGE_SIZE
    )
    token = params.get("cursor")
    cursor = decode_cursor(token, resource_id=resource.pk, ordering=ordering) if token else None
    audit = AuditedRead(actor=user, resource=resource, api_key_prefix="", fields=field_names)
    # The key travels only when it is built from fields the caller reads in clear.
    extra = () if hidden.key or "key" in ordering.columns else ("key",)
    fields = ("data", *extra, *ordering.columns)
    values = audit.values(ordering.prepare(queryset), *fields, page_size=size)
    page = read_page(values, ordering, cursor, size, resource.pk)
    rows = masked_rows([item["data"] for item in page.rows], field_names, access.maskers)
    base_url = context.get("objection_url")
    links = (
        [f"{base_url}?{urlencode({'key': item['key']})}" for item in page.rows]
        if base_url and not hidden.key
        else None
    )
    if audit.event is None or audit.event.rows != len(rows):
        log_event(
            actor=user,
            action="read",
            resource=resource,
            rows=len(rows),
            fields=field_names,
            detail={} if audit.event is None else {"corrects": audit.event.sequence},
        )
    base = params.copy()
    base.pop("cursor", None)
    base.pop("format", None)
    context.update(
        grid_rows=grid.rows_html(grid.grid_cells(rows, columns), links, _("提出异议")),
        row_links=links is not None,
        next_url=_with(base, cursor=page.next and encode_cursor(page.next)),
        previous_url=_with(base, cursor=page.previous and encode_cursor(page.previous)),
        csv_url=_with(base, format="csv"),
        xlsx_url=_with(base, format="xlsx"),
        order=params.get("order") or "",
        api_command=_api_command(request, resource, filters, selectors.key_prefix(user=user)),
        max_export_rows=grid.MAX_EXPORT_ROWS,
    )
    return None


def _with(base: QueryDict, **values: str | None) -> str | None:
    """``?query`` of ``base`` with ``values`` set; None when a value is None."""
    if any(value is None for value in values.values()):
        return None
    query = base.copy()
    for name, value in values.items():
        query[name] = value
    return "?" + query.urlencode()


def _download(request, resource, queryset, ordering, columns, access, fmt):
    """The current filter as CSV or XLSX (bounded, audited as ``export`` when sent)."""
    user = request.user
    names = access.field_names
    ordered = ordering.prepare(queryset).order_by(*ordering.order_by())
    rows = grid.bounded(text_rows(ordered, names, access.maskers))
    header = [column.label or column.name for column in columns]

    def done(count: int) -> None:
        log_event(
            actor=user,
            action="export",
            resource=resource,
            rows=count,
            fields=names,
            detail={"format": fmt, "via": "explorer"},
        )

    return export_response(fmt, header, rows, resource.code, done)


def _api_command(request, resource, filters: dict[str, str], prefix: str) -> str:
    """A curl command reading the same records through the API (key prefix only)."""
    url = request.build_absolute_uri(reverse("resource-detail", args=[resource.code]) + "records/")
    if filters:
        url += "?" + urlencode(filters)
    key = f"{prefix}.********" if prefix else "<API-KEY>"
    return f'curl -H "Authorization: Api-Key {key}" "{url}"'
