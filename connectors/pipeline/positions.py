"""Coordinates of a parsed chunk: reversed pairs swapped back, converted to WGS-84, ranges
checked against the schema (a step of :mod:`connectors.pipeline.parsing`)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.base import RowError
from connectors.normalisers import coordinates, dms, geopoints
from connectors.normalisers.validation import type_message
from hub.records import notices
from hub.records.notices import Notice


def _swap_back(frame, schema, state, rows, errors) -> tuple:
    """(latitude, longitude, swapped, wrong) of each row (``wrong``: field -> cells whose
    hemisphere is wrong, each with its row error): first by the hemisphere marks of
    angles written in degrees (``dms.column_hemispheres``: crossed marks swap the row, a
    single contradicting mark is a row error), then by range (``coordinates.fix_swapped``)
    for the rows without a mark, which the range rule must not overrule."""
    lat_name, lon_name = schema.latitude_field, schema.longitude_field
    lat = frame[lat_name].to_numpy(dtype="float64")
    lon = frame[lon_name].to_numpy(dtype="float64")
    no_marks = pd.Series("", index=range(len(frame)), dtype=object)
    axes = [
        state[name][2] if state[name][2] is not None else no_marks for name in (lat_name, lon_name)
    ]
    lat_axis, lon_axis = (axis.to_numpy(dtype=object) for axis in axes)
    by_marks, lat_problem, lon_problem = dms.column_hemispheres(lat, lat_axis, lon, lon_axis)
    wrong = {lat_name: lat_problem != "", lon_name: lon_problem != ""}
    for name, problem in ((lat_name, lat_problem), (lon_name, lon_problem)):
        column, text = state[name][:2]
        for position in np.flatnonzero(wrong[name]):
            message = dms.message(problem[position], str(text.iat[position]))
            errors.append(RowError(int(rows[position]), column, message, name))
    lat, lon = np.where(by_marks, lon, lat), np.where(by_marks, lat, lon)
    fixed_lat, fixed_lon, by_range = coordinates.fix_swapped(lat, lon)
    by_range &= (lat_axis == "") & (lon_axis == "")
    lat, lon = np.where(by_range, fixed_lat, lat), np.where(by_range, fixed_lon, lon)
    return lat, lon, by_marks | by_range, wrong


def fix_coordinates(frame, schema, crs: str, state, rows, errors, notes=None) -> np.ndarray:
    """Swap reversed latitude/longitude, convert ``crs`` to WGS-84, then check ranges.

    A coordinate system named in the header ("纬度(WGS84)") wins over the connector's.
    ``state``: field -> (file header, cells as written, axes their hemisphere marks name
    or None).
    """
    lat_name, lon_name = schema.latitude_field, schema.longitude_field
    lat, lon, swapped, wrong = _swap_back(frame, schema, state, rows, errors)
    failed = wrong[lat_name] | wrong[lon_name]
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
    for name in (lat_name, lon_name):
        info = infos[name]
        column, text = state[name][:2]
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
        # A cell whose hemisphere is wrong has its error: no range error besides.
        low, high = low & ~wrong[name], high & ~wrong[name]
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


def _degrees_text(values: np.ndarray, index) -> pd.Series:
    """Numbers as text the number normaliser reads back exactly ("" for NaN)."""
    text = pd.Series(values, index=index, dtype="float64").astype(str)
    return text.where(~np.isnan(values), "")


def split_pairs(prepared, matches, schema, rows) -> tuple[dict, list[RowError], np.ndarray]:
    """The halves of each column of "经度,纬度" pairs feeding the latitude and longitude
    fields (``ColumnMatch.pair``): {field: its texts}, the errors of cells that are no
    pair (said once, on the latitude field) and their rows. The pair is read longitude
    first, as map services write it; a pair written latitude first is swapped back with
    the other coordinates (``fix_coordinates``), and said."""
    halves: dict[str, pd.Series] = {}
    errors: list[RowError] = []
    invalid = np.zeros(len(prepared), dtype=bool)
    paired = [match for match in matches if match.pair]
    if not paired:
        return halves, errors, invalid
    info = schema.by_name()[schema.latitude_field]
    point = replace(info, field_type="geopoint")
    column = prepared.iloc[:, paired[0].position].reset_index(drop=True)
    first, second, missing, problems = geopoints.pair_halves(column)
    bad = ~missing & (np.isnan(first) | np.isnan(second))
    for position in np.flatnonzero(bad):
        text = str(column.iat[position])
        message = (
            dms.message(problems[position], text, pair=True)
            if problems[position]
            else type_message(point, text)
        )
        errors.append(RowError(int(rows[position]), paired[0].header, message, info.name))
    invalid |= bad
    halves[schema.latitude_field] = _degrees_text(second, column.index)
    halves[schema.longitude_field] = _degrees_text(first, column.index)
    return halves, errors, invalid
