"""A CSV saved from a report sheet whose two-row header had merged cells: the merges are
gone, their cells blank. Fields spanning both rows have their name above a blank, groups
("运行情况", "坐标(GCJ-02)") their name above sub-headers with blanks to its right. The
CSV reader joins the rows as the XLSX reader does: before, the row naming more fields won
alone, the other's columns were missing (the file refused) or its row read as data, and
a coordinate system named over 纬度/经度 was lost."""

from __future__ import annotations

import csv
import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.normalisers.coordinates import wgs84_to_gcj02
from connectors.normalisers.headers import header_crs
from connectors.normalisers.schema import load_schema
from connectors.profiles.registry import GenericConnector
from connectors.readers.formats import open_table
from tests.connectors.test_hostile import run

FIELDS = ["监测点编号", "监测时间", "所属区", "管网压力(kPa)", "介质温度", "压力级制"]
ROW = ["GP000001", "2025-07-01 14:30", "黄浦区", "350", "21.5", "中压B", "31.2304", "121.4737"]
GROUPS = ["基本信息", "运行情况", "监测值"]


def _csv(rows: list[list[str]], encoding: str) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


@st.composite
def layouts(draw):
    """(top row, bottom row, expected headers): the gas fields split into single
    columns (name above a blank) and groups (a group name above sub-headers), the
    coordinates under "坐标" with or without a coordinate system."""
    top: list[str] = []
    bottom: list[str] = []
    rest = list(FIELDS)
    while rest:
        size = draw(st.integers(1, min(3, len(rest))))
        part, rest = rest[:size], rest[size:]
        if size == 1 and draw(st.booleans()):
            top.append(part[0])
            bottom.append("")
        else:
            top += [draw(st.sampled_from(GROUPS))] + [""] * (size - 1)
            bottom += part
    crs = draw(st.sampled_from(["", "(GCJ-02)", "（BD-09）", "(WGS84)"]))
    top += [f"坐标{crs}", ""]
    bottom += ["纬度", "经度"]
    label = {"(GCJ-02)": "(GCJ-02)", "（BD-09）": "(BD-09)", "(WGS84)": "(WGS-84)"}.get(crs, "")
    return top, bottom, [*FIELDS, f"纬度{label}", f"经度{label}"]


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    layout=layouts(),
    title=st.booleans(),
    encoding=st.sampled_from(["utf-8", "gb18030"]),
    data_rows=st.integers(1, 4),
)
def test_a_merged_two_row_header_saved_as_csv_reads_as_one(
    resources, tmp_path_factory, layout, title, encoding, data_rows
):
    top, bottom, expected = layout
    above = [["上海市燃气管网压力监测日报"]] if title else []
    rows = [*above, top, bottom, *([ROW] * data_rows)]
    path = tmp_path_factory.mktemp("csv") / "gas.csv"
    path.write_bytes(_csv(rows, encoding))
    resource = resources["gas-pipeline-pressure"]
    schema = load_schema(resource, GenericConnector())
    table = open_table(
        path=path, filename="gas.csv", scorer=schema.headers.score, chunk_rows=100, sheet=None
    )
    assert table.headers == expected
    assert table.header_row == len(above) + 1
    chunk = next(iter(table.chunks))
    assert chunk.source_rows.tolist() == list(range(len(above) + 3, len(above) + 3 + data_rows))
    assert chunk.frame.iloc[0].tolist() == ROW
    crs = header_crs(expected[-1])
    matches, _ignored = schema.headers.map_columns(table.headers)
    assert {m.field: m.crs for m in matches if m.field in ("latitude", "longitude")} == {
        "latitude": crs,
        "longitude": crs,
    }


def test_a_group_header_csv_loads_its_points_in_the_stated_crs(resources, write):
    lat, lon = (float(v) for v in wgs84_to_gcj02(31.230416, 121.4747))
    rows = [
        ["监测点编号", "监测时间", "所属区", "运行情况", "", "坐标(GCJ-02)", ""],
        ["", "", "", "管网压力(kPa)", "介质温度", "纬度", "经度"],
        ["GP000001", "2025-07-01 14:30", "黄浦区", "350", "21.5", f"{lat:.8f}", f"{lon:.8f}"],
    ]
    chunks = run(resources, write("gas.csv", _csv(rows, "gb18030")))
    assert [e for c in chunks for e in c.errors] == []
    frame = chunks[0].frame
    assert frame["latitude"].iat[0] == pytest.approx(31.230416, abs=1e-6)
    assert frame["longitude"].iat[0] == pytest.approx(121.4747, abs=1e-6)
    assert frame["pressure"].iat[0] == pytest.approx(0.35)
    assert "assumed_crs" not in [w.code for c in chunks for w in c.warnings]


@pytest.mark.parametrize(
    "rows",
    [
        # one header row, a title above: as before
        [["日报"], FIELDS, ROW[:6]],
        # a unit row under the header
        [[*FIELDS[:3], "管网压力", *FIELDS[4:]], ["", "", "", "kPa", "", ""], ROW[:6]],
    ],
)
def test_one_row_headers_read_as_before(resources, write, rows):
    chunks = run(resources, write("gas.csv", _csv(rows, "utf-8")))
    assert [e for c in chunks for e in c.errors] == []
    assert chunks[0].frame["pressure"].iat[0] == pytest.approx(0.35)
    assert chunks[0].source_rows.tolist() == [3]


def test_a_workbook_group_header_over_blanks_reads_as_a_merged_one(resources, write):
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["监测点编号", "监测时间", "所属区", "管网压力(kPa)", "坐标(BD-09)", None])
    sheet.append([None, None, None, None, "纬度", "经度"])  # no merge: blanks only
    sheet.append([*ROW[:4], "31.2304", "121.4737"])
    out = io.BytesIO()
    book.save(out)
    path = write("gas.xlsx", out.getvalue())
    schema = load_schema(resources["gas-pipeline-pressure"], GenericConnector())
    table = open_table(
        path=path, filename="gas.xlsx", scorer=schema.headers.score, chunk_rows=100, sheet=None
    )
    assert table.headers[-2:] == ["纬度(BD-09)", "经度(BD-09)"]
