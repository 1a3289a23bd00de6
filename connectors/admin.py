"""Admin pages of the connectors: header aliases, and the data stewards' upload flow.

Header aliases: every queryset goes through ``HeaderAlias.objects.restrict``: a steward
sees and edits only the aliases of resources they may upload to (``upload_records``);
others are 404, as elsewhere in the admin.

Uploads: upload → preview → confirm → result pages hang under
``/admin/connectors/upload/<resource code>/`` (added to the admin site's URLs here, behind
``admin_view``); the DataResource change page links to them. Only users allowed
``upload_records`` on the resource reach them; others get 404.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from connectors import confirm, services
from connectors.api.views import uploader_department
from connectors.base import InputError
from connectors.models import ConnectorProfile, HeaderAlias
from connectors.pipeline.corrections import CorrectionError, correction_target
from connectors.pipeline.parsing import parse_file
from connectors.profiles import versions as profile_services
from connectors.profiles.rule_checks import rule_errors
from connectors.selectors import uploadable_resource
from hub.catalog.admin_base import RestrictedModelAdmin
from hub.catalog.models import DataResource, Department
from hub.catalog.restricted import VIEW
from hub.records.models import BatchStatus, UploadBatch
from hub.records.notices import rendered
from permissions.selectors import UPLOAD_RECORDS, user_department_ids

PREVIEW_ROWS = 20


@admin.register(HeaderAlias)
class HeaderAliasAdmin(RestrictedModelAdmin):
    """List, search and add header aliases; the creator is recorded automatically."""

    list_display = ("alias", "field_name", "resource", "created_by", "created_at")
    list_filter = ("resource",)
    search_fields = ("alias", "field_name", "resource__code", "resource__name")
    readonly_fields = ("created_by", "created_at")
    list_select_related = ("resource", "created_by")

    related_actions = {"resource": UPLOAD_RECORDS}

    def save_model(self, request: HttpRequest, obj: HeaderAlias, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ConnectorProfile)
class ConnectorProfileAdmin(RestrictedModelAdmin):
    """A department's connector profiles; saving makes a new version (old ones stay, for
    the batches that used them), audited. Stewards edit their department's profiles."""

    list_display = ("resource", "department", "version", "source_crs", "created_by", "created_at")
    list_filter = ("department", "resource")
    search_fields = ("resource__code", "resource__name", "department__code", "note")
    readonly_fields = ("version", "created_by", "created_at")
    list_select_related = ("resource", "department", "created_by")
    related_actions = {"resource": UPLOAD_RECORDS}

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "department" and not request.user.is_superuser:
            kwargs["queryset"] = Department.objects.filter(pk__in=user_department_ids(request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_form(self, request: HttpRequest, obj=None, change: bool = False, **kwargs):
        """The form also checks that the editor reads a lookup's fields in clear (the load
        reads them as the profile's author)."""
        base = super().get_form(request, obj, change=change, **kwargs)
        editor = request.user

        class ProfileForm(base):
            def _post_clean(self) -> None:
                super()._post_clean()  # the instance now holds the submitted values
                # Fields, units, layouts, zone and rules (the model's own clean
                # cannot check them: connectors.models is below the profiles).
                errors = profile_services.profile_errors(self.instance)
                if errors:
                    self._update_errors(ValidationError(errors))
                if "lookups" in self.fields and "lookups" not in self.errors:
                    problem = rule_errors(self.instance, user=editor).get("lookups")
                    if problem:
                        self.add_error("lookups", problem)

        return ProfileForm

    def save_model(self, request: HttpRequest, obj: ConnectorProfile, form, change: bool) -> None:
        profile_services.save_profile(profile=obj, user=request.user)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # versions are history: batches name the one they used


def _resource_or_404(request: HttpRequest, code: str) -> DataResource:
    resource = uploadable_resource(request.user, code)
    if resource is None:
        raise Http404
    return resource


def _batch_or_404(request: HttpRequest, resource: DataResource, batch_id: int) -> UploadBatch:
    batch = UploadBatch.objects.restrict(request.user, VIEW).filter(pk=batch_id, resource=resource)
    batch = batch.first()
    if batch is None:
        raise Http404
    return batch


def _context(request: HttpRequest, resource: DataResource, **extra) -> dict:
    return {
        **admin.site.each_context(request),
        "resource": resource,
        "opts": DataResource._meta,
        "title": _("上传数据：%(name)s") % {"name": resource.name},
        **extra,
    }


@require_http_methods(["GET", "POST"])
def upload_view(request: HttpRequest, code: str) -> HttpResponse:
    """Step 1: choose a file. It is stored as a batch (received) for the preview."""
    resource = _resource_or_404(request, code)
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要上传的文件。"))
        else:
            try:
                corrects = correction_target(
                    resource=resource, batch_id=request.POST.get("corrects", "").strip()
                )
                upload = services.create_batch(
                    resource=resource,
                    department=uploader_department(request.user, resource),
                    uploaded_by=request.user,
                    file=upload,
                    original_filename=upload.name or "upload",
                    sheet=request.POST.get("sheet", ""),
                    accept_valid_rows=request.POST.get("accept_valid_rows") == "on",
                    corrects=corrects,
                )
            except (services.UploadTooLarge, CorrectionError) as exc:
                messages.error(request, exc.message)
            else:
                if upload.is_duplicate:
                    messages.warning(request, upload.message)
                    return redirect("admin:connectors_batch_result", code, upload.batch.pk)
                return redirect("admin:connectors_upload_preview", code, upload.batch.pk)
    return TemplateResponse(
        request,
        "admin/connectors/upload.html",
        _context(
            request,
            resource,
            template_url=reverse("resource-template", args=[code]),
            corrects=request.GET.get("corrects", "") if request.method == "GET" else "",
            accept_valid_rows=resource.accept_valid_rows,
        ),
    )


def _preview_rows(batch: UploadBatch, user) -> tuple[list[str], list[dict]]:
    """The first rows as they will be stored (normalised), with their errors.

    Values are the stored ones shown as people read them (``hub.catalog.display``): datetimes
    in local time (stored in UTC), dates as dates, booleans as 是/否, codes by their names
    (districts by name, not GB/T 2260 code; the code in the cell's title), coordinates
    to six decimals.
    """
    import numpy as np

    from connectors.proposal.choice import connector_for_file
    from hub.catalog.display import FieldDisplay, field_displays
    from hub.records.recordstore import field_names, prepare_rows

    resource = batch.resource
    chunks = parse_file(
        path=batch.file.path,
        filename=batch.original_filename,
        resource=resource,
        connector=connector_for_file(batch),
        chunk_rows=PREVIEW_ROWS,
        sheet=batch.sheet or None,
    )
    try:
        chunk = next(iter(chunks), None)
    finally:
        getattr(chunks, "close", lambda: None)()
    names = field_names(resource)
    labels = dict(resource.fields.values_list("name", "label"))
    shown = field_displays(resource, user)
    if chunk is None:
        return [labels.get(n, n) for n in names], []
    source_rows = np.asarray(chunk.source_rows, dtype=np.int64)
    stored = prepare_rows(
        resource=resource, frame=chunk.frame, source_rows=source_rows, fields=names
    )
    errors: dict[int, list] = {}
    for error in chunk.errors:
        errors.setdefault(error.row, []).append(error)
    rows = []
    raw = chunk.raw
    for position, (row, data) in enumerate(
        zip(source_rows.tolist(), stored["data"].to_list(), strict=True)
    ):
        values = json.loads(data)
        bad = errors.get(row, [])
        # A rejected value is not stored: the red cell shows the text of the file.
        bad_fields = {
            e.field: raw.iloc[position][e.column] if e.column in raw.columns else None for e in bad
        }
        rows.append(
            {
                "row": row,
                "cells": [
                    _cell(bad_fields[n], FieldDisplay(), bad=True)
                    if n in bad_fields
                    else _cell(values.get(n), shown.get(n, FieldDisplay()), bad=False)
                    for n in names
                ],
                "errors": [f"{e.column}: {e.message}" for e in bad],
            }
        )
    return [labels.get(n, n) for n in names], rows


def _cell(value, display, *, bad: bool) -> dict:
    """One preview cell: the value as people read it, the stored one as its title when
    they differ (a district's code under its name, a coordinate's full precision)."""
    text = display.show(value)
    stored = "" if value is None else str(value)
    translated = bool(display.names) or display.decimals is not None
    return {"value": text, "stored": stored if translated and stored != text else "", "bad": bad}


@require_http_methods(["GET", "POST"])
def preview_view(request: HttpRequest, code: str, batch_id: int) -> HttpResponse:
    """Step 2: show the first rows as they will be stored; confirm starts the load.

    Rows the preview already finds wrong make an all-or-nothing batch a certain
    rejection: then no 确认入库 but the reason, and the choice to load the valid rows
    (``connectors.confirm``). The check is made again on the POST.
    """
    resource = _resource_or_404(request, code)
    batch = _batch_or_404(request, resource, batch_id)
    if batch.status != BatchStatus.RECEIVED:
        return redirect("admin:connectors_batch_result", code, batch.pk)
    try:
        headers, rows = _preview_rows(batch, request.user)
    except InputError:
        # The whole file is unusable: the pipeline records it as a rejected batch.
        services.run_batch(batch_id=batch.pk)
        return redirect("admin:connectors_batch_result", code, batch.pk)
    known_errors = sum(1 for row in rows if row["errors"])
    status = 200
    if request.method == "POST":
        try:
            confirm.confirm_batch(
                batch=batch,
                user=request.user,
                known_errors=known_errors,
                accept_valid_rows="accept_valid_rows" in request.POST,
            )
        except confirm.ConfirmRefused as exc:
            messages.error(request, exc.message)
            status = 400
        else:
            return redirect("admin:connectors_batch_result", code, batch.pk)
    context = _context(
        request,
        resource,
        batch=batch,
        headers=headers,
        rows=rows,
        preview_rows=PREVIEW_ROWS,
        known_errors=known_errors,
        refusal=confirm.refusal(batch=batch, known_errors=known_errors),
        may_accept_valid_rows=batch.correction_of_id is None,
    )
    return TemplateResponse(request, "admin/connectors/preview.html", context, status=status)


def result_view(request: HttpRequest, code: str, batch_id: int) -> HttpResponse:
    """Step 3: progress and result; the page polls GET /api/v1/batches/{id}/."""
    resource = _resource_or_404(request, code)
    batch = _batch_or_404(request, resource, batch_id)
    from connectors.proposal.services import steward_resource

    steward = steward_resource(request.user, code) is not None
    context = _context(
        request,
        resource,
        batch=batch,
        # The mapping assistant, for a file rejected before any row was read.
        proposal_url=reverse("admin:connectors_upload_propose", args=[code, batch.pk])
        if steward
        else "",
        batch_api_url=reverse("batch-detail", args=[batch.pk]),
        warnings=rendered(batch.warnings),
        corrections=sorted(batch.corrections.values_list("id", flat=True)),
        labels={
            "received": _("已接收"),
            "parsing": _("解析中"),
            "validated": _("已校验"),
            "loaded": _("已入库"),
            "failed": _("失败"),
            "rejected": _("已拒绝"),
            "partial": _("部分入库"),
            "correction": _("待更正"),
            "corrected": _("已更正"),
        },
    )
    return TemplateResponse(request, "admin/connectors/result.html", context)


def _upload_urls() -> list:
    from connectors.admin_proposal import proposal_urls

    wrap = admin.site.admin_view
    return [
        *proposal_urls(),
        path("connectors/upload/<slug:code>/", wrap(upload_view), name="connectors_upload"),
        path(
            "connectors/upload/<slug:code>/<int:batch_id>/preview/",
            wrap(preview_view),
            name="connectors_upload_preview",
        ),
        path(
            "connectors/upload/<slug:code>/<int:batch_id>/",
            wrap(result_view),
            name="connectors_batch_result",
        ),
    ]


_site_urls = admin.site.get_urls


def _get_urls() -> list:
    # Our pages come first so "connectors/…" is not taken by the app index pattern.
    return _upload_urls() + _site_urls()


admin.site.get_urls = _get_urls
