"""Coordinates: GCJ-02 and BD-09 to WGS-84, and swapped latitude/longitude.

GCJ-02 ("Mars coordinates") is the obfuscated datum mandated for published maps in
China; BD-09 is Baidu's further offset of GCJ-02. The forward GCJ-02 transform used here
is the widely published approximation on the Krasovsky 1940 ellipsoid
(a = 6378245 m, e² = 0.00669342162296594323), documented e.g. in Wikipedia's article
"Restrictions on geographic data in China" and its references; the BD-09 step is Baidu's
published rotation with x_pi = π·3000/180. Neither has a closed-form inverse, so the
inverses iterate the forward transform (fixed-point on the offset) until it moves by
less than 1e-8 degrees (about 1 mm). CGCS2000 differs from WGS-84 by centimetres and is taken as is.
"""

from __future__ import annotations

import numpy as np

_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = np.pi * 3000.0 / 180.0


def _offset(lat: np.ndarray, lon: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees (latitude, longitude)."""
    x, y = lon - 105.0, lat - 35.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lat += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    d_lat += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    d_lon += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    d_lon += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    rad_lat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * np.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * np.cos(rad_lat) * np.pi)
    return d_lat, d_lon


def _worst(e_lat: np.ndarray, e_lon: np.ndarray) -> float:
    """Largest absolute error, ignoring NaN (missing coordinates); 0 for empty input."""
    with np.errstate(invalid="ignore"):
        return max(
            float(np.nanmax(np.abs(e_lat), initial=0.0)),
            float(np.nanmax(np.abs(e_lon), initial=0.0)),
        )


def wgs84_to_gcj02(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 transform (arrays of degrees)."""
    lat, lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    d_lat, d_lon = _offset(lat, lon)
    return lat + d_lat, lon + d_lon


def gcj02_to_wgs84(lat, lon, *, tolerance: float = 1e-8, max_iter: int = 30):
    """Inverse GCJ-02 by fixed-point iteration: find w with forward(w) == g."""
    g_lat, g_lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    w_lat, w_lon = g_lat.copy(), g_lon.copy()
    for _ in range(max_iter):
        f_lat, f_lon = wgs84_to_gcj02(w_lat, w_lon)
        e_lat, e_lon = f_lat - g_lat, f_lon - g_lon
        w_lat, w_lon = w_lat - e_lat, w_lon - e_lon
        if _worst(e_lat, e_lon) <= tolerance:
            break
    return w_lat, w_lon


def gcj02_to_bd09(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Baidu's BD-09 from GCJ-02."""
    lat, lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * _X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * _X_PI)
    return z * np.sin(theta) + 0.006, z * np.cos(theta) + 0.0065


def bd09_to_gcj02(lat, lon, *, tolerance: float = 1e-10, max_iter: int = 30):
    """Inverse of :func:`gcj02_to_bd09`, iterated so the round trip is exact to 1e-9°."""
    b_lat, b_lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    g_lat, g_lon = b_lat - 0.006, b_lon - 0.0065
    for _ in range(max_iter):
        f_lat, f_lon = gcj02_to_bd09(g_lat, g_lon)
        e_lat, e_lon = f_lat - b_lat, f_lon - b_lon
        g_lat, g_lon = g_lat - e_lat, g_lon - e_lon
        if _worst(e_lat, e_lon) <= tolerance:
            break
    return g_lat, g_lon


def wgs84_to_bd09(lat, lon):
    """WGS-84 to BD-09 (for tests and sample generation)."""
    return gcj02_to_bd09(*wgs84_to_gcj02(lat, lon))


def bd09_to_wgs84(lat, lon):
    """BD-09 to WGS-84 via GCJ-02."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lat, lon))


def to_wgs84(lat, lon, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert arrays from ``crs`` ("wgs84", "cgcs2000", "gcj02", "bd09") to WGS-84."""
    crs = (crs or "wgs84").lower().replace("-", "")
    if crs in ("wgs84", "cgcs2000"):
        return np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    if crs == "gcj02":
        return gcj02_to_wgs84(lat, lon)
    if crs == "bd09":
        return bd09_to_wgs84(lat, lon)
    raise ValueError(f"unknown coordinate reference system {crs!r}")


def fix_swapped(lat, lon) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Swap rows where latitude and longitude were entered the wrong way round.

    For Shanghai, latitude is ~30.6–31.9 and longitude ~120.8–122.2; a row whose
    "latitude" is a plausible Chinese longitude (73–136, beyond any latitude in China)
    and whose "longitude" is a plausible Chinese latitude (3–54) is swapped.
    Returns (lat, lon, swapped mask).
    """
    lat, lon = np.asarray(lat, dtype="float64"), np.asarray(lon, dtype="float64")
    with np.errstate(invalid="ignore"):
        swapped = (lat >= 73) & (lat <= 136) & (lon >= 3) & (lon <= 54)
    return np.where(swapped, lon, lat), np.where(swapped, lat, lon), swapped
