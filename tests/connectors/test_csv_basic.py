"""A plain CSV through parse_file: header mapping, typing, errors."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.base import InputError, RowError
from connectors.pipeline.parsing import parse_file, parse_records
from connectors.profiles.registry import GenericConnector


def test_gbk_csv_with_title_row(resources, write):
    text = (
        "2025年7月燃气管网压力监测日报\n"
        "\n"
        "监测点编号,监测时间,所属区,管网压力(kPa),介质温度,压力级制,纬度,经度,备注\n"
        "GP000001,2025/7/1 14:30,黄浦,350kPa,25.5,中压B,31.2304,121.4737,\n"
        "GP000002,2025年7月1日 14时30分,上海市浦东新区,暂无,—,低压,121.5,31.2,x\n"
    )
    path = write("gas.csv", text, encoding="gbk")
    chunks = list(
        parse_file(
            path=path,
            filename="gas.csv",
            resource=resources["gas-pipeline-pressure"],
            connector=GenericConnector(),
        )
    )
    assert len(chunks) == 1
    chunk = chunks[0]
    frame = chunk.frame
    assert list(frame.columns) == [
        "point_id",
        "observed_at",
        "district",
        "pressure",
        "temperature",
        "pressure_class",
        "latitude",
        "longitude",
    ]
    assert chunk.source_rows.tolist() == [4, 5]
    assert frame.loc[0, "pressure"] == pytest.approx(0.35)
    assert frame.loc[0, "district"] == "310101"
    assert frame.loc[1, "district"] == "310115"
    assert frame.loc[0, "observed_at"] == pd.Timestamp("2025-07-01 06:30", tz="UTC")
    assert frame.loc[1, "latitude"] == pytest.approx(31.2)
    assert chunk.valid.tolist() == [True, False]
    assert chunk.errors == [RowError(5, "管网压力(kPa)", "必填项为空", "pressure")]
    # Nothing silent: the ignored column, what was assumed, what was corrected.
    assert [(w.code, w.column, str(w)) for w in chunk.warnings] == [
        ("ignored_column", "备注", "该列不属于本资源，已忽略。"),
        ("assumed_unit", "介质温度", "表头未注明单位，按 °C 读取。"),
        ("assumed_crs", "纬度", "未注明坐标系，按 WGS-84 读取。"),
        ("assumed_crs", "经度", "未注明坐标系，按 WGS-84 读取。"),
        (
            "converted_values",
            "管网压力(kPa)",
            "1 个值带有单位 kPa，已换算为 MPa（首个为第 4 行）。",
        ),
        ("swapped_coordinates", "纬度", "1 行的纬度与经度填反，已对调（首个为第 5 行）。"),
    ]
    assert list(chunk.raw.columns)[3] == "管网压力(kPa)"


def test_missing_required_column(resources, write):
    path = write("gas.csv", "监测点编号,监测时间\nGP000001,2025-07-01 10:00\n")
    with pytest.raises(InputError) as info:
        parse_file(
            path=path,
            filename="gas.csv",
            resource=resources["gas-pipeline-pressure"],
            connector=GenericConnector(),
        )
    # No header is close to the missing ones: the message lists the file's columns.
    assert info.value.message == "缺少必填列：所属区、管网压力（文件的列：监测点编号、监测时间）"


def test_parse_records_by_name_and_label(resources):
    chunk = parse_records(
        records=[
            {
                "point_id": "GP000001",
                "监测时间": "2025-07-01T14:30:00+08:00",
                "district": "310101",
                "pressure": 0.4,
            },
            {"point_id": "bad", "监测时间": "x", "district": "310101", "pressure": 0.4},
        ],
        resource=resources["gas-pipeline-pressure"],
        connector=GenericConnector(),
    )
    assert chunk.valid.tolist() == [True, False]
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.4)
    assert [(e.row, e.column, e.message) for e in chunk.errors] == [
        (2, "point_id", "'bad' 格式不正确（应符合 ^GP\\d{6}$）"),
        (2, "监测时间", "无法识别的日期时间：'x'"),
    ]


def test_header_unit_on_a_field_without_unit(resources, write):
    # congestion_index has no unit: "(km/h)" in its header is ignored, "(%)" is a ratio.
    resource = resources["traffic-congestion"]
    header = "路段编号,统计时间,所属区,拥堵指数(km/h),平均车速(m/s)"
    path = write("t.csv", f"{header}\nS1,2025-07-01 14:30,黄浦,6.5,10\n")
    (chunk,) = parse_file(
        path=path, filename="t.csv", resource=resource, connector=GenericConnector()
    )
    assert chunk.errors == []
    assert chunk.frame.loc[0, "congestion_index"] == pytest.approx(6.5)
    assert chunk.frame.loc[0, "avg_speed"] == pytest.approx(36.0)
    path = write("p.csv", "路段编号,统计时间,所属区,拥堵指数(%)\nS1,2025-07-01 14:30,黄浦,65\n")
    (chunk,) = parse_file(
        path=path, filename="p.csv", resource=resource, connector=GenericConnector()
    )
    assert chunk.frame.loc[0, "congestion_index"] == pytest.approx(0.65)
