"""Geographic points (坐标) in one cell: parse, put the right way round, convert to WGS-84.

Accepted spellings (after :func:`~connectors.normalisers.text.clean`, so full-width
commas, brackets and spaces are folded and the usual missing markers are empty):

* two numbers separated by a comma, semicolon, ``、`` or whitespace, optionally in
  brackets: ``121.47,31.23``, ``31.23 121.47``, ``[121.47, 31.23]`` (Table Schema's
  "array" format, which is how a JSON array pushed through the API arrives);
* WKT: ``POINT(121.47 31.23)`` (longitude first, case-insensitive);
* a JSON object with ``lon``/``lng`` and ``lat`` keys in any order (Table Schema's
  "object" format);
* two angles in degrees, minutes and seconds (:mod:`~connectors.normalisers.dms`):
  ``31°13′48″N, 121°28′12″E``, ``北纬31度13分48秒 东经121度28分12秒``; hemisphere marks say
  which is the latitude, a pair without them follows the order below, which never turns
  a marked angle against its mark (``31°13′48″E, 121°28′12″`` has a ``problems`` code
  naming the E/W in the latitude). A cell with a degree mark that cannot be read has a
  ``problems`` code (minutes of 60, …): its row error says what is wrong.

Order: a pair is read as **longitude, latitude** — the order of the Frictionless Table
Schema ``geopoint`` default format, of WKT and of the Chinese map APIs (Amap, Baidu) —
unless the second number is not a possible latitude (absolute value above 90) while the
first one is: then the pair was written latitude first and is swapped. ``31.23,121.47``
therefore reads as latitude 31.23, longitude 121.47; a pair whose numbers are both
within ±90 keeps the documented longitude-first order.

The stored value is the Table Schema default format without the optional space,
``"lon,lat"`` with six decimals (about 0.1 m): ``"121.473701,31.230416"``. The parsed
WGS-84 ``latitude``/``longitude`` arrays are rounded the same way, so a record's
coordinates equal its stored text.

Everything is vectorised: the regular expressions run in pyarrow (RE2) once per distinct
cell text (``pd.factorize``), the datum conversion and range checks are numpy, and the
canonical text is built with string kernels, never formatted cell by cell in Python.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from connectors.normalisers import dms
from connectors.normalisers.coordinates import to_wgs84
from connectors.normalisers.text import clean

DECIMALS = 6
_SCALE = 10**DECIMALS
_NUM = r"[-+]?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][-+]?\d+)?"
# "lon,lat", "lat lon", "[lon, lat]", "POINT(lon lat)"; a degree sign may follow a number.
_PAIR = (
    rf"(?i)^(?:POINT\s*)?[\[(]?\s*(?P<first>{_NUM})\s*°?\s*"
    rf"(?:[,;、]\s*|\s+)(?P<second>{_NUM})\s*°?\s*[\])]?$"
)
# {"lon": 121.47, "lat": 31.23} in either key order (quotes optional).
_OBJECT = (
    rf"(?i)^\{{\s*[\"']?(?P<k1>lon|lng|lat)[\"']?\s*:\s*(?P<v1>{_NUM})\s*,"
    rf"\s*[\"']?(?P<k2>lon|lng|lat)[\"']?\s*:\s*(?P<v2>{_NUM})\s*\}}$"
)


@dataclass(frozen=True)
class GeoPoints:
    """The parsed points of one column, aligned with its index.

    ``values`` holds the canonical ``"lon,lat"`` text or None; ``latitude`` and
    ``longitude`` are WGS-84 degrees (NaN unless the cell is a valid point). ``bad``
    marks cells that are not a point at all, ``out_of_range`` readable points outside
    ±90° latitude / ±180° longitude (checked after the swap and after the datum
    conversion); ``swapped`` the cells written latitude first; ``problems`` the
    :data:`dms.PROBLEMS` code of a ``bad`` cell written in degrees ("" for the others).
    """

    values: pd.Series
    latitude: np.ndarray
    longitude: np.ndarray
    missing: pd.Series
    bad: pd.Series
    out_of_range: pd.Series
    swapped: np.ndarray
    problems: pd.Series | None = None


def _numbers(parts: pa.StructArray, name: str, valid: pa.Array) -> np.ndarray:
    """A captured group as float64, NaN where the row did not match."""
    text = pc.if_else(valid, parts.field(name), pa.scalar(None, pa.string()))
    return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)


def _read_pairs(
    uniques: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first, second) number of each distinct text, NaN when it is not a point, the
    degrees problem code of each text ("" for none), and the axes hemisphere marks give
    first and second (``dms.pairs``; "" without).

    For the object form "first" is the longitude and "second" the latitude, like a pair;
    so for degrees with hemisphere marks.
    """
    arrow = pa.array(uniques, type=pa.string())
    pair = pc.extract_regex(arrow, _PAIR)
    valid = pair.is_valid()
    first = _numbers(pair, "first", valid)
    second = _numbers(pair, "second", valid)
    objects = pc.extract_regex(arrow, _OBJECT)
    k1 = pc.utf8_lower(objects.field("k1"))
    k2 = pc.utf8_lower(objects.field("k2"))
    lat_first = pc.and_(pc.equal(k1, "lat"), pc.not_equal(k2, "lat"))
    lon_first = pc.and_(pc.not_equal(k1, "lat"), pc.equal(k2, "lat"))
    found = pc.and_(objects.is_valid(), pc.or_(lat_first, lon_first))
    v1 = _numbers(objects, "v1", found)
    v2 = _numbers(objects, "v2", found)
    lat_first = pc.fill_null(lat_first, False).to_numpy(zero_copy_only=False)
    is_object = found.to_numpy(zero_copy_only=False)
    first = np.where(is_object, np.where(lat_first, v2, v1), first)
    second = np.where(is_object, np.where(lat_first, v1, v2), second)
    problems = np.full(len(uniques), "", dtype=object)
    marks = np.full((len(uniques), 2), "", dtype=object)
    # Degrees, minutes and seconds: only texts with a degree mark that are no plain pair.
    unread = np.flatnonzero(np.isnan(first))
    angles = unread[dms.looks_like_degrees(uniques[unread])] if len(unread) else unread
    if len(angles):
        first[angles], second[angles], problems[angles], marks[angles] = dms.pairs(uniques[angles])
    return first, second, problems, marks


def _in_range(lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return (np.abs(lat) <= 90) & (np.abs(lon) <= 180)


def format_degrees(values: np.ndarray) -> pd.Series:
    """Finite degrees as text with exactly six decimals ("121.473701", "-0.500000").

    Built from integer micro-degrees with string kernels, so no Python runs per value.
    """
    micro = np.rint(np.asarray(values, dtype="float64") * _SCALE).astype("int64")
    whole = pd.Series(np.abs(micro) // _SCALE).astype("str")
    fraction = pd.Series(np.abs(micro) % _SCALE).astype("str").str.zfill(DECIMALS)
    sign = pd.Series(np.where(micro < 0, "-", ""), dtype="str")
    return sign + whole + "." + fraction


def pair_halves(series: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, missing, problems) of cells holding a pair as written: for a
    resource whose latitude and longitude are separate fields fed by one "经纬度" column.
    Nothing is swapped or converted here (the fields' coordinates are, together); first
    and second are NaN where a cell is no pair, ``problems`` as in :class:`GeoPoints`."""
    text, missing = clean(series)
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    n = len(text)
    if not len(uniques):
        return (
            np.full(n, np.nan),
            np.full(n, np.nan),
            missing.to_numpy(dtype=bool),
            np.full(n, "", dtype=object),
        )
    first, second, problems, marks = _read_pairs(np.asarray(uniques, dtype=object))
    first, second, problems, marks = first[codes], second[codes], problems[codes], marks[codes]
    # As for a geopoint cell: the range rule the fields' coordinates go through later
    # must not turn a pair against its hemisphere marks, so such a pair is no pair here.
    with np.errstate(invalid="ignore"):
        swapped = (np.abs(second) > 90) & (np.abs(first) <= 90)
    lat_axis = np.where(swapped, marks[:, 0], marks[:, 1])
    lon_axis = np.where(swapped, marks[:, 1], marks[:, 0])
    against = dms.pair_hemispheres(lat_axis, lon_axis)
    contradicted = against != ""
    problems = np.where(contradicted, against, problems).astype(object)
    first = np.where(contradicted, np.nan, first)
    second = np.where(contradicted, np.nan, second)
    return first, second, missing.to_numpy(dtype=bool), problems


def parse_geopoints(series: pd.Series, *, crs: str = "wgs84") -> GeoPoints:
    """Parse a column of point cells written in ``crs`` (wgs84, cgcs2000, gcj02, bd09).

    Never raises on cell content: anything unreadable is ``bad``.
    """
    text, missing = clean(series)
    n = len(text)
    codes, uniques = pd.factorize(text.to_numpy(dtype=object))
    problems = np.full(n, "", dtype=object)
    marks = np.full((n, 2), "", dtype=object)
    if len(uniques):
        first, second, problem, mark = _read_pairs(np.asarray(uniques, dtype=object))
        first, second, problems, marks = first[codes], second[codes], problem[codes], mark[codes]
    else:
        first = second = np.full(n, np.nan)
    readable = ~np.isnan(first) & ~np.isnan(second) & ~missing.to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        swapped = readable & (np.abs(second) > 90) & (np.abs(first) <= 90)
    # The range rule never overrules a hemisphere mark: a pair it would turn against one
    # is no point (its problem names the hemisphere).
    lat_axis = np.where(swapped, marks[:, 0], marks[:, 1])
    lon_axis = np.where(swapped, marks[:, 1], marks[:, 0])
    against = dms.pair_hemispheres(lat_axis, lon_axis)
    contradicted = against != ""
    problems = np.where(contradicted, against, problems).astype(object)
    readable &= ~contradicted
    swapped &= ~contradicted
    lon = np.where(swapped, second, first)
    lat = np.where(swapped, first, second)
    ok = readable & _in_range(lat, lon)
    lat_w = np.full(n, np.nan)
    lon_w = np.full(n, np.nan)
    if ok.any():
        with np.errstate(all="ignore"):
            converted = to_wgs84(lat[ok], lon[ok], crs)
        lat_w[ok], lon_w[ok] = converted
        with np.errstate(invalid="ignore"):
            lat_w = np.round(lat_w, DECIMALS)
            lon_w = np.round(lon_w, DECIMALS)
        # A datum shift can push a point past the poles or the antimeridian.
        ok &= np.isfinite(lat_w) & np.isfinite(lon_w) & _in_range(lat_w, lon_w)
        lat_w[~ok] = np.nan
        lon_w[~ok] = np.nan
    values = pd.Series([None] * n, index=series.index, dtype=object)
    if ok.any():
        canonical = format_degrees(lon_w[ok]) + "," + format_degrees(lat_w[ok])
        values[ok] = canonical.to_numpy(dtype=object)
    index = series.index
    return GeoPoints(
        values=values,
        latitude=lat_w,
        longitude=lon_w,
        missing=pd.Series(missing.to_numpy(dtype=bool), index=index),
        bad=pd.Series(~missing.to_numpy(dtype=bool) & ~readable, index=index),
        out_of_range=pd.Series(readable & ~ok, index=index),
        swapped=swapped,
        problems=pd.Series(np.where(missing.to_numpy(dtype=bool), "", problems), index=index),
    )
