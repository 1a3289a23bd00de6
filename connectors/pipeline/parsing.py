"""Parse a table into :class:`ParsedChunk` objects: map headers, normalise, validate.

``parse_file`` opens the file and checks its header eagerly, so whole-file problems
(empty, wrong type, bombs, missing required columns) raise :class:`InputError` at call
time; the returned iterator then normalises one chunk at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.base import Connector, InputError, ParsedChunk, RowError
from connectors.normalisers import dms, rules, units
from connectors.normalisers.districts import DistrictMatcher
from connectors.normalisers.headers import ColumnMatch
from connectors.normalisers.schema import Schema, load_schema
from connectors.normalisers.validation import field_errors
from connectors.pipeline import fields, footnotes, parse_notices
from connectors.pipeline.commas import NUMBER_TYPES, FileCommas
from connectors.pipeline.fingerprints import RowMemo, parse_context
from connectors.pipeline.positions import fix_coordinates, split_pairs
from connectors.profiles.resolve import connector_for
from connectors.readers.base import RawChunk, Table
from connectors.readers.formats import open_table
from connectors.readers.jsonfile import records_table
from connectors.writers import report_columns
from hub.records import notices
from hub.records.notices import Notice

# The first chunk is split here: the load starts on it while the rest is normalised.
FIRST_CHUNK_ROWS = 4_096


def parse_file(
    *,
    path: Path,
    filename: str,
    resource,
    connector: Connector | None = None,
    chunk_rows: int = 100_000,
    sheet: str | int | None = None,
    memo: RowMemo | None = None,
) -> Iterator[ParsedChunk]:
    """Read, map, normalise and validate a file in chunks of at most ``chunk_rows`` rows.

    The format is decided by content (magic bytes), the file name only breaks ties.
    Raises :class:`InputError` for whole-file problems, possibly after some chunks.
    ``memo`` (a ``RowMemo``) sets aside rows loaded before.
    """
    path = Path(path)  # the admin preview passes the stored file's path as text
    connector = connector or _default_connector(resource)
    schema = load_schema(resource, connector)
    table = open_table(
        path=path,
        filename=filename,
        scorer=schema.headers.score,
        chunk_rows=chunk_rows,
        sheet=sheet,
    )
    return _parse_table(table, schema, connector, resource=resource, memo=memo)


def parse_records(
    *, records: list[dict], resource, connector: Connector | None = None, memo=None
) -> ParsedChunk:
    """Normalise and validate records pushed as JSON; keys are field names or labels.

    All records come back as one chunk.
    """
    connector = connector or _default_connector(resource)
    schema = load_schema(resource, connector)
    table = records_table(
        records, scorer=schema.headers.score, chunk_rows=max(1, len(records or [1]))
    )
    parsed = _parse_table(
        table, schema, connector, resource=resource, memo=memo, pushed=True, ramp=False
    )
    chunks = list(parsed)
    return chunks[0]


def _default_connector(resource) -> Connector:
    return connector_for(resource)


def _parse_table(
    table: Table,
    schema: Schema,
    connector: Connector,
    *,
    resource,
    memo: RowMemo | None,
    pushed: bool = False,
    ramp: bool = True,
) -> Iterator[ParsedChunk]:
    """Check the header mapping now; normalise chunk by chunk when iterated.

    ``pushed``: records pushed through the API follow the Table Schema (its units and
    WGS-84), so nothing is "assumed" about them. ``ramp=False`` keeps the first chunk
    whole (``parse_records`` returns one chunk: a split one lost every row after the
    first FIRST_CHUNK_ROWS of a push of more than twice as many).
    """
    matches, ignored = schema.headers.map_columns(table.headers)
    found = {match.field for match in matches}
    missing = [info for info in schema.fields if info.required and info.name not in found]
    if missing:
        raise InputError(
            parse_notices.missing_message(missing, schema, table.headers, found),
            row=table.header_row or None,
            column=missing[0].label,
        )
    _check_header_units(matches, schema, connector, table.header_row)
    warnings = list(table.warnings)
    # A corrected error report: its row-number and error columns are named, not data.
    report = report_columns.positions(table.headers, ignored)
    own = {table.headers[position] for position in report}
    warnings += [Notice(notices.IGNORED_COLUMN, header) for header in ignored if header not in own]
    warnings += [Notice(notices.REPORT_COLUMN, table.headers[position]) for position in report]
    hidden = table.hidden_columns  # XLSX columns hidden in Excel: said when mapped
    warnings += [
        Notice(notices.HIDDEN_COLUMN, match.header, {"letter": hidden[match.position]})
        for match in matches
        if match.position in hidden
    ]
    if not pushed:
        warnings += parse_notices.assumptions(schema, matches, connector)

    if memo is not None:
        memo.begin(
            parse_context(
                resource=resource,
                connector=connector,
                schema=schema,
                headers=table.headers,
                matches=matches,
            )
        )

    commas = FileCommas(connector, table.delimiter)

    def generate() -> Iterator[ParsedChunk]:
        first = True
        chunks = commas.first_decides(table.chunks, matches, schema)
        for raw in _ramped(chunks) if ramp else chunks:
            if report:
                raw = replace(raw, frame=report_columns.unquote(raw.frame))
            skipped = None
            if not pushed:
                raw, skipped = footnotes.drop_notes(raw)
            known = None
            if memo is not None:
                raw, known = memo.split(raw, table.headers)
            if len(raw.frame) or raw.errors:
                chunk = normalise_chunk(
                    raw, table.headers, matches, schema, connector, commas=commas
                )
            else:  # every row was found among the last load's: nothing to normalise
                chunk = _empty_chunk(raw, table.headers, schema)
            chunk.known, chunk.fingerprints = known, raw.fingerprints
            if skipped is not None:
                chunk.warnings = [*chunk.warnings, skipped]
            if first:
                chunk.warnings = warnings + chunk.warnings
                first = False
            yield chunk

    return generate()


def _check_header_units(
    matches: list[ColumnMatch], schema: Schema, connector: Connector, header_row: int
) -> None:
    """Refuse a file whose header states a unit the registry does not know for a field
    with a unit ("瞬时流量(m³/x)"): assuming the field's unit instead could store every
    value of the column wrong. A profile's source unit for the field is the way out."""
    infos = schema.by_name()
    for match in matches:
        info = infos[match.field]
        if (
            match.unknown_unit
            and info.field_type == "number"
            and info.unit  # "" is the registry's dimensionless unit: no unit to assume
            and info.unit in units.UNITS
            and not connector.source_units.get(info.name)
        ):
            dimension = units.UNITS[info.unit].dimension
            known = [s for s, u in units.UNITS.items() if s and u.dimension == dimension]
            raise InputError(
                _(
                    "表头单位“%(unit)s”无法识别（列“%(header)s”）：请改用可识别的单位"
                    "（%(known)s），或在接入配置的源单位中写明该列的单位。"
                )
                % {"unit": match.unknown_unit, "header": match.header, "known": "、".join(known)},
                row=header_row or None,
                column=match.header,
            )


def _ramped(chunks: Iterator[RawChunk]) -> Iterator[RawChunk]:
    """The chunks with the first one split after FIRST_CHUNK_ROWS rows: the pipeline's
    loading thread starts on a small chunk while the rest of the first is normalised."""
    chunks = iter(chunks)
    head = next(chunks, None)
    if head is None:
        return
    if len(head.frame) <= 2 * FIRST_CHUNK_ROWS:
        yield head
    else:
        boundary = int(head.source_rows[FIRST_CHUNK_ROWS])
        yield RawChunk(
            frame=head.frame.iloc[:FIRST_CHUNK_ROWS],
            source_rows=head.source_rows[:FIRST_CHUNK_ROWS],
            errors=[error for error in head.errors if error.row < boundary],
        )
        yield RawChunk(
            frame=head.frame.iloc[FIRST_CHUNK_ROWS:].reset_index(drop=True),
            source_rows=head.source_rows[FIRST_CHUNK_ROWS:],
            errors=[error for error in head.errors if error.row >= boundary],
        )
    yield from chunks


def _empty_chunk(raw: RawChunk, headers: list[str], schema: Schema) -> ParsedChunk:
    """A chunk of no rows, typed as ``normalise_chunk`` types the fields' columns."""
    original = raw.frame.copy()
    original.columns = headers
    return ParsedChunk(
        frame=pd.DataFrame({info.name: pd.Series([], dtype=object) for info in schema.fields}),
        source_rows=np.empty(0, dtype="int64"),
        valid=np.empty(0, dtype=bool),
        errors=[],
        raw=original,
    )


def normalise_chunk(
    raw: RawChunk,
    headers: list[str],
    matches: list[ColumnMatch],
    schema: Schema,
    connector: Connector,
    *,
    commas: FileCommas | None = None,
) -> ParsedChunk:
    """Normalise and validate one chunk of string cells (``commas``: the file's comma
    readings, decided by this chunk when it is the first)."""
    original = raw.frame.copy()
    original.columns = headers
    prepared = connector.prepare(original.copy())
    if connector.missing_values:
        # The profile's "no value" texts, compared on the trimmed cell.
        markers = list(connector.missing_values)
        prepared = prepared.mask(prepared.apply(lambda c: c.str.strip().isin(markers)), "")
    by_field = {match.field: match for match in matches}
    rows = raw.source_rows
    n = len(prepared)
    columns: dict[str, pd.Series] = {}
    errors: list[RowError] = list(raw.errors)
    invalid = np.zeros(n, dtype=bool)
    if raw.errors:
        invalid |= np.isin(rows, [error.row for error in raw.errors])
    coordinate_state: dict[str, tuple] = {}
    notes: list[Notice] = []
    commas = commas or FileCommas(connector)
    # One "经纬度" column for the latitude and longitude fields: each takes its half.
    halves, found, unpaired = split_pairs(prepared, matches, schema, rows)
    errors.extend(found)
    invalid |= unpaired
    for info in schema.fields:
        match = by_field.get(info.name)
        if match is not None and match.pair:
            series = halves[info.name]
            shown = original.iloc[:, match.position].reset_index(drop=True)
            column = match.header
        elif match is not None:
            series = prepared.iloc[:, match.position].reset_index(drop=True)
            shown = original.iloc[:, match.position].reset_index(drop=True)
            column = match.header
        else:
            series = pd.Series([""] * n, dtype=object)
            shown = series
            column = info.label
        degrees = None  # what is wrong with cells written in degrees that cannot be read
        marks = None  # the axis each angle's hemisphere mark names ("31°13′48″N": "lat")
        located = info.name in (schema.latitude_field, schema.longitude_field)
        looked_up = None
        comma_mode = ""
        if match is None and info.name not in schema.rules:
            # No column: every cell empty, nothing to read (half of a push's schema).
            values, missing, bad, unit_bad, problems = fields.absent(info, connector, n)
        else:
            if located and info.field_type != "geopoint":
                series, degrees, marks = dms.read_angles(series)  # "121°28′12″"
            if info.name in schema.rules:
                series, looked_up, found = rules.apply(
                    schema.rules[info.name], series, column=column, name=info.name, rows=rows
                )
                errors.extend(found)
                invalid |= looked_up
            if info.field_type in NUMBER_TYPES:
                comma_mode = commas.mode(info.name, series, rows)
                notes.extend(commas.notices(info.name, column))
            values, missing, bad, unit_bad, problems = fields.typed(
                info, series, match, connector, notes=notes, column=column, rows=rows,
                commas=comma_mode,
            )  # fmt: skip
        # A degrees cell that cannot be read says what is wrong ("分须小于 60"), not
        # that it is no number or no point.
        found, wrong = fields.degree_errors(
            degrees if problems is None else problems,
            shown,
            rows,
            column=column,
            field=info.name,
            pair=problems is not None,
        )
        errors.extend(found)
        invalid |= wrong
        bad = bad & ~wrong
        if unit_bad is not None:
            unit_bad = unit_bad & ~wrong
        if comma_mode == "thousands":
            found, contradicted = commas.contradictions(info.name, series, rows, column)
            errors.extend(found)
            invalid |= contradicted
            bad = bad & ~contradicted
        if looked_up is not None and looked_up.any():
            # A lookup miss is its own error: not also "required" or "bad".
            missing, bad = missing & ~looked_up, bad & ~looked_up
        checked = info
        if located:
            coordinate_state[info.name] = (column, shown, marks)
            # Ranges are checked after swap detection and datum conversion.
            checked = replace(info, min_value=None, max_value=None)
        columns[info.name] = values
        field_problems, failed = field_errors(
            info=checked,
            column=column,
            values=values,
            text=shown,
            missing=missing,
            bad=bad,
            rows=rows,
            unit_bad=unit_bad,
            is_district=isinstance(info.matcher, DistrictMatcher),
        )
        errors.extend(field_problems)
        invalid |= failed
    frame = pd.DataFrame(columns)
    if schema.latitude_field in columns and schema.longitude_field in columns:
        stated = [
            by_field[name].crs
            for name in (schema.latitude_field, schema.longitude_field)
            if name in by_field and by_field[name].crs
        ]
        crs = stated[0] if stated else connector.source_crs
        invalid |= fix_coordinates(frame, schema, crs, coordinate_state, rows, errors, notes)
    order = {info.name: index for index, info in enumerate(schema.fields)}
    errors.sort(key=lambda error: (error.row, order.get(error.field, -1)))
    chunk = ParsedChunk(
        frame=frame,
        source_rows=np.asarray(rows, dtype="int64"),
        valid=~invalid,
        errors=errors,
        raw=original.reset_index(drop=True),
        warnings=notes,
    )
    return connector.finalise(chunk)
