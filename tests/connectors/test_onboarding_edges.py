"""Shapes of unseen files the steward's path met: a CRS named over a two-row header, a
header naming a column twice, a date layout pandas cannot use."""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest

from connectors.normalisers.dates import valid_layout
from connectors.normalisers.headers import header_crs
from connectors.proposal.profile_build import EditError, corrected
from connectors.proposal.result import CrsGuess, DateGuess, Proposal
from connectors.proposal.sample import header_score, read_sample


def _merged_workbook(path: Path, parent: str) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["桥梁编号", "桥梁名称", "所属区", parent, ""])
    sheet.append(["", "", "", "纬度", "经度"])
    for column in "ABC":
        sheet.merge_cells(f"{column}1:{column}2")
    sheet.merge_cells("D1:E1")
    sheet.append(["QL9001", "外白渡桥", "黄浦区", 31.245582, 121.494201])
    out = io.BytesIO()
    book.save(out)
    path.write_bytes(out.getvalue())


@pytest.mark.parametrize(
    ("parent", "crs"),
    [("坐标(GCJ-02)", "gcj02"), ("坐标（百度BD-09）", "bd09"), ("坐标(CGCS2000)", "cgcs2000")],
)
def test_a_crs_named_over_a_two_row_header_stays_with_its_columns(tmp_path, parent, crs):
    path = tmp_path / "bridges.xlsx"
    _merged_workbook(path, parent)
    sample = read_sample(path=path, filename="bridges.xlsx")
    assert sample.headers[:3] == ["桥梁编号", "桥梁名称", "所属区"]
    assert [header_crs(h) for h in sample.headers[3:]] == [crs, crs]
    assert [h.split("(")[0] for h in sample.headers[3:]] == ["纬度", "经度"]


def test_a_plain_parent_over_a_two_row_header_adds_nothing(tmp_path):
    path = tmp_path / "bridges.xlsx"
    _merged_workbook(path, "坐标")
    assert read_sample(path=path, filename="bridges.xlsx").headers[3:] == ["纬度", "经度"]


def test_a_header_naming_a_column_twice_beats_the_data_below_it(tmp_path):
    header = ["报警编号", "报警时间", "报警时间", "所属区"]
    row = ["BJ2001", "2025-07-01 14:30:00", "2025-07-01 14:30:00", "浦东新区"]
    assert header_score(header) > header_score(row)
    path = tmp_path / "alarms.csv"
    path.write_text(",".join(header) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    sample = read_sample(path=path, filename="alarms.csv")
    assert (sample.header_row, sample.headers[0]) == (1, "报警编号")


@pytest.mark.parametrize(
    ("layout", "valid"),
    [
        ("%Y%m%d%H%M", True),
        ("%d/%m/%Y %H:%M", True),
        ("%Y年%m月%d日 %H时", True),
        ("%Q", False),
        ("%Y年%m月%d日 %", False),
        ("yyyy-MM-dd", False),
        ("", False),
    ],
)
def test_layouts_are_checked_by_the_parser_that_uses_them(layout, valid):
    assert valid_layout(layout) is valid


def test_a_bad_layout_is_an_edit_error_not_a_crash():
    proposal = Proposal(
        resource="gas-pipeline-pressure",
        headers=["采集时间"],
        header_row=1,
        signature="",
        sampled_rows=1,
        mapping=[],
        units=[],
        crs=CrsGuess("", "assumed"),
        dates=[DateGuess("observed_at", "", False, "", 0.0)],
        ignored=[],
        missing=[],
    )
    with pytest.raises(EditError, match="%Q"):
        corrected(proposal, field_names=["observed_at"], layouts={"observed_at": "%Q"})
