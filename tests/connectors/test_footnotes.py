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


@pytest.mark.parametrize(
    "cells",
    [
        # A grouped report's subtotal: 序号 blank, the group's name before 小计.
        ["", "浦东新区小计", "", "5"],
        ["", "浦东新区 小计：", "", "5"],
        ["", "", "合计", "46.45"],
        ["徐汇区合计", "", "", "21.7"],
        # A sign-off line: notes and signatures in several cells.
        ["制表：上海市排水管理事务中心", "", "审核：王工", ""],
        ["填报单位：市水务局", "负责人：李四", "联系电话：021-12345678", "日期：2026年3月5日"],
        ["", "注：坐标为百度坐标", "", ""],
    ],
)
def test_subtotals_and_sign_off_lines_are_dropped(cells):
    kept, notice = drop_notes(_chunk([["1", "GP000001", "黄浦区", "0.3"], cells]))
    assert kept.frame.iloc[:, 1].tolist() == ["GP000001"]
    assert (notice.code, notice.params) == ("skipped_rows", {"rows": 1, "first": 3})


@pytest.mark.parametrize(
    "cells",
    [
        ["", "GP000002", "小计", "0.3"],  # a total word after the first filled cell
        ["", "合计管段A", "黄浦区", "0.3"],
        ["制表：张三", "GP000002", "黄浦区", "0.3"],  # beside data: a (bad) data row
        ["", "1号泵站小计", "", "5"],  # a label starting with a digit: an id, kept
    ],
)
def test_rows_with_data_beside_a_total_or_note_word_stay(cells):
    kept, notice = drop_notes(_chunk([["1", "GP000001", "黄浦区", "0.3"], cells]))
    assert (len(kept.frame), notice) == (2, None)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["", "1", "12"]),
            st.from_regex(r"GP\d{6}|[张李王]家[浜湾]泵站|浦东新区", fullmatch=True),
            st.sampled_from(["", "黄浦区", "合计"]),
        ),
        min_size=1,
        max_size=30,
    )
)
def test_rows_whose_first_filled_cell_is_an_id_or_a_name_are_never_dropped(rows):
    kept, notice = drop_notes(_chunk([[a, b, c, "0.3"] for a, b, c in rows]))
    assert (kept.frame.iloc[:, 1].tolist(), notice) == ([b for _a, b, _c in rows], None)


def test_a_note_over_several_lines_is_left_out_whole():
    rows = [
        ["1", "GP000001", "黄浦区", "0.3"],
        ["注：1. 压力为日均值；", "", "", ""],
        ["2. 坐标为百度坐标；", "", "", ""],
        ["（3）停测点不计。", "", "", ""],
        ["制表：燃气公司", "", "审核：李四", ""],
    ]
    kept, notice = drop_notes(_chunk(rows))
    assert kept.frame.iloc[:, 1].tolist() == ["GP000001"]
    assert notice.params == {"rows": 4, "first": 3}


def test_a_one_cell_row_not_under_a_note_stays():
    rows = [["1", "GP000001", "黄浦区", "0.3"], ["2", "", "", ""], ["注：见附件", "", "", ""]]
    kept, notice = drop_notes(_chunk(rows))
    assert kept.frame.iloc[:, 0].tolist() == ["1", "2"]
    assert notice.params == {"rows": 1, "first": 4}
