"""What parsing tells the uploader besides row errors: the closest file headers of a
missing column, what was assumed (unit, coordinate system) and what was converted.

Notices are ``hub.records.notices.Notice`` objects (code + column + parameters), stored on
the batch and rendered in the viewer's language.
"""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext as _

from connectors.base import Connector
from connectors.normalisers import numbers, units
from connectors.normalisers.headers import ColumnMatch
from connectors.normalisers.schema import Schema
from hub.records import notices
from hub.records.notices import Notice


def missing_message(missing, schema: Schema, headers: list[str], found: set[str]) -> str:
    """ "Missing required columns", naming the file headers closest to each missing one."""
    labels = "、".join(info.label for info in missing)
    message = _("缺少必填列：%(labels)s") % {"labels": labels}
    hints = []
    for info in missing:
        close = schema.headers.closest(info.name, headers)
        if close:
            hints.append(
                _("“%(label)s”最接近的文件列：%(headers)s")
                % {"label": info.label, "headers": "、".join(close)}
            )
    if hints:
        message += "（" + "；".join(hints) + "）"
    elif headers:
        message += "（" + _("文件的列：%(headers)s") % {"headers": "、".join(headers[:20])} + "）"
    return message


def declares(connector: Connector, attribute: str) -> bool:
    """Whether the connector's class (not the generic base) sets ``attribute``; a
    profile says for the CRS."""
    if attribute == "source_crs" and connector.crs_stated is not None:
        return connector.crs_stated
    return any(attribute in vars(klass) for klass in type(connector).__mro__[:-2])


def assumptions(schema: Schema, matches: list[ColumnMatch], connector: Connector) -> list[Notice]:
    """What the load takes for granted because neither header nor connector says it:
    a number column's unit, the coordinate system of coordinates."""
    found: list[Notice] = []
    infos = schema.by_name()
    for match in matches:
        info = infos[match.field]
        if (
            info.field_type == "number"
            and info.unit
            and info.unit in units.UNITS
            and info.name not in (schema.latitude_field, schema.longitude_field)
            and match.unit is None
            and not connector.source_units.get(info.name)
        ):
            found.append(Notice(notices.ASSUMED_UNIT, match.header, {"unit": info.unit}))
    coordinates_ = [
        match
        for match in matches
        if match.field in (schema.latitude_field, schema.longitude_field)
        or infos[match.field].field_type == "geopoint"
    ]
    if (
        coordinates_
        and not any(m.crs for m in coordinates_)
        and not declares(connector, "source_crs")
    ):
        crs = notices.CRS_NAMES.get(connector.source_crs, connector.source_crs)
        found += [Notice(notices.ASSUMED_CRS, m.header, {"crs": crs}) for m in coordinates_]
    return found


def note_converted(notes, cell_units, usable, target: str, column: str, rows) -> None:
    """Note the cells converted from a unit written in the cell ("350kPa" → MPa)."""
    written = (cell_units.fillna("") != "") & usable
    if not written.any():
        return
    spellings = cell_units[written]
    canonical = spellings.map(lambda s: units.canonical_unit(s) or s)
    converted = written.copy()
    converted[written] = (canonical != target).to_numpy()
    if not converted.any():
        return
    positions = np.flatnonzero(converted.to_numpy())
    params = {
        "rows": len(positions),
        "units": "、".join(sorted(set(canonical[converted[written].to_numpy()]))),
        "unit": target,
        "first": int(np.asarray(rows)[positions[0]]),
    }
    notes.append(Notice(notices.CONVERTED_VALUES, column, params))


def note_negatives(notes, series, usable, column: str, rows) -> None:
    """Note the cells read as negative numbers from parentheses ("(0.5)" → -0.5)."""
    negated = numbers.parenthesised(series) & np.asarray(usable, dtype=bool)
    if negated.any():
        positions = np.flatnonzero(negated)
        params = {"rows": len(positions), "first": int(np.asarray(rows)[positions[0]])}
        notes.append(Notice(notices.NEGATIVE_PARENTHESES, column, params))
