"""The mapping assistant's admin page (生成映射建议): for an upload rejected because its
columns did not match, the proposal with an editable mapping, units, coordinate system,
date layouts and a preview of normalised values; saving makes it a profile version for
files with the same headers.

``/admin/connectors/upload/<code>/<batch>/propose/``: stewards of the resource's provider
department only (``proposal.services.steward_resource``), others 404.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from connectors.base import InputError
from connectors.models import SourceCRS
from connectors.normalisers.units import UNITS
from connectors.proposal import services
from connectors.proposal.profile_build import EditError, coordinate_pair
from connectors.proposal.result import PAIR_JOIN
from hub.catalog.models import DataResource

SOURCE_LABELS = {
    "label": gettext_lazy("名称"),
    "name": gettext_lazy("字段名"),
    "alias": gettext_lazy("别名"),
    "fuzzy": gettext_lazy("相似"),
    "values": gettext_lazy("取值"),
    "steward": gettext_lazy("人工"),
    "header": gettext_lazy("表头"),
    "range": gettext_lazy("取值范围"),
    "profile": gettext_lazy("原配置"),
    "assumed": gettext_lazy("默认"),
    "districts": gettext_lazy("所属区"),
    "delimiter": gettext_lazy("分号分隔的文件"),
    "cells": gettext_lazy("单元格写法"),
    "mixed": gettext_lazy("单元格写法互相矛盾，请选择"),
    "none": gettext_lazy("没有带逗号的数值"),
}
DECIMAL_COMMA_LABELS = (
    ("", gettext_lazy("未定（分号分隔的文件按小数点读取）")),
    ("yes", gettext_lazy("是：逗号为小数点（0,75）")),
    ("no", gettext_lazy("否：逗号为千分位（1,250）")),
)
PAIR_LABEL = gettext_lazy("%(lat)s和%(lon)s（同一列，“经度,纬度”）")
UNKNOWN_UNIT = gettext_lazy("表头单位“%(unit)s”无法识别，请选择")


def _source(code: str) -> str:
    return str(SOURCE_LABELS.get(code, code))


def _edits(post) -> dict:
    """The steward's corrections from the form."""
    headers = {key[7:]: value for key, value in post.items() if key.startswith("header-")}
    mapping = {headers[i]: post.get(f"map-{i}", "") for i in headers}
    units = {k[5:]: v for k, v in post.items() if k.startswith("unit-") and v}
    layouts = {k[7:]: v.strip() for k, v in post.items() if k.startswith("layout-")}
    return {
        "mapping": mapping,
        "units": units,
        "crs": post.get("crs", None),
        "layouts": layouts,
        "timezone": post.get("timezone", "").strip(),
        "decimal_comma": post.get("decimal_comma", None),
    }


def _context(request: HttpRequest, resource: DataResource, batch, proposal, **extra) -> dict:
    fields = list(resource.fields.order_by("order", "id").values_list("name", "label"))
    labels = dict(fields)
    pair = coordinate_pair(resource)
    if pair:  # one column of "经度,纬度" for both coordinate fields
        fields.append(
            (PAIR_JOIN.join(pair), PAIR_LABEL % {"lat": labels[pair[0]], "lon": labels[pair[1]]})
        )
    column = {m.header: m for m in reversed(proposal.mapping)}
    rows = []
    for index, header in enumerate(proposal.headers):
        match = column.get(header)
        rows.append(
            {
                "index": index,
                "header": header,
                "field": proposal.field_for(header),
                "score": match.score if match else None,
                "source": _source(match.source) if match else "",
            }
        )
    units = []
    for guess in proposal.units:
        dimension = UNITS[guess.target].dimension if guess.target in UNITS else ""
        choices = [s for s, u in UNITS.items() if s and u.dimension == dimension]
        source = _source(guess.source)
        if guess.source == "unknown":
            # A blank first choice: submitting the form must not pick a unit unseen.
            choices = ["", *choices]
            source = UNKNOWN_UNIT % {"unit": guess.stated}
        units.append(
            {
                "field": guess.field,
                "label": labels.get(guess.field, guess.field),
                "unit": guess.unit,
                "target": guess.target,
                "source": source,
                "choices": choices,
            }
        )
    dates = [{"d": d, "label": labels.get(d.field, d.field), "source": ""} for d in proposal.dates]
    return {
        **admin.site.each_context(request),
        "resource": resource,
        "batch": batch,
        "opts": DataResource._meta,
        "title": _("映射建议：%(name)s") % {"name": resource.name},
        "proposal": proposal,
        "fields": fields,
        "rows": rows,
        "units": units,
        "dates": dates,
        "crs_choices": [("", _("WGS-84（默认）")), *SourceCRS.choices],
        "crs_source": _source(proposal.crs.source),
        "decimal_comma_choices": DECIMAL_COMMA_LABELS,
        "decimal_comma": {True: "yes", False: "no"}.get(proposal.commas.decimal_comma, ""),
        "decimal_comma_source": _source(proposal.commas.source),
        "preview_headers": [labels.get(n, n) for n in proposal.preview_fields],
        "missing": [labels.get(n, n) for n in proposal.missing],
        **extra,
    }


@require_http_methods(["GET", "POST"])
def proposal_view(request: HttpRequest, code: str, batch_id: int) -> HttpResponse:
    """Show the proposal (GET), preview corrections or save them (POST)."""
    resource = services.steward_resource(request.user, code)
    if resource is None:
        raise Http404
    batch = services.steward_batch(request.user, resource, batch_id)
    if batch is None:
        raise Http404
    if not batch.file or not batch.file.storage.exists(batch.file.name):
        messages.error(request, _("该批次的文件已不存在，请重新上传。"))
        return redirect("admin:connectors_batch_result", code, batch.pk)
    edits = _edits(request.POST) if request.method == "POST" else None
    errors: list[str] = []
    try:
        proposal = services.propose_for_batch(user=request.user, batch=batch, edits=edits)
    except InputError as exc:
        messages.error(request, exc.message)
        return redirect("admin:connectors_batch_result", code, batch.pk)
    except EditError as exc:
        errors.append(exc.message)
        proposal = services.propose_for_batch(user=request.user, batch=batch)
    if request.method == "POST" and "save" in request.POST and not errors:
        try:
            saved = services.save_proposal(
                user=request.user,
                resource=resource,
                proposal=proposal,
                filename=batch.original_filename,
            )
        except ValidationError as exc:
            errors.extend(str(m) for ms in exc.message_dict.values() for m in ms)
        else:
            messages.success(
                request,
                _("已保存为接入配置 v%(version)d：表头相同的文件将自动使用此配置，请重新上传。")
                % {"version": saved.profile.version},
            )
            return redirect("admin:connectors_upload", code)
    context = _context(request, resource, batch, proposal, errors=errors)
    return TemplateResponse(request, "admin/connectors/proposal.html", context)


def proposal_urls() -> list:
    """The page's URL, added to the admin site's with the upload pages."""
    return [
        path(
            "connectors/upload/<slug:code>/<int:batch_id>/propose/",
            admin.site.admin_view(proposal_view),
            name="connectors_upload_propose",
        )
    ]
