"""Coordinates of a parsed chunk: reversed pairs swapped back, converted to WGS-84, ranges
checked against the schema (a step of :mod:`connectors.pipeline.parsing`)."""

from __future__ import annotations

import numpy as np
from django.utils.translation import gettext as _

from connectors.base import RowError
from connectors.normalisers import coordinates
from hub.records import notices
from hub.records.notices import Notice


def fix_coordinates(frame, schema, crs: str, state, rows, errors, notes=None) -> np.ndarray:
    """Swap reversed latitude/longitude, convert ``crs`` to WGS-84, then check ranges.

    A coordinate system named in the header ("纬度(WGS84)") wins over the connector's.
    """
    lat_name, lon_name = schema.latitude_field, schema.longitude_field
    lat, lon, swapped = coordinates.fix_swapped(frame[lat_name], frame[lon_name])
    if notes is not None and swapped.any():
        positions = np.flatnonzero(swapped)
        notes.append(
            Notice(
                notices.SWAPPED_COORDINATES,
                state[lat_name][0],
                {"rows": len(positions), "first": int(np.asarray(rows)[positions[0]])},
            )
        )
    both = ~np.isnan(lat) & ~np.isnan(lon)
    lat_w, lon_w = coordinates.to_wgs84(lat, lon, crs)
    frame[lat_name] = np.where(both, lat_w, lat)
    frame[lon_name] = np.where(both, lon_w, lon)
    infos = schema.by_name()
    failed = np.zeros(len(frame), dtype=bool)
    for name in (lat_name, lon_name):
        info = infos[name]
        column, text = state[name]
        values = frame[name].to_numpy(dtype="float64")
        with np.errstate(invalid="ignore"):
            low = (
                values < info.min_value
                if info.min_value is not None
                else np.zeros(len(values), dtype=bool)
            )
            high = (
                values > info.max_value
                if info.max_value is not None
                else np.zeros(len(values), dtype=bool)
            )
        for position in np.flatnonzero(low | high):
            template = (
                _("'%(value)s' 小于最小值 %(limit)s%(unit)s")
                if low[position]
                else _("'%(value)s' 大于最大值 %(limit)s%(unit)s")
            )
            limit = info.min_value if low[position] else info.max_value
            message = template % {"value": text.iat[position], "limit": f"{limit:g}", "unit": ""}
            errors.append(RowError(int(rows[position]), column, message, name))
        failed |= low | high
    return failed
