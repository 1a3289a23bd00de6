"""Notes and total rows under a table are left out of the data, and said in a warning."""

from __future__ import annotations

import io

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.pipeline.footnotes import drop_notes
from connectors.readers.base import RawChunk
from hub.records.notices import merge
from tests.connectors.test_hostile import run

HEADER = "监测点编号,监测时间,所属区,管网压力,介质温度,压力级制,纬度,经度"
ROW = "GP{n:06d},2025-07-01 14:30:00,黄浦区,0.35,20,低压,31.23,121.47"


def _chunk(rows: list[list[str]], first_row: int = 2) -> RawChunk:
    frame = pd.DataFrame(rows, columns=range(len(rows[0])), dtype=object)
    return RawChunk(frame=frame, source_rows=np.arange(first_row, first_row + len(rows)))


@pytest.mark.parametrize(
    "cells",
    [
        ["注：压力为日均值", "", ""],
        ["注1. 数据来源：市应急管理局", "", ""],
        ["备注：坐标为百度坐标", "", ""],
        ["数据来源：燃气公司", "", ""],
        ["制表单位：上海市住房和城乡建设管理委员会", "", ""],
        ["填表人：张三  审核人：李四", "", ""],
        ["Note: values are daily means", "", ""],
        ["合计", "", "1200"],
        ["合 计：", "12", "1200"],
        ["平均值", "", "0.31"],
        ["Total", "6", ""],
    ],
)
def test_notes_and_totals_are_dropped(cells):
    kept, notice = drop_notes(_chunk([["GP000001", "黄浦区", "0.3"], cells]))
    assert kept.frame.iloc[:, 0].tolist() == ["GP000001"]
    assert kept.source_rows.tolist() == [2]
    assert (notice.code, notice.params) == ("skipped_rows", {"rows": 1, "first": 3})


@pytest.mark.parametrize(
    "cells",
    [
        ["注册地址待核实", "", ""],  # a value that starts like a note
        ["注：见附件", "黄浦区", "0.3"],  # a note with data beside it is a (bad) data row
        ["合计管段A", "黄浦区", "0.3"],
        ["GP000002", "合计", "0.3"],  # a total word outside the first column
    ],
)
def test_data_rows_that_look_a_little_like_notes_stay(cells):
    kept, notice = drop_notes(_chunk([["GP000001", "黄浦区", "0.3"], cells]))
    assert (len(kept.frame), notice) == (2, None)


def test_a_one_column_table_keeps_every_cell():
    kept, notice = drop_notes(_chunk([["合计"], ["注：x"]]))
    assert (len(kept.frame), notice) == (2, None)


@given(st.lists(st.from_regex(r"GP\d{6}", fullmatch=True), min_size=1, max_size=30))
def test_ordinary_rows_are_never_dropped(ids):
    kept, notice = drop_notes(_chunk([[i, "黄浦区", "0.3"] for i in ids]))
    assert (kept.frame.iloc[:, 0].tolist(), notice) == (ids, None)


def test_a_csv_with_a_note_footer_loads_its_rows(resources, write):
    lines = [
        HEADER,
        *(ROW.format(n=n) for n in range(1, 4)),
        "",
        "注：压力为日均值",
        "制表：燃气公司",
    ]
    path = write("gas.csv", "\n".join(lines) + "\n")
    chunks = run(resources, path)
    assert sum(len(c.frame) for c in chunks) == 3
    assert [e for c in chunks for e in c.errors] == []
    (notice,) = [
        n for n in merge(w for c in chunks for w in c.warnings) if n.code == "skipped_rows"
    ]
    assert notice.params == {"rows": 2, "first": 6}


def test_an_xlsx_with_a_total_row_loads_its_rows(resources, write):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.split(","))
    for n in range(1, 3):
        sheet.append(ROW.format(n=n).split(","))
    sheet.append(["合计", None, None, 0.7])
    out = io.BytesIO()
    book.save(out)
    path = write("gas.xlsx", out.getvalue())
    chunks = run(resources, path)
    assert [v for c in chunks for v in c.frame["point_id"]] == ["GP000001", "GP000002"]
    assert [e for c in chunks for e in c.errors] == []
    codes = [w.code for c in chunks for w in c.warnings]
    assert codes.count("skipped_rows") == 1
