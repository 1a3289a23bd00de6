"""The record grid of a resource page: its parameters, order, cells and downloads.

Filters are the records API's (``hub.api.record_filters``: time range, district, field
equality, each refused when it would narrow on a value the caller reads masked or not at
all) and pages are its keyset pages (``hub.api.record_pages``: sealed cursors, no OFFSET).
The explorer adds orders by one readable field and renders values for people: Chinese
labels, Asia/Shanghai times, names for codes, rounded coordinates, masked values marked.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.db.models import F, FloatField, Q, TextField, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hub.api.record_filters import EQ_PREFIX, HiddenParts, refuse_hidden
from hub.api.record_pages import Ordering, choose_ordering
from hub.catalog.display import display_value
from hub.catalog.models import DataResource, FieldType
from permissions.record_access import RecordAccess

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_EXPORT_ROWS = 100_000
EXPORT_FORMATS = ("csv", "xlsx")
COORDINATE_DIGITS = 4  # about 11 m: enough to place a record, not a doorway
FILTER_PARAMS = ("since", "until", "district")
LOWEST = -1.7e308
SORT = "sort_value"


def api_filters(params: Mapping[str, str]) -> dict[str, str]:
    """The records API's filter parameters in the explorer's query string.

    Empty form fields are dropped; the form's ``eq_field`` + ``eq_value`` pair is
    ``eq.<field>=<value>``, which may also be given directly.
    """
    filters = {}
    for name in FILTER_PARAMS:
        value = (params.get(name) or "").strip()
        if value:
            filters[name] = value
    for name in params:
        value = (params.get(name) or "").strip()
        if name.startswith(EQ_PREFIX) and value:
            filters[name] = value
    chosen = (params.get("eq_field") or "").strip()
    wanted = (params.get("eq_value") or "").strip()
    if wanted and not chosen:
        raise ValidationError({"eq_field": [_("请选择要筛选的字段。")]})
    if chosen and wanted:
        filters[EQ_PREFIX + chosen] = wanted
    return filters


def grid_ordering(
    value: str | None, resource: DataResource, access: RecordAccess, hidden: HiddenParts
) -> Ordering:
    """The page order: ``key``/``-key`` (the API's), ``<field>``/``-<field>`` for a
    field read in clear, else the API's default (key, or load order when it is hidden)."""
    if not value or value in ("key", "-key"):
        return choose_ordering(value or None, key_readable=not hidden.key)
    descending = value.startswith("-")
    name = value[1:] if descending else value
    types = {spec.name: spec.field_type for spec in access.fields}
    if name not in types:
        raise ValidationError({"order": [_("无权访问或不存在的字段：%(n)s") % {"n": name[:64]}]})
    if name in hidden.fields:
        raise refuse_hidden("order", name)
    if types[name] == FieldType.GEOPOINT:
        raise ValidationError({"order": [_("不能按坐标字段排序。")]})
    if list(resource.key_fields) == [name]:
        # The natural key is this field's value: its unique index serves the order.
        return choose_ordering("-key" if descending else "key", key_readable=not hidden.key)
    if name == resource.time_field:
        return TimeOrdering(
            f"{'-' if descending else ''}t.{name}", ("observed_at", "id"), descending=descending
        )
    if types[name] in (FieldType.INTEGER, FieldType.NUMBER):
        expression = Coalesce(
            Cast(KT(f"data__{name}"), FloatField()), Value(LOWEST), output_field=FloatField()
        )
    else:
        expression = Coalesce(KT(f"data__{name}"), Value(""), output_field=TextField())
    return Ordering(
        f"{'-' if descending else ''}f.{name}",
        (SORT, "id"),
        descending=descending,
        annotations=((SORT, expression),),
    )


@dataclass(frozen=True)
class TimeOrdering(Ordering):
    """By the record's time (``observed_at``) then id, a missing time counting as later
    than any: ascending is NULLS LAST, descending NULLS FIRST, the two directions of the
    ``(resource, observed_at)`` index, so the first page needs no sort of every row."""

    def order_by(self, *, reverse: bool = False) -> list:
        descending = self.descending != reverse
        time = F(self.columns[0])
        if descending:
            return [time.desc(nulls_first=True), f"-{self.columns[1]}"]
        return [time.asc(nulls_last=True), self.columns[1]]

    def after(self, position: list, *, reverse: bool = False) -> Q:
        """Rows after ``position`` in this order (before it when ``reverse``)."""
        descending = self.descending != reverse
        time, ident = self.columns
        value, pk = position
        lookup = "lt" if descending else "gt"
        missing = Q(**{f"{time}__isnull": True})
        if value is None:
            same = missing & Q(**{f"{ident}__{lookup}": pk})
            return same | ~missing if descending else same
        later = Q(**{f"{time}__{lookup}": value}) | Q(**{time: value, f"{ident}__{lookup}": pk})
        return later if descending else later | missing


@dataclass
class Column:
    """One grid column: a field the caller reads, how its values are shown."""

    name: str
    label: str
    unit: str
    field_type: str
    masked: bool
    sortable: bool
    coordinate: bool = False
    names: dict[str, str] = field(default_factory=dict)


def grid_columns(
    resource: DataResource,
    access: RecordAccess,
    hidden: HiddenParts,
    code_names: dict[int, dict[str, str]],
) -> list[Column]:
    coordinates = {resource.latitude_field, resource.longitude_field} - {""}
    return [
        Column(
            name=spec.name,
            label=spec.label,
            unit=spec.unit,
            field_type=spec.field_type,
            masked=spec.name in access.maskers,
            sortable=spec.name not in hidden.fields and spec.field_type != FieldType.GEOPOINT,
            coordinate=spec.name in coordinates,
            names=code_names.get(spec.code_list_id, {}) if spec.code_list_id else {},
        )
        for spec in access.fields
    ]


def rounded(value: object) -> str:
    try:
        return f"{float(value):.{COORDINATE_DIGITS}f}"
    except (TypeError, ValueError):
        return str(value)


def cell_text(value: object, column: Column) -> str:
    """One value as people read it (masked values as received, already masked)."""
    if value is None:
        return ""
    if column.masked:
        return str(value)
    if column.names:
        return column.names.get(str(value), str(value))
    if column.coordinate:
        return rounded(value)
    if column.field_type == FieldType.GEOPOINT and isinstance(value, str) and "," in value:
        return ",".join(rounded(part) for part in value.split(",", 1))
    return display_value(value, column.field_type)


def grid_cells(rows: list[dict], columns: list[Column]) -> list[list[tuple[str, bool]]]:
    """(text, masked) per cell, row by row."""
    return [
        [(cell_text(row.get(column.name), column), column.masked) for column in columns]
        for row in rows
    ]


def rows_html(
    cells: list[list[tuple[str, bool]]], links: list[str] | None = None, link_text: str = ""
) -> SafeString:
    """The grid's body rows as escaped HTML, built here rather than by template tags (a
    50-row page has hundreds of cells: half of the page's time when rendered by tags).
    ``links``, one per row, end each row with a link cell (提出异议)."""
    parts = []
    for index, row in enumerate(cells):
        parts.append(f'<tr class="row{1 + index % 2}">')
        for text, masked in row:
            parts.append('<td class="masked">' if masked else "<td>")
            parts.append(escape(text))
            parts.append("</td>")
        if links is not None:
            parts.append(f'<td><a class="objection-link" href="{escape(links[index])}">')
            parts.append(f"{escape(link_text)}</a></td>")
        parts.append("</tr>")
    return mark_safe("".join(parts))  # noqa: S308 - every value is escaped above


def bounded(rows):
    """At most MAX_EXPORT_ROWS rows of an export (downloads from the explorer are bounded;
    the whole set is the API's ``format=`` export)."""
    return itertools.islice(rows, MAX_EXPORT_ROWS)


def error_messages(exc: ValidationError) -> list[tuple[str, str]]:
    """(parameter, message) pairs of a 400, for the page."""
    detail = exc.detail
    if not isinstance(detail, dict):
        return [("", str(item)) for item in (detail if isinstance(detail, list) else [detail])]
    found = []
    for param, messages in detail.items():
        for message in messages if isinstance(messages, list) else [messages]:
            found.append((str(param), str(message)))
    return found
