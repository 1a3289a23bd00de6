"""The mapping assistant on shapes met in departments' files: a file mapping only one
coordinate (the proposal crashed: a 500 on the steward's page), a CRS lead of exactly one
point (lost to floating point), and a bare number column beside cells that state their
unit (the range alone proposed the field's unit: "0.285" beside "0.35MPa" read as kPa)."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest

from connectors.normalisers.schema import FieldInfo
from connectors.proposal import crs as crs_guess
from connectors.proposal.dates import guess_dates
from connectors.proposal.engine import propose
from connectors.proposal.units import guess_unit
from tests.connectors.proposal_files import map_data_or_skip


def _csv(rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode("utf-8")


@pytest.mark.parametrize("only", ["纬度", "经度"])
def test_a_file_with_one_coordinate_column_gets_a_proposal(resources, tmp_path, only):
    map_data_or_skip()
    value = "31.2304" if only == "纬度" else "121.4737"
    rows = [["编号", "报警时刻", "所属区", "类别", only]]
    rows += [[f"JQ{n}", "2026-03-05 14:30", "黄浦区", "火灾", value] for n in range(6)]
    path = tmp_path / "fire.csv"
    path.write_bytes(_csv(rows))
    proposal = propose(path=path, filename="fire.csv", resource=resources["fire-incidents"])
    # no point to place: the fire department's declared CRS (its connector's BD-09)
    assert (proposal.crs.crs, proposal.crs.source, proposal.crs.points) == ("bd09", "profile", 0)
    assert proposal.field_for(only) == ("latitude" if only == "纬度" else "longitude")


def test_a_lead_of_exactly_one_point_decides(monkeypatch):
    """Five points, BD-09 placing one more inside its district than the others."""
    monkeypatch.setattr(crs_guess.geodata, "district_shapes", lambda matcher: {"310101": None})
    monkeypatch.setattr(
        crs_guess,
        "inside_shares",
        lambda lat, lon, codes, shapes: {"wgs84": 0.8, "gcj02": 0.8, "bd09": 1.0},
    )

    class Matcher:
        def map(self, series):
            codes = pd.Series(["310101"] * len(series))
            return codes, pd.Series(False, index=codes.index), pd.Series(False, index=codes.index)

    frame = pd.DataFrame({0: ["31.23"] * 5, 1: ["121.47"] * 5, 2: ["黄浦区"] * 5})
    guess = crs_guess.guess_crs(
        headers=["纬度", "经度", "所属区"],
        frame=frame,
        lat_pos=0,
        lon_pos=1,
        district_pos=2,
        matcher=Matcher(),
    )
    assert (guess.crs, guess.source, guess.points) == ("bd09", "districts", 5)


PRESSURE = FieldInfo("pressure", "管网压力", "number", unit="kPa", min_value=0, max_value=1600)


@pytest.mark.parametrize(
    ("cells", "unit", "source"),
    [
        # bare numbers written as the MPa cells are, not as the kPa one
        (["0.35MPa", "280kPa", "0.285", "0.31MPa", "0.3"], "MPa", "cells"),
        (["０．３５ＭＰａ", "0.285"], "MPa", "cells"),
        (["350kPa", "285", "0.3MPa"], "kPa", "cells"),
        # nothing stated: the range decides as before (the field's own unit fits)
        (["0.35", "0.285"], "kPa", "range"),
        # a stated unit the bare values cannot be in: the range decides
        (["3500Pa", "350"], "kPa", "range"),
        (["280kPa", "0.9"], "kPa", "range"),  # ten times apart or more: no evidence
    ],
)
def test_bare_numbers_take_the_unit_their_neighbours_state(cells, unit, source):
    guess = guess_unit("管网压力", pd.Series(cells, dtype="str"), PRESSURE)
    assert (guess.unit, guess.source) == (unit, source)


@pytest.mark.parametrize(
    "cells",
    [
        # an XLSX column: date cells, serials in number cells, 中文 text
        ["2026-03-05 09:00:00", "46086.375", "2026年3月5日 14时30分", "2026年3月5日 18时"],
        # typed on a full-width IME
        ["２０２６－０３－０５　０９：３０", "２０２６－０３－０５　１０：４５", "2026/3/5 11:15"],
    ],
)
def test_a_column_the_built_in_parser_reads_is_said_readable(cells):
    guess = guess_dates("observed_at", "统计时间", pd.Series(cells, dtype="str"))
    assert (guess.layout, guess.parsed) == ("", 1.0)


def test_a_mixed_time_column_is_proposed_for_the_time_field(resources, tmp_path):
    rows = [["编号", "统计时间", "所在区", "压力值"]]
    times = ["2026-03-05 09:00:00", "46086.375", "2026年3月5日 14时30分", "2026年3月5日 18时"]
    rows += [[f"GP00000{n}", t, "黄浦区", "0.3"] for n, t in enumerate(times)]
    path = tmp_path / "gas.csv"
    path.write_bytes(_csv(rows))
    proposal = propose(path=path, filename="gas.csv", resource=resources["gas-pipeline-pressure"])
    assert proposal.field_for("统计时间") == "observed_at"
    assert [d.parsed for d in proposal.dates] == [1.0]
