"""Generated gas-pressure files with known headers, units, CRS and date layouts, for the
mapping assistant's tests: points are drawn inside the districts of the dashboard's map
data, so the district each row states is where the point truly is."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pytest

from connectors.normalisers import coordinates
from connectors.proposal import geodata

# Header spellings a file may use for each field (none is the field's own label only).
HEADERS = {
    "point_id": ["监测点编号", "测点编码", "监测点编码", "点位编号", "监测点 编号"],
    "observed_at": ["监测时间", "采集时间", "采集时刻", "数据时间", "监测 时间"],
    "district": ["所属区", "行政区", "所属行政区", "区县", "所在区"],
    "pressure": ["管网压力", "管道压力", "运行压力", "管网压力值", "压力"],
    "temperature": ["介质温度", "燃气温度", "温度", "介质温度值"],
    "latitude": ["纬度", "Y坐标", "纬度值", "lat"],
    "longitude": ["经度", "X坐标", "经度值", "lon"],
}
PRESSURE_UNITS = {"MPa": 1.0, "kPa": 1e3, "Pa": 1e6}
TEMPERATURE_UNITS = {"°C": 0.0, "K": 273.15}
# Layouts the assistant must name (the built-in parser would misread or not read them)
# and layouts it reads without one ("" expected).
NAMED_LAYOUTS = ["%d/%m/%Y %H:%M", "%d.%m.%Y %H:%M", "%d-%b-%Y %H:%M", "%H:%M %d/%m/%Y"]
BUILT_IN_LAYOUTS = ["%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M", "%Y年%m月%d日 %H时%M分"]


def map_data_or_skip() -> None:
    if not geodata.geojson_path().is_file():
        pytest.skip("needs the dashboard's map data: npm ci (make test installs it)")


@dataclass
class Spec:
    """What a generated file is, as the assistant should find it."""

    headers: dict[str, str]  # field -> header text
    order: list[str]  # fields in column order
    pressure_unit: str = "MPa"
    temperature_unit: str = "°C"
    crs: str = "wgs84"
    layout: str = "%Y-%m-%d %H:%M"
    rows: int = 120
    seed: int = 0
    extra: list[str] = field(default_factory=list)  # columns that are no field


def district_points(rng: np.random.Generator, count: int, matcher):
    """(codes, names, GCJ-02 lat, lon) of points inside random districts."""
    shapes = geodata.district_shapes(matcher)
    codes = sorted(shapes)
    names = {code: name for code, name in _names(matcher).items() if code in shapes}
    import shapely

    out_codes, lat, lon = [], [], []
    while len(out_codes) < count:
        code = codes[rng.integers(len(codes))]
        x0, y0, x1, y1 = shapes[code].bounds
        x, y = rng.uniform(x0, x1, 64), rng.uniform(y0, y1, 64)
        inside = shapely.contains_xy(shapes[code], x, y)
        if inside.any():
            k = int(np.flatnonzero(inside)[0])
            out_codes.append(code)
            lat.append(y[k])
            lon.append(x[k])
    return out_codes, [names[c] for c in out_codes], np.array(lat), np.array(lon)


def _names(matcher) -> dict[str, str]:
    from hub.catalog.models import CodeItem

    return dict(
        CodeItem.objects.filter(code_list__code="gb2260-shanghai").values_list("code", "name")
    )


def truth_times(rng: np.random.Generator, count: int) -> list[dt.datetime]:
    """Local wall times; the first has day 25 so day and month cannot be confused."""
    start = dt.datetime(2025, 7, 25, 8, 0)
    times = [start]
    for _ in range(count - 1):
        times.append(start + dt.timedelta(minutes=int(rng.integers(0, 60 * 24 * 300))))
    return times


def write_file(path, spec: Spec, matcher) -> dict:
    """Write the CSV; return the truth: WGS-84 points, times, MPa pressures."""
    rng = np.random.default_rng(spec.seed)
    n = spec.rows
    codes, names, g_lat, g_lon = district_points(rng, n, matcher)
    w_lat, w_lon = coordinates.gcj02_to_wgs84(g_lat, g_lon)
    if spec.crs == "gcj02":
        f_lat, f_lon = g_lat, g_lon
    elif spec.crs == "bd09":
        f_lat, f_lon = coordinates.gcj02_to_bd09(g_lat, g_lon)
    else:
        f_lat, f_lon = w_lat, w_lon
    mpa = np.round(rng.uniform(0.1, 1.5, n), 4)
    celsius = np.round(rng.uniform(-5, 40, n), 1)
    times = truth_times(rng, n)
    cells = {
        "point_id": [f"GP{i:06d}" for i in range(1, n + 1)],
        "observed_at": [t.strftime(spec.layout) for t in times],
        "district": names,
        "pressure": [f"{v * PRESSURE_UNITS[spec.pressure_unit]:.6g}" for v in mpa],
        "temperature": [f"{v + TEMPERATURE_UNITS[spec.temperature_unit]:.2f}" for v in celsius],
        "latitude": [f"{v:.7f}" for v in f_lat],
        "longitude": [f"{v:.7f}" for v in f_lon],
    }
    header = [spec.headers[name] for name in spec.order] + spec.extra
    lines = [",".join(header)]
    for i in range(n):
        row = [cells[name][i] for name in spec.order] + [f"备注{i}" for _ in spec.extra]
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "codes": codes,
        "lat": w_lat,
        "lon": w_lon,
        "times": times,
        "mpa": mpa,
        "celsius": celsius,
    }
