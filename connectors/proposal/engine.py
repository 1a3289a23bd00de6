"""The mapping assistant (映射建议): propose a profile for an upload that does not match.

``propose`` reads a bounded sample (``sample.read_sample``), maps headers to fields
(``fields``), infers units (``units``), the coordinate system (``crs``) and date layouts
(``dates``), and normalises the first rows with the profile it amounts to
(``profile_build``) for the preview. Nothing is written.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from connectors.base import Connector
from connectors.normalisers.schema import Schema, load_schema
from connectors.proposal import crs as crs_guess
from connectors.proposal import dates as date_guess
from connectors.proposal import units as unit_guess
from connectors.proposal.decimals import guess_commas
from connectors.proposal.fields import match_fields
from connectors.proposal.result import CrsGuess, DateGuess, FieldMatch, Proposal, UnitGuess
from connectors.proposal.sample import SAMPLE_ROWS, Sample, header_signature, read_sample


def known_aliases(resource, connector: Connector) -> dict[str, list[str]]:
    """Field → header spellings met before: the connector's, the admin's header aliases,
    and every profile version's of the resource (earlier mappings)."""
    from connectors.models import ConnectorProfile, HeaderAlias

    found: dict[str, list[str]] = {k: list(v) for k, v in connector.header_aliases.items()}
    for field, alias in HeaderAlias.objects.filter(resource=resource).values_list(
        "field_name", "alias"
    ):
        found.setdefault(field, []).append(alias)
    for aliases in ConnectorProfile.objects.filter(resource=resource).values_list(
        "header_aliases", flat=True
    ):
        for field, spellings in (aliases or {}).items():
            if isinstance(spellings, list):
                found.setdefault(field, []).extend(str(s) for s in spellings)
    return found


def propose(
    *,
    path: Path,
    filename: str,
    resource,
    department=None,
    sheet: str | int | None = None,
    rows: int = SAMPLE_ROWS,
) -> Proposal:
    """A proposal for the file (raises ``InputError`` when it cannot be read at all)."""
    sample = read_sample(path=Path(path), filename=filename, sheet=sheet, rows=rows)
    return propose_sample(sample, resource=resource, department=department)


def propose_sample(sample: Sample, *, resource, department=None) -> Proposal:
    """The proposal for an already read sample."""
    from connectors.profiles.resolve import connector_for
    from connectors.proposal.profile_build import preview

    connector = connector_for(resource, department)
    schema = load_schema(resource, connector)
    infos = schema.by_name()
    frame, headers = sample.frame, sample.headers
    separate = schema.latitude_field and schema.longitude_field
    mapping, ignored = match_fields(
        headers,
        frame,
        schema.fields,
        known_aliases(resource, connector),
        pair=(schema.latitude_field, schema.longitude_field) if separate else None,
    )
    by_field = {match.field: match for match in mapping}
    units, found_dates = details(mapping, frame, schema, connector)

    def position(name: str) -> int | None:
        return by_field[name].position if name and name in by_field else None

    paired = resource.latitude_field and resource.latitude_field == resource.longitude_field
    lat_pos, lon_pos = position(schema.latitude_field), position(schema.longitude_field)
    # One "经纬度" column for both fields is read as a point column.
    pairs = lat_pos is not None and lat_pos == lon_pos
    district = infos.get(resource.district_field) if resource.district_field else None
    crs = crs_guess.guess_crs(
        headers=headers,
        frame=frame,
        lat_pos=None if paired or pairs else lat_pos,
        lon_pos=None if paired or pairs else lon_pos,
        point_pos=position(resource.latitude_field) if paired else lat_pos if pairs else None,
        district_pos=position(resource.district_field),
        matcher=district.matcher if district is not None else None,
    )
    crs = _with_declared_crs(crs, connector)
    numeric = [
        frame.iloc[:, m.position]
        for m in mapping
        if infos[m.field].field_type in ("number", "integer")
    ]
    commas = guess_commas(numeric, delimiter=sample.delimiter, declared=connector.decimal_comma)
    proposal = Proposal(
        resource=resource.code,
        headers=list(headers),
        header_row=sample.header_row,
        signature=header_signature(headers),
        sampled_rows=len(frame),
        mapping=mapping,
        units=units,
        crs=crs,
        dates=found_dates,
        commas=commas,
        ignored=ignored,
        missing=[
            info.name for info in schema.fields if info.required and info.name not in by_field
        ],
    )
    preview(proposal, sample=sample, resource=resource, department=department)
    return proposal


def _with_declared_crs(guess: CrsGuess, connector: Connector) -> CrsGuess:
    """Where neither the header nor the districts tell, the coordinate system the
    department's profile (or connector) declares, not WGS-84: what the page shows is what
    the preview and the saved profile use."""
    from connectors.pipeline.parse_notices import declares

    if guess.source != "assumed" or not guess.crs or not declares(connector, "source_crs"):
        return guess
    declared = connector.source_crs
    if not declared or declared == guess.crs:
        return guess
    return CrsGuess(declared, "profile", guess.points, guess.inside)


def details(
    mapping: list[FieldMatch],
    frame: pd.DataFrame,
    schema: Schema,
    connector: Connector,
    known: Proposal | None = None,
) -> tuple[list[UnitGuess], list[DateGuess]]:
    """Unit guesses of the mapped number fields and layouts of the date fields; those of
    ``known`` (a proposal the steward corrected) are kept, new fields are guessed."""
    infos = schema.by_name()
    coordinates = {schema.latitude_field, schema.longitude_field} - {""}
    old_units = {u.field: u for u in known.units} if known else {}
    old_dates = {d.field: d for d in known.dates} if known else {}
    units, found_dates = [], []
    for match in mapping:
        info = infos[match.field]
        column = frame.iloc[:, match.position]
        if info.field_type == "number" and info.unit and match.field not in coordinates:
            declared = connector.source_units.get(match.field, "")
            units.append(
                old_units.get(match.field)
                or unit_guess.guess_unit(match.header, column, info, declared)
            )
        elif info.field_type in ("datetime", "date"):
            found_dates.append(
                old_dates.get(match.field)
                or date_guess.guess_dates(match.field, match.header, column)
            )
    return units, found_dates


def refresh_details(proposal: Proposal, sample: Sample, *, resource, department=None) -> None:
    """After the steward's corrections: guesses for newly mapped fields, none for fields
    no longer mapped, the required fields still missing."""
    from connectors.profiles.resolve import connector_for

    connector = connector_for(resource, department)
    schema = load_schema(resource, connector)
    proposal.units, proposal.dates = details(
        proposal.mapping, sample.frame, schema, connector, known=proposal
    )
    mapped = {m.field for m in proposal.mapping}
    proposal.missing = [i.name for i in schema.fields if i.required and i.name not in mapped]
