"""One "经纬度" column ("121.4737,31.2304", as map services give a point) for a resource
whose latitude and longitude are separate fields. The column was mapped to the latitude
alone and every cell refused as a number with a doubtful comma; a steward could not
say otherwise. Now such a header (or a spelling the profile lists for both fields) feeds
both, each field taking its half, converted from the stated CRS; the mapping assistant
proposes it (and stopped crashing on a file that maps only one coordinate)."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.normalisers.coordinates import wgs84_to_bd09, wgs84_to_gcj02
from connectors.normalisers.headers import HeaderIndex
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector
from connectors.proposal.engine import propose
from connectors.proposal.profile_build import EditError, coordinate_pair, corrected, to_profile
from tests.connectors.proposal_files import map_data_or_skip

HEADER = ["警情编号", "接警时间", "所属区", "警情类型"]
FORWARD = {"wgs84": lambda lat, lon: (lat, lon), "gcj02": wgs84_to_gcj02, "bd09": wgs84_to_bd09}
CRS_LABEL = {"wgs84": "", "gcj02": "(GCJ-02)", "bd09": "（BD-09）"}
# Points inside the district each row names (for the assistant's CRS evidence).
POINTS = [
    ("黄浦区", 31.2390, 121.4840),
    ("徐汇区", 31.1915, 121.4370),
    ("浦东新区", 31.2296, 121.5260),
    ("杨浦区", 31.3013, 121.5121),
    ("闵行区", 31.1116, 121.3850),
    ("静安区", 31.2290, 121.4480),
]


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _row(n: int, district: str, cell: str) -> list[object]:
    return [f"JQ{n:04d}", "2026-03-05 14:30", district, "火灾", cell]


def _load(resources, path, connector=None):
    return list(
        parse_file(
            path=path,
            filename=path.name,
            resource=resources["fire-incidents"],
            connector=connector or GenericConnector(),
        )
    )


shanghai = st.tuples(
    st.floats(30.7, 31.8, allow_nan=False), st.floats(120.9, 122.1, allow_nan=False)
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    points=st.lists(shanghai, min_size=1, max_size=6),
    crs=st.sampled_from(list(FORWARD)),
    header=st.sampled_from(["经纬度", "经纬度坐标", "经度,纬度", "lnglat"]),
    separator=st.sampled_from([",", "，", " ", ";", ", "]),
    lat_first=st.booleans(),
)
def test_a_pair_column_feeds_both_fields(
    resources, tmp_path_factory, points, crs, header, separator, lat_first
):
    rows: list[list[object]] = [[*HEADER, f"{header}{CRS_LABEL[crs]}"]]
    for n, (lat, lon) in enumerate(points):
        f_lat, f_lon = (float(v) for v in FORWARD[crs](lat, lon))
        pair = (f"{f_lat:.8f}", f"{f_lon:.8f}") if lat_first else (f"{f_lon:.8f}", f"{f_lat:.8f}")
        rows.append(_row(n, "黄浦区", separator.join(pair)))
    path = tmp_path_factory.mktemp("pairs") / "fire.csv"
    path.write_bytes(_csv(rows))
    chunks = _load(resources, path)
    assert [e for c in chunks for e in c.errors] == []
    frame = chunks[0].frame
    expected = np.array(points)
    assert np.allclose(frame["latitude"].to_numpy(dtype=float), expected[:, 0], atol=1e-6)
    assert np.allclose(frame["longitude"].to_numpy(dtype=float), expected[:, 1], atol=1e-6)
    codes = [w.code for c in chunks for w in c.warnings]
    assert ("swapped_coordinates" in codes) is lat_first  # never silent
    assert "ignored_column" not in codes
    assert ("assumed_crs" in codes) is (crs == "wgs84")


def test_a_spelling_the_profile_lists_for_both_fields_is_a_pair():
    index = HeaderIndex(
        {"latitude": ["纬度", "位置"], "longitude": ["经度", "位置"], "name": ["名称"]},
        pair=("latitude", "longitude"),
    )
    matches, ignored = index.map_columns(["名称", "位置(GCJ02)"])
    assert [(m.field, m.position, m.pair, m.crs) for m in matches] == [
        ("name", 0, False, None),
        ("latitude", 1, True, "gcj02"),
        ("longitude", 1, True, "gcj02"),
    ]
    assert ignored == [] and index.score(["名称", "位置"]) == 3
    # Separate columns win over nothing: a file with 纬度 and 经度 maps them as before.
    matches, _ignored = index.map_columns(["纬度", "经度"])
    assert [(m.field, m.pair) for m in matches] == [("latitude", False), ("longitude", False)]
    # Without separate fields (a geopoint resource) nothing is paired.
    plain = HeaderIndex({"location": ["位置"]})
    assert [m.field for m in plain.map_columns(["经纬度", "位置"])[0]] == ["location"]


def test_cells_that_are_no_pair_are_one_error_each(resources, write):
    rows = [
        [*HEADER, "经纬度"],
        _row(1, "黄浦区", "121.4840,31.2390"),
        _row(2, "黄浦区", "上海市黄浦区"),
        _row(3, "黄浦区", "31°65′48″N, 121°28′12″E"),
        _row(4, "黄浦区", "121.4840,35.0"),
        _row(5, "黄浦区", "—"),
    ]
    chunks = _load(resources, write("fire.csv", _csv(rows)))
    errors = [(e.row, e.column, e.field, e.message) for c in chunks for e in c.errors]
    assert errors == [
        (
            3,
            "经纬度",
            "latitude",
            "无法识别的坐标：'上海市黄浦区'（应为“经度,纬度”或 POINT(经度 纬度)）",
        ),
        (4, "经纬度", "latitude", "度分秒坐标有误：'31°65′48″N, 121°28′12″E'（分须小于 60）"),
        (5, "经纬度", "latitude", "'121.4840,35.0' 大于最大值 31.9"),
    ]
    frame = chunks[0].frame
    assert chunks[0].valid.tolist() == [True, False, False, False, True]
    assert np.isnan(frame["latitude"].iat[4]) and np.isnan(frame["longitude"].iat[4])


def test_hemisphere_marks_in_a_pair_column_are_never_overruled(resources, write):
    """A pair whose marks put the latitude beyond 90° is no pair (the range swap would
    turn it against its marks); a marked pair written latitude first is read by its marks."""
    rows = [
        [*HEADER, "经纬度"],
        _row(1, "黄浦区", "31°14′20″N, 121°29′2″E"),
        _row(2, "黄浦区", "31°14′20″E, 121°29′2″N"),
    ]
    chunks = _load(resources, write("fire.csv", _csv(rows)))
    errors = [(e.row, e.column, e.field) for c in chunks for e in c.errors]
    assert errors == [(3, "经纬度", "latitude")]
    assert "31°14′20″E, 121°29′2″N" in chunks[0].errors[0].message
    assert chunks[0].valid.tolist() == [True, False]
    frame = chunks[0].frame
    assert round(frame["latitude"].iat[0], 4) == 31.2389
    assert round(frame["longitude"].iat[0], 4) == 121.4839


def _pair_file(tmp_path, *, header="经纬度", crs="bd09"):
    """A fire file rejected for its columns (other headers), points in one column."""
    map_data_or_skip()
    rows: list[list[object]] = [["编号", "报警时刻", "行政区", "类别", header]]
    for n, (district, lat, lon) in enumerate(POINTS):
        f_lat, f_lon = (float(v) for v in FORWARD[crs](lat, lon))
        rows.append(
            [f"JQ{n:04d}", "2026-03-05 14:30", district, "火灾", f"{f_lon:.6f},{f_lat:.6f}"]
        )
    path = tmp_path / "fire.csv"
    path.write_bytes(_csv(rows))
    return path


@pytest.mark.parametrize("header", ["经纬度", "位置"])
def test_the_assistant_proposes_the_pair_and_its_crs(resources, tmp_path, header):
    resource = resources["fire-incidents"]
    path = _pair_file(tmp_path, header=header)
    proposal = propose(path=path, filename="fire.csv", resource=resource)
    pair = [(m.field, m.position) for m in proposal.mapping if m.header == header]
    assert pair == [("latitude", 4), ("longitude", 4)]
    assert proposal.field_for(header) == "latitude+longitude"
    assert (proposal.crs.crs, proposal.crs.source) == ("bd09", "districts")
    assert all(not row["errors"] for row in proposal.preview)
    assert proposal.preview[0]["values"][-2:] != ["", ""]
    profile = to_profile(proposal, resource=resource, department=resource.provider)
    assert header in profile.header_aliases["latitude"]
    assert header in profile.header_aliases["longitude"]


def test_the_steward_chooses_a_pair_or_undoes_it(resources, tmp_path):
    resource = resources["fire-incidents"]
    proposal = propose(path=_pair_file(tmp_path), filename="fire.csv", resource=resource)
    names = list(resource.fields.values_list("name", flat=True))
    pair = coordinate_pair(resource)
    assert pair == ("latitude", "longitude")
    undone = corrected(proposal, field_names=names, mapping={"经纬度": "latitude"}, pair=pair)
    assert [m.field for m in undone.mapping if m.header == "经纬度"] == ["latitude"]
    again = corrected(
        undone, field_names=names, mapping={"经纬度": "latitude+longitude"}, pair=pair
    )
    assert [m.field for m in again.mapping if m.header == "经纬度"] == ["latitude", "longitude"]
    with pytest.raises(EditError, match="只有纬度和经度"):
        corrected(proposal, field_names=names, mapping={"经纬度": "district+latitude"}, pair=pair)


def test_the_page_offers_the_pair(resources, tmp_path, make_user, client):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from connectors import services
    from connectors.pipeline import load

    resource = resources["fire-incidents"]
    steward = make_user("fire", steward=True)
    upload = services.create_batch(
        resource=resource,
        department=resource.provider,
        uploaded_by=steward,
        file=SimpleUploadedFile("fire.csv", _pair_file(tmp_path).read_bytes()),
        original_filename="fire.csv",
    )
    assert load.run_batch(batch_id=upload.batch.pk).status == "rejected"
    client.force_login(steward)
    url = reverse("admin:connectors_upload_propose", args=[resource.code, upload.batch.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert ("latitude+longitude", "纬度和经度（同一列，“经度,纬度”）") in page.context["fields"]
    assert [r["field"] for r in page.context["rows"]][-1] == "latitude+longitude"
    assert 'value="latitude+longitude" selected' in page.content.decode()
