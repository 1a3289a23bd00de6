"""From a proposal to a profile: the steward's corrections, the unsaved
``ConnectorProfile`` it amounts to, and the preview of normalised values.

The profile starts from the department's current profile (every value it holds carries
over: missing markers, value aliases, lookups) or, without one, from the connector's
declarations; the proposal's mapping, units, CRS, layouts and zone replace theirs, and the
header signature ties it to files with these headers (``profiles.current_profile``).
"""

from __future__ import annotations

import json
import zoneinfo
from dataclasses import replace

import numpy as np
from django.utils.translation import gettext as _

from connectors.models import ConnectorProfile, SourceCRS
from connectors.normalisers import dates
from connectors.normalisers.headers import fold_header
from connectors.normalisers.units import canonical_unit
from connectors.proposal.result import (
    PAIR_JOIN,
    CommaGuess,
    CrsGuess,
    DateGuess,
    FieldMatch,
    Proposal,
    UnitGuess,
)

# The page's choices for 小数点为逗号: "" undecided, "yes", "no".
DECIMAL_COMMA_CHOICES = {"": None, "yes": True, "no": False}


class EditError(ValueError):
    """A correction that names an unknown field, unit, CRS or layout."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def corrected(
    proposal: Proposal,
    *,
    field_names: list[str],
    mapping: dict[str, str] | None = None,
    units: dict[str, str] | None = None,
    crs: str | None = None,
    layouts: dict[str, str] | None = None,
    timezone: str | None = None,
    decimal_comma: str | None = None,
    pair: tuple[str, str] | None = None,
) -> Proposal:
    """The proposal with the steward's corrections (header → field or "" for none, or
    the ``pair`` of separate latitude and longitude fields joined by ``PAIR_JOIN`` for a
    column of "经度,纬度"; field → unit; CRS; field → layout; zone; 小数点为逗号 "",
    "yes" or "no"). Raises ``EditError``."""
    result = replace(proposal)
    if decimal_comma is not None:
        if decimal_comma not in DECIMAL_COMMA_CHOICES:
            raise EditError(_("“小数点为逗号”只能为“是”“否”或“未定”。"))
        chosen = DECIMAL_COMMA_CHOICES[decimal_comma]
        if chosen != proposal.commas.decimal_comma:
            result.commas = CommaGuess(chosen, "steward", proposal.commas.examples)
    if mapping is not None:
        chosen = {h: f.split(PAIR_JOIN) for h, f in mapping.items() if f}
        for names in chosen.values():
            if len(names) > 1 and tuple(names) != pair:
                raise EditError(
                    _("只有纬度和经度两个字段可以取自同一列：%(names)s")
                    % {"names": PAIR_JOIN.join(names)}
                )
        named = [name for names in chosen.values() for name in names]
        unknown = sorted(set(named) - set(field_names))
        if unknown:
            raise EditError(_("未知的字段：%(names)s") % {"names": "、".join(unknown)})
        doubled = sorted({f for f in named if named.count(f) > 1})
        if doubled:
            raise EditError(_("多个列对应同一字段：%(names)s") % {"names": "、".join(doubled)})
        before: dict[str, list[FieldMatch]] = {}
        for match in proposal.mapping:
            before.setdefault(match.header, []).append(match)
        result.mapping = []
        for i, h in enumerate(proposal.headers):
            if h not in chosen:
                continue
            if [m.field for m in before.get(h, [])] == chosen[h]:
                result.mapping += before[h]
            else:
                result.mapping += [
                    FieldMatch(position=i, header=h, field=f, score=100.0, source="steward")
                    for f in chosen[h]
                ]
        result.ignored = [h for h in proposal.headers if h not in chosen and h.strip()]
    if units is not None:
        guesses = {u.field: u for u in proposal.units}
        result.units = []
        for field, text in units.items():
            unit = canonical_unit(text or "")
            if unit is None:
                raise EditError(_("未知的单位：%(unit)s") % {"unit": text})
            old = guesses.get(field)
            target = old.target if old else unit
            if old is not None and old.unit == unit:
                result.units.append(old)
            else:
                result.units.append(UnitGuess(field, unit, target, "steward"))
    if crs is not None:
        if crs and crs not in SourceCRS.values:
            raise EditError(_("未知的坐标系。"))
        # "" is the page's "WGS-84 (default)". With coordinates in the file, the choice
        # shown is the steward's, even when it is the guess: an assumed WGS-84 or a
        # profile's CRS confirmed on the page is saved as said.
        chosen = crs or ("wgs84" if proposal.crs.crs else "")
        confirmed = proposal.crs.source in ("assumed", "profile")
        if chosen and (chosen != proposal.crs.crs or confirmed):
            result.crs = CrsGuess(chosen, "steward", proposal.crs.points, proposal.crs.inside)
    if timezone:
        try:
            zoneinfo.ZoneInfo(timezone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise EditError(_("未知的时区：%(tz)s") % {"tz": timezone}) from exc
    if layouts is not None or timezone is not None:
        old_dates = {d.field: d for d in proposal.dates}
        zone = timezone if timezone is not None else None
        result.dates = []
        for field in {*old_dates, *(layouts or {})}:
            old = old_dates.get(field) or DateGuess(field, "", False, "", 0.0)
            layout = (layouts or {}).get(field, old.layout)
            if layout and not dates.valid_layout(layout):
                raise EditError(_("无效的日期格式：%(layout)s") % {"layout": layout})
            day_first = layout.startswith("%d") if layout else old.day_first
            result.dates.append(
                replace(old, layout=layout, day_first=day_first, timezone=zone or old.timezone)
            )
    return result


def coordinate_pair(resource) -> tuple[str, str] | None:
    """The resource's separate latitude and longitude fields, which one column of pairs
    may feed together; None when it has no such two."""
    lat, lon = resource.latitude_field, resource.longitude_field
    return (lat, lon) if lat and lon and lat != lon else None


def _base(resource, department) -> ConnectorProfile:
    """A copy (unsaved) of the current profile, or the connector's declarations."""
    from connectors.profiles.resolve import connector_for
    from connectors.profiles.versions import current_profile

    current = current_profile(resource, department)
    if current is not None and current.department_id == department.pk:
        profile = ConnectorProfile.objects.get(pk=current.pk)
        profile.pk = None
        profile._state.adding = True
        return profile
    from connectors.pipeline.parse_notices import declares

    connector = connector_for(resource, department)
    return ConnectorProfile(
        department=department,
        resource=resource,
        source_crs=connector.source_crs if declares(connector, "source_crs") else "",
        source_units=dict(connector.source_units),
        date_layouts=list(connector.date_layouts),
        source_timezone=connector.source_timezone,
        day_first=connector.day_first,
        decimal_comma=connector.decimal_comma,
        missing_values=list(connector.missing_values),
        header_aliases={k: list(v) for k, v in connector.header_aliases.items()},
        value_aliases={k: dict(v) for k, v in connector.value_aliases.items()},
    )


def to_profile(proposal: Proposal, *, resource, department, filename: str = "") -> ConnectorProfile:
    """The unsaved profile a proposal amounts to (see the module docstring)."""
    profile = _base(resource, department)
    profile.department, profile.resource = department, resource
    mapped = {fold_header(m.header) for m in proposal.mapping}
    aliases = {
        field: [a for a in spellings if fold_header(a) not in mapped]
        for field, spellings in (profile.header_aliases or {}).items()
    }
    for match in proposal.mapping:
        aliases.setdefault(match.field, []).append(match.header)
    profile.header_aliases = {k: v for k, v in aliases.items() if v}
    units = dict(profile.source_units or {})
    for guess in proposal.units:
        if guess.source in ("range", "cells", "profile", "steward"):
            units[guess.field] = guess.unit
    profile.source_units = units
    if proposal.crs.crs and proposal.crs.source in ("districts", "header", "steward"):
        profile.source_crs = proposal.crs.crs
    layouts = [d.layout for d in proposal.dates if d.layout]
    profile.date_layouts = list(dict.fromkeys([*layouts, *(profile.date_layouts or [])]))
    if any(d.day_first for d in proposal.dates):
        profile.day_first = True
    elif proposal.dates:
        profile.day_first = False
    zones = [d.timezone for d in proposal.dates if d.timezone]
    if zones:
        profile.source_timezone = zones[0]
    if proposal.commas.source in ("delimiter", "cells", "steward"):
        profile.decimal_comma = proposal.commas.decimal_comma
    profile.header_signature = proposal.signature
    profile.note = (_("映射建议：%(name)s") % {"name": filename or proposal.resource})[:200]
    return profile


def preview(proposal: Proposal, *, sample, resource, department=None, rows: int = 10) -> None:
    """Normalise the sample's first ``rows`` rows with the proposed profile; sets
    ``proposal.preview_fields`` and ``proposal.preview`` (values as people read them)."""
    from connectors.normalisers.schema import load_schema
    from connectors.pipeline import footnotes
    from connectors.pipeline.commas import FileCommas
    from connectors.pipeline.parsing import normalise_chunk
    from connectors.profiles.resolve import connector_for
    from connectors.profiles.versions import apply_profile
    from connectors.readers.base import RawChunk
    from hub.catalog.display import display_value
    from hub.records.recordstore import field_names, prepare_rows

    department = department or resource.provider
    profile = to_profile(proposal, resource=resource, department=department)
    connector = apply_profile(connector_for(resource, department), profile)
    schema = load_schema(resource, connector)
    matches, _ignored = schema.headers.map_columns(proposal.headers)
    # Notes and a 合计 row under the table are left out as the load leaves them out.
    raw, _skipped = footnotes.drop_notes(
        RawChunk(
            frame=sample.frame.iloc[:rows].reset_index(drop=True),
            source_rows=np.asarray(sample.source_rows[:rows], dtype=np.int64),
        )
    )
    head, source_rows = raw.frame.reset_index(drop=True), raw.source_rows
    names = field_names(resource)
    proposal.preview_fields = names
    proposal.preview = []
    if head.empty:
        return
    chunk = normalise_chunk(
        RawChunk(frame=head, source_rows=source_rows),
        proposal.headers,
        matches,
        schema,
        connector,
        commas=FileCommas(connector, sample.delimiter),
    )
    stored = prepare_rows(
        resource=resource, frame=chunk.frame, source_rows=source_rows, fields=names
    )
    types = {info.name: info.field_type for info in schema.fields}
    errors: dict[int, list[str]] = {}
    for error in chunk.errors:
        errors.setdefault(error.row, []).append(f"{error.column}: {error.message}")
    for row, data in zip(source_rows.tolist(), stored["data"].to_list(), strict=True):
        values = json.loads(data)
        proposal.preview.append(
            {
                "row": row,
                "values": [display_value(values.get(n), types.get(n, "")) for n in names],
                "errors": errors.get(row, []),
            }
        )
