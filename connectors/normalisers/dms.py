"""Degrees, minutes and seconds (度分秒) as surveyors and older department systems write them.

One angle: "121°28′12″", "31°13'48.5\\"N", "东经121度28分12秒", "N31°13.8′" (decimal
minutes), "31.2304°" (decimal degrees). A hemisphere letter or word may lead or trail
(one of them); S, W, 南纬 and 西经 are negative. Full-width digits are folded first.

A pair in one cell (a geopoint): two angles separated by a comma, semicolon, ``、``,
``/`` or spaces, "31°13′48″N, 121°28′12″E", "北纬31度13分48秒 东经121度28分12秒".
N/S/北纬/南纬 mark the latitude and E/W/东经/西经 the longitude, whichever comes first;
a pair without marks is read in its written order (the geopoint rules then decide).

A cell that looks like degrees (it has ``°`` or ``度``) but cannot be read is never guessed:
it gets a problem code (``PROBLEMS``) whose message (:func:`message`) says what is wrong,
minutes or seconds of 60 or more, the degree or the minutes said twice (a fraction followed
by minutes or seconds), two hemisphere marks on one angle, both angles of a pair marked as
latitudes (or longitudes), or a shape that is no angle at all.

A hemisphere mark also says which axis an angle is on, and no rule overrules it silently
(:func:`column_hemispheres`, :func:`pair_hemispheres`): a latitude column's angle marked
E/W beside a longitude marked N/S on the same row is a swapped pair, put the way its marks
say (and noted as swapped) when that gives a latitude within ±90°; any other mark that
contradicts its axis (E/W in a latitude, N/S in a longitude, or marks the range rule of a
geopoint pair would cross) is an error naming the hemisphere.

Regular expressions run once per distinct text (``pd.factorize``); the arithmetic is numpy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from django.utils.translation import gettext as _

from connectors.normalisers.text import any_cell_has, halfwidth

_HEMISPHERE = r"[NSEWnsew]|北纬|南纬|东经|西经"
_NEGATIVE = {"S", "W", "s", "w", "南纬", "西经"}
_LATITUDE = {"N", "S", "n", "s", "北纬", "南纬"}
_LONGITUDE = {"E", "W", "e", "w", "东经", "西经"}
_DEGREE_MARK = r"[°度]"

# Problem codes ("" for none).
MINUTES = "minutes"  # 分 ≥ 60
SECONDS = "seconds"  # 秒 ≥ 60
DEGREES_TWICE = "degrees_twice"  # 31.5°12′: a fractional degree and minutes
MINUTES_TWICE = "minutes_twice"  # 31°13.5′20″: fractional minutes and seconds
HEMISPHERE_TWICE = "hemisphere_twice"  # N31°13′N
SAME_AXIS = "same_axis"  # 31°N, 30°N: a pair of two latitudes
SHAPE = "shape"  # has ° or 度, but is no angle (pair)
EAST_WEST_LATITUDE = "east_west_latitude"  # 31°13′48″E where a latitude belongs
NORTH_SOUTH_LONGITUDE = "north_south_longitude"  # 121°28′12″N where a longitude belongs
CROSSED = "crossed"  # a pair whose marks put a latitude beyond ±90°: 31°E, 121°N
PROBLEMS = (
    MINUTES,
    SECONDS,
    DEGREES_TWICE,
    MINUTES_TWICE,
    HEMISPHERE_TWICE,
    SAME_AXIS,
    SHAPE,
    EAST_WEST_LATITUDE,
    NORTH_SOUTH_LONGITUDE,
    CROSSED,
)


def _angle(tag: str = "", *, one_mark: bool = False) -> str:
    """The pattern of one angle, its groups named ``lead{tag}``, ``deg{tag}``, … .

    ``one_mark``: a trailing hemisphere is taken only when none leads, so in a pair
    "N31°13′ E121°28′" the E leads the second angle rather than trailing the first.
    """
    trail = rf"(?P<trail{tag}>[NSEWnsew])"
    trail = rf"(?(lead{tag})|{trail}?)" if one_mark else rf"{trail}?"
    return (
        rf"(?P<lead{tag}>{_HEMISPHERE})?\s*"
        rf"(?P<deg{tag}>\d{{1,3}}(?:\.\d+)?)\s*{_DEGREE_MARK}\s*"
        rf"(?:(?P<min{tag}>\d{{1,2}}(?:\.\d+)?)\s*['′’分]\s*"
        rf"(?:(?P<sec{tag}>\d{{1,2}}(?:\.\d+)?)\s*(?:[\"″”秒]|''|′′)\s*)?)?"
        rf"{trail}"
    )


_ONE = rf"^\s*{_angle()}\s*$"
_PAIR = rf"^\s*{_angle('1', one_mark=True)}\s*(?:[,;、/]\s*)?{_angle('2', one_mark=True)}\s*$"


def _read(parts: pd.DataFrame, tag: str = "") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(signed decimal degrees, axis "lat"/"lon"/"", problem code) of each extracted angle;
    NaN where the angle cannot be read."""
    deg, minute, second = (parts[f"{name}{tag}"] for name in ("deg", "min", "sec"))
    lead, trail = parts[f"lead{tag}"], parts[f"trail{tag}"]
    degrees = deg.astype(float)
    minutes = minute.astype(float).fillna(0.0)
    seconds = second.astype(float).fillna(0.0)
    problem = np.select(
        [
            deg.isna().to_numpy(),
            (minutes >= 60).to_numpy(),
            (seconds >= 60).to_numpy(),
            (deg.str.contains(".", regex=False, na=False) & minute.notna()).to_numpy(),
            (minute.str.contains(".", regex=False, na=False) & second.notna()).to_numpy(),
            (lead.notna() & trail.notna()).to_numpy(),
        ],
        [SHAPE, MINUTES, SECONDS, DEGREES_TWICE, MINUTES_TWICE, HEMISPHERE_TWICE],
        default="",
    ).astype(object)
    hemisphere = lead.fillna(trail)
    value = (degrees + minutes / 60 + seconds / 3600).to_numpy(dtype="float64")
    value = np.where(hemisphere.isin(_NEGATIVE).to_numpy(), -value, value)
    value[problem != ""] = np.nan
    axis = np.select(
        [hemisphere.isin(_LATITUDE).to_numpy(), hemisphere.isin(_LONGITUDE).to_numpy()],
        ["lat", "lon"],
        default="",
    ).astype(object)
    return value, axis, problem


def _text(series: pd.Series) -> pd.Series:
    return series.astype(object).where(series.notna(), "").astype(str).str.strip()


def angles(series: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Cells of one angle as decimal-degree text ("121°28′12″" → "121.4700000000"), other
    cells unchanged; and the problem code of each cell ("" unless it has ``°`` or ``度``
    and cannot be read: then the cell is left as it is, for a row error)."""
    text, problems, _axes = read_angles(series)
    return text, problems


def read_angles(series: pd.Series) -> tuple[pd.Series, pd.Series, pd.Series]:
    """:func:`angles`, and the axis its hemisphere mark gives each angle read ("lat" for
    N/S/北纬/南纬, "lon" for E/W/东经/西经, "" for none)."""
    problems = pd.Series("", index=series.index, dtype=object)
    axes = pd.Series("", index=series.index, dtype=object)
    if not any_cell_has(series, "°度"):
        return series, problems, axes
    text = _text(series)
    candidates = text.str.contains(_DEGREE_MARK, regex=True)
    if not candidates.any():
        return series, problems, axes
    codes, uniques = pd.factorize(text[candidates])
    parts = pd.Series(uniques, dtype=object).map(halfwidth).str.extract(_ONE)
    value, axis, problem = _read(parts)
    readable = problem == ""
    written = np.array([f"{v:.10f}" if ok else "" for v, ok in zip(value, readable, strict=True)])
    converted = np.where(readable, written, np.asarray(uniques, dtype=object))
    out = text.copy()
    out[candidates] = converted[codes]
    problems[candidates] = problem[codes]
    axes[candidates] = np.where(readable, axis, "")[codes]
    return out, problems, axes


def column_hemispheres(
    lat: np.ndarray, lat_axis: np.ndarray, lon: np.ndarray, lon_axis: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(swap, latitude problem, longitude problem) of each row of a latitude and a
    longitude column, from the axes their marks give (:func:`read_angles`) and their
    values in degrees.

    Both marks crossed (the latitude E/W, the longitude N/S): the columns were swapped on
    this row; swap them back when the longitude cell's angle is a possible latitude, else
    neither can be trusted. One mark that contradicts its column while the other does not:
    that cell is wrong (never left to the range check, which a mark must not overrule).
    """
    lat_axis, lon_axis = np.asarray(lat_axis, dtype=object), np.asarray(lon_axis, dtype=object)
    east_west, north_south = lat_axis == "lon", lon_axis == "lat"
    with np.errstate(invalid="ignore"):
        swap = east_west & north_south & (np.abs(np.asarray(lon, dtype="float64")) <= 90)
    lat_problem = np.where(east_west & ~swap, EAST_WEST_LATITUDE, "").astype(object)
    lon_problem = np.where(north_south & ~swap, NORTH_SOUTH_LONGITUDE, "").astype(object)
    return swap, lat_problem, lon_problem


def pair_hemispheres(lat_axis: np.ndarray, lon_axis: np.ndarray) -> np.ndarray:
    """The problem of each geopoint pair whose angles end up (after the range rule) on
    axes their marks contradict: ``EAST_WEST_LATITUDE`` or ``NORTH_SOUTH_LONGITUDE`` for
    one, ``CROSSED`` for both (the marks themselves would put the latitude beyond ±90°,
    or the range rule would not have turned the pair); "" for none."""
    east_west = np.asarray(lat_axis, dtype=object) == "lon"
    north_south = np.asarray(lon_axis, dtype=object) == "lat"
    return np.select(
        [east_west & north_south, east_west, north_south],
        [CROSSED, EAST_WEST_LATITUDE, NORTH_SOUTH_LONGITUDE],
        default="",
    ).astype(object)


def degrees_minutes_seconds(series: pd.Series) -> pd.Series:
    """:func:`angles` without the problems (the CRS guess reads what it can)."""
    return angles(series)[0]


def looks_like_degrees(texts: np.ndarray) -> np.ndarray:
    """Texts with a degree mark (``°`` or ``度``): only these are read as angles."""
    return pd.Series(texts, dtype=object).astype(str).str.contains(_DEGREE_MARK).to_numpy(bool)


def pairs(texts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(first, second, problem, marks) of each text holding two angles: ``first`` is the
    longitude and ``second`` the latitude when a hemisphere mark says which is which,
    else the angles in their written order; NaN and a problem code where the text cannot
    be read as two angles. ``marks``: the axes the marks give ``first`` and ``second``
    ("lon"/"" and "lat"/"" for a readable pair), as ``(n, 2)`` objects."""
    folded = pd.Series(texts, dtype=object).astype(str).map(halfwidth)
    parts = folded.str.extract(_PAIR)
    a, axis_a, problem_a = _read(parts, "1")
    b, axis_b, problem_b = _read(parts, "2")
    problem = np.where(problem_a != "", problem_a, problem_b).astype(object)
    same = (axis_a != "") & (axis_a == axis_b)
    problem = np.where((problem == "") & same, SAME_AXIS, problem).astype(object)
    # Latitude first when the first is marked a latitude or the second a longitude.
    latitude_first = (axis_a == "lat") | (axis_b == "lon")
    first = np.where(latitude_first, b, a)
    second = np.where(latitude_first, a, b)
    bad = problem != ""
    first[bad] = np.nan
    second[bad] = np.nan
    marks = np.column_stack(
        [np.where(latitude_first, axis_b, axis_a), np.where(latitude_first, axis_a, axis_b)]
    ).astype(object)
    marks[bad] = ""
    return first, second, problem, marks


def message(problem: str, value: str, *, pair: bool = False) -> str:
    """The row error for a cell written in degrees that cannot be read, naming the cell."""
    reasons = {
        MINUTES: _("分须小于 60"),
        SECONDS: _("秒须小于 60"),
        DEGREES_TWICE: _("度分秒写法重复：度已带小数，不能再写分或秒"),
        MINUTES_TWICE: _("度分秒写法重复：分已带小数，不能再写秒"),
        HEMISPHERE_TWICE: _("度分秒写法重复：南北或东西只能在前或在后写一次"),
        SAME_AXIS: _("两个值都标为纬度或都标为经度"),
        EAST_WEST_LATITUDE: _("纬度标为东经或西经 E/W"),
        NORTH_SOUTH_LONGITUDE: _("经度标为北纬或南纬 N/S"),
        CROSSED: _("南北与东西标反：按标记，纬度将超过 90°"),
    }
    if problem in reasons:
        return _("度分秒坐标有误：'%(value)s'（%(reason)s）") % {
            "value": value,
            "reason": reasons[problem],
        }
    if pair:
        return _(
            "无法识别的度分秒坐标：'%(value)s'（应如 31°13′48″N, 121°28′12″E 或 "
            "北纬31度13分48秒 东经121度28分12秒）"
        ) % {"value": value}
    return _(
        "无法识别的度分秒坐标：'%(value)s'（应如 31°13′48″N、北纬31度13分48秒 或 N31°13.8′）"
    ) % {"value": value}
