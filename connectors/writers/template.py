"""Downloadable XLSX upload template of a resource (填报模板)."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from connectors.writers.spreadsheet import BOLD, HEADER_FILL, REQUIRED_FONT, safe_text

LISTS_SHEET = "代码表"
TEMPLATE_ROWS = 1000  # rows the drop-downs and checks apply to


def _allowed(spec) -> list[str]:
    """Values offered in the drop-down: enum values, or code list names (they map back)."""
    if spec.code_list_id:
        items = sorted(spec.code_list.items.all(), key=lambda item: (item.order, item.code))
        return [item.name for item in items]
    return [str(value) for value in spec.enum or []]


def _range_text(spec) -> str:
    if spec.min_value is not None and spec.max_value is not None:
        return f"{spec.min_value:g} ~ {spec.max_value:g}"
    if spec.min_value is not None:
        return f"≥ {spec.min_value:g}"
    if spec.max_value is not None:
        return f"≤ {spec.max_value:g}"
    return ""


def header_text(spec) -> str:
    """The template header of a field: label, unit in brackets, "*" when required.

    Coordinate fields say "(WGS84)", so a template upload is never taken for the
    department's usual GCJ-02/BD-09 export.
    """
    resource = spec.resource
    is_coordinate = spec.name in (resource.latitude_field, resource.longitude_field)
    unit = "(WGS84)" if is_coordinate else f"({spec.unit})" if spec.unit else ""
    return f"{spec.label}{unit}{'*' if spec.required else ''}"


def _note(spec) -> str:
    parts = [_("类型：%(type)s") % {"type": spec.get_field_type_display()}]
    if spec.unit:
        parts.append(_("单位：%(unit)s") % {"unit": spec.unit})
    if _range_text(spec):
        parts.append(_("范围：%(range)s") % {"range": _range_text(spec)})
    if spec.max_length:
        parts.append(_("最长 %(n)d 个字符") % {"n": spec.max_length})
    if spec.pattern:
        parts.append(_("格式：%(pattern)s") % {"pattern": spec.pattern})
    parts.append(_("必填") if spec.required else _("选填"))
    if spec.field_type == "datetime":
        parts.append(_("示例：2025-07-01 14:30"))
    elif spec.field_type == "date":
        parts.append(_("示例：2025-07-01"))
    elif spec.field_type == "geopoint":
        parts.append(_("示例：121.473701,31.230416（经度,纬度）"))
    return "\n".join(parts)


def build_template(resource) -> bytes:
    """The template workbook: a data sheet with marked headers, notes and drop-downs,
    a "说明" sheet describing every field, and a hidden sheet holding the lists."""
    specs = sorted(resource.fields.all(), key=lambda spec: (spec.order, spec.id))
    book = Workbook()
    data = book.active
    data.title = safe_text(resource.name[:31]) or _("数据")
    lists = book.create_sheet(LISTS_SHEET)
    lists.sheet_state = "hidden"
    list_column = 0
    for index, spec in enumerate(specs, start=1):
        letter = get_column_letter(index)
        cell = data.cell(row=1, column=index, value=safe_text(header_text(spec)))
        cell.font = REQUIRED_FONT if spec.required else BOLD
        cell.fill = HEADER_FILL
        cell.comment = Comment(_note(spec), _("填报说明"))
        data.column_dimensions[letter].width = max(12, len(header_text(spec)) * 2 + 2)
        cells = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        allowed = _allowed(spec)
        if allowed:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=safe_text(spec.label))
            for offset, value in enumerate(allowed, start=2):
                lists.cell(row=offset, column=list_column, value=safe_text(value))
            source = (
                f"{quote_sheetname(LISTS_SHEET)}!${list_letter}$2:${list_letter}${len(allowed) + 1}"
            )
            check = DataValidation(type="list", formula1=source, allow_blank=not spec.required)
            check.error = _("请从下拉列表中选择。")
            check.errorTitle = spec.label
            check.showErrorMessage = True
        elif spec.field_type in ("number", "integer") and (
            spec.min_value is not None or spec.max_value is not None
        ):
            low = spec.min_value if spec.min_value is not None else -1e15
            high = spec.max_value if spec.max_value is not None else 1e15
            kind = "whole" if spec.field_type == "integer" else "decimal"
            check = DataValidation(
                type=kind, operator="between", formula1=f"{low:g}", formula2=f"{high:g}"
            )
            check.error = _("取值范围：%(range)s") % {"range": _range_text(spec)}
            check.errorTitle = spec.label
            check.showErrorMessage = True
        else:
            continue
        data.add_data_validation(check)
        check.add(cells)
    data.freeze_panes = "A2"
    notes = book.create_sheet(_("说明"), 1)
    columns = [_("字段名称"), _("字段名"), _("类型"), _("单位"), _("必填"), _("取值范围"),
               _("格式"), _("可选值"), _("说明")]  # fmt: skip
    notes.append(columns)
    for cell in notes[1]:
        cell.font = BOLD
        cell.fill = HEADER_FILL
    for spec in specs:
        allowed = _allowed(spec)
        notes.append(
            [
                safe_text(value)
                for value in (
                    spec.label,
                    spec.name,
                    str(spec.get_field_type_display()),
                    spec.unit,
                    _("是") if spec.required else _("否"),
                    _range_text(spec),
                    spec.pattern,
                    "、".join(allowed[:50]),
                    spec.description,
                )
            ]
        )
    for letter, width in zip("ABCDEFGHI", (16, 16, 10, 10, 6, 14, 16, 40, 40), strict=True):
        notes.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
