"""Coordinate system of an upload's points: the header's word, else the transform that
puts the points inside the districts their rows state.

Each candidate (WGS-84, GCJ-02, BD-09) converts the sampled points to the datum of the
district boundaries (``geodata.MAP_DATUM``); the share of points inside the polygon of
their own district is its evidence. The boundaries are coarse (1/1024° vertices, about
100 m), so the share of the true datum is not always 1, but the wrong ones move every
point by 500–1000 m and lose the points near district borders. Equal shares (all points
deep inside large districts) decide nothing: the coordinates are then assumed WGS-84 and
the evidence says so. CGCS2000 is WGS-84 to within centimetres and is not told apart.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from connectors.normalisers import coordinates, dms, numbers
from connectors.normalisers.geopoints import parse_geopoints
from connectors.normalisers.headers import header_crs
from connectors.proposal import geodata
from connectors.proposal.result import CrsGuess

CANDIDATES = ("wgs84", "gcj02", "bd09")
# Fewer usable points than this and the districts decide nothing.
MIN_POINTS = 5
# The best share must beat the runner-up by this many points' worth.
MARGIN_POINTS = 1


def _to_map_datum(lat: np.ndarray, lon: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    if crs == geodata.MAP_DATUM:
        return lat, lon
    w_lat, w_lon = coordinates.to_wgs84(lat, lon, crs)
    if geodata.MAP_DATUM == "gcj02":
        return coordinates.wgs84_to_gcj02(w_lat, w_lon)
    return w_lat, w_lon


def inside_shares(
    lat: np.ndarray, lon: np.ndarray, codes: np.ndarray, shapes: dict[str, object]
) -> dict[str, float]:
    """Candidate CRS → share of the points inside their stated district."""
    import shapely

    shares = {}
    for crs in CANDIDATES:
        m_lat, m_lon = _to_map_datum(lat, lon, crs)
        inside = np.zeros(len(lat), dtype=bool)
        for code, shape in shapes.items():
            rows = codes == code
            if rows.any():
                inside[rows] = shapely.contains_xy(shape, m_lon[rows], m_lat[rows])
        shares[crs] = round(float(inside.mean()), 4) if len(lat) else 0.0
    return shares


def points_of(
    frame: pd.DataFrame, lat_pos: int | None, lon_pos: int | None, point_pos: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Latitude and longitude arrays of the sampled rows (NaN where unreadable)."""
    if point_pos is not None:
        points = parse_geopoints(frame.iloc[:, point_pos], crs="wgs84")
        return points.latitude, points.longitude
    if lat_pos is None or lon_pos is None:
        return np.array([]), np.array([])
    lat, lon = (
        numbers.split_numbers(dms.degrees_minutes_seconds(frame.iloc[:, position]))[0]
        for position in (lat_pos, lon_pos)
    )
    lat, lon = lat.to_numpy(dtype="float64"), lon.to_numpy(dtype="float64")
    lat, lon, _swapped = coordinates.fix_swapped(lat, lon)
    return lat, lon


def guess_crs(
    *,
    headers: list[str],
    frame: pd.DataFrame,
    lat_pos: int | None,
    lon_pos: int | None,
    point_pos: int | None = None,
    district_pos: int | None = None,
    matcher=None,
) -> CrsGuess:
    """The coordinate system of the sampled points (see the module docstring)."""
    positions = [p for p in (lat_pos, lon_pos, point_pos) if p is not None]
    if not positions:
        return CrsGuess("", "assumed")
    for position in positions:
        stated = header_crs(headers[position])
        if stated:
            return CrsGuess("wgs84" if stated == "cgcs2000" else stated, "header")
    shapes = geodata.district_shapes(matcher) if district_pos is not None else {}
    if not shapes or frame.empty:
        return CrsGuess("wgs84", "assumed")
    lat, lon = points_of(frame, lat_pos, lon_pos, point_pos)
    if not len(lat):
        # Only one of latitude and longitude is mapped: no point to place.
        return CrsGuess("wgs84", "assumed")
    codes, _missing, _bad = matcher.map(frame.iloc[:, district_pos])
    codes = codes.to_numpy(dtype=object)
    usable = ~np.isnan(lat) & ~np.isnan(lon) & np.isin(codes, list(shapes))
    count = int(usable.sum())
    if count < MIN_POINTS:
        return CrsGuess("wgs84", "assumed", count)
    shares = inside_shares(lat[usable], lon[usable], codes[usable], shapes)
    ranked = sorted(CANDIDATES, key=lambda crs: -shares[crs])
    best, runner_up = ranked[0], ranked[1]
    # Compared in points, not shares: 1.0 - 0.8 is 0.19999… (less than 1/5), so a lead
    # of exactly one point in five was taken for none.
    lead = round((shares[best] - shares[runner_up]) * count)
    if lead < MARGIN_POINTS or shares[best] < 0.5:
        return CrsGuess("wgs84", "assumed", count, shares)
    return CrsGuess(best, "districts", count, shares)
