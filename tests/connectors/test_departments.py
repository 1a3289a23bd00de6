"""The committed department samples parse to the documented values and errors.

Row numbers are those Excel shows; the hand-placed rows are described in
fixtures/samples/make_samples.py.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from connectors.base import RowError
from connectors.pipeline.parsing import parse_file
from connectors.profiles.resolve import connector_for
from tests.connectors.conftest import SAMPLES

# People's Square in WGS-84: the samples store it in each department's datum.
LAT, LON = 31.2304, 121.4737
UTC_1430_LOCAL = pd.Timestamp("2025-07-01 06:30", tz="UTC")


def parse(resources, filename: str, code: str):
    resource = resources[code]
    chunks = list(parse_file(path=SAMPLES / filename, filename=filename, resource=resource))
    assert len(chunks) == 1
    return chunks[0]


def row(chunk, number: int) -> pd.Series:
    (position,) = np.flatnonzero(chunk.source_rows == number)
    return chunk.frame.iloc[position]


def errors_of(chunk, rows: set[int]) -> list[tuple[int, str, str]]:
    return [(e.row, e.column, e.message) for e in chunk.errors if e.row in rows]


def test_registry_picks_department_connectors(resources):
    codes = {
        code: connector_for(resources[code]).code
        for code in (
            "gas-pipeline-pressure",
            "road-ponding",
            "weather-warnings",
            "rainfall-stations",
            "fire-incidents",
            "traffic-congestion",
            "air-quality",
            "hospital-emergency-capacity",
            "emergency-shelters",
        )
    }
    assert codes == {
        "gas-pipeline-pressure": "housing.gas",
        "road-ponding": "water.ponding",
        "weather-warnings": "weather.cma",
        "rainfall-stations": "weather.cma",
        "fire-incidents": "fire.incidents",
        "traffic-congestion": "transport.congestion",
        "air-quality": "environment.air",
        "hospital-emergency-capacity": "health.capacity",
        "emergency-shelters": "generic",
    }


def test_housing_gbk_title_row_kpa_gcj02_excel_serial(resources):
    chunk = parse(resources, "housing_gas_pressure.csv", "gas-pipeline-pressure")
    assert len(chunk.frame) == 80
    assert chunk.source_rows[0] == 4
    r7 = row(chunk, 7)
    assert r7["point_id"] == "GP000007"
    assert r7["pressure"] == pytest.approx(0.35)
    assert r7["temperature"] == pytest.approx(25.5)
    assert r7["district"] == "310101"
    assert r7["pressure_class"] == "中压B"
    assert r7["observed_at"] == UTC_1430_LOCAL
    assert r7["latitude"] == pytest.approx(LAT, abs=1e-5)
    assert r7["longitude"] == pytest.approx(LON, abs=1e-5)
    # "中压" is this department's short form of 中压B; "—" is a missing temperature.
    assert row(chunk, 4)["pressure_class"] == "中压B"
    assert pd.isna(row(chunk, 4)["temperature"])
    assert row(chunk, 4)["pressure"] == pytest.approx(0.3025)
    # The connector states the unit and CRS: nothing assumed; cells written "302.5kPa".
    assert [(w.code, w.column, str(w)) for w in chunk.warnings] == [
        ("ignored_column", "备注", "该列不属于本资源，已忽略。"),
        (
            "converted_values",
            "管网压力(kPa)",
            "25 个值带有单位 kPa，已换算为 MPa（首个为第 4 行）。",
        ),
    ]
    assert chunk.errors == [
        RowError(10, "管网压力(kPa)", "无法识别的数值：'abc'", "pressure"),
        RowError(11, "采集时间", "无法识别的日期时间：'2025/13/45'", "observed_at"),
        RowError(12, "所属区", "无法识别的行政区：'外滩区'", "district"),
        RowError(13, "管网压力(kPa)", "'2000' 大于最大值 1.6MPa", "pressure"),
        RowError(14, "监测点编号", "'GX12' 格式不正确（应符合 ^GP\\d{6}$）", "point_id"),
    ]
    assert chunk.valid.sum() == 75
    assert not chunk.valid[chunk.source_rows == 13].any()
    assert chunk.frame.dtypes["observed_at"] == "datetime64[ns, UTC]"
    assert chunk.raw.columns[3] == "管网压力(kPa)"
    assert chunk.raw.iloc[3, 3] == "350kPa"


def test_water_merged_two_row_header_mm_short_names(resources):
    chunk = parse(resources, "water_road_ponding.xlsx", "road-ponding")
    assert list(chunk.raw.columns)[:5] == [
        "监测点编号",
        "上报时间",
        "区",
        "道路名称",
        "积水深度(mm)",
    ]
    assert list(chunk.raw.columns)[5:] == ["纬度", "经度"]
    r6 = row(chunk, 6)
    assert r6["point_id"] == "WP0003"
    assert r6["depth"] == pytest.approx(15.0)  # 150 mm
    assert r6["district"] == "310115"
    assert r6["observed_at"] == pd.Timestamp("2025-07-01 00:15", tz="UTC")
    assert row(chunk, 4)["depth"] == pytest.approx(1.0)
    assert errors_of(chunk, {8, 9, 10}) == [
        (8, "积水深度(mm)", "必填项为空"),
        (9, "积水深度(mm)", "'5000' 大于最大值 300cm"),
        (10, "区", "无法识别的行政区：'火星'"),
    ]
    # Every other error is a sensor reporting "暂无" for the required depth.
    others = [e for e in chunk.errors if e.row not in {8, 9, 10}]
    assert others and all(e.message == "必填项为空" and e.field == "depth" for e in others)


def test_weather_chinese_dates_and_levels(resources):
    chunk = parse(resources, "weather_warnings.csv", "weather-warnings")
    r3 = row(chunk, 3)
    assert r3["warning_id"] == "W20250701002"
    assert r3["issued_at"] == UTC_1430_LOCAL
    assert r3["level"] == "橙色"
    assert r3["warning_type"] == "暴雨"
    assert r3["district"] == "310115"
    assert r3["lifted_at"] is pd.NaT
    r2 = row(chunk, 2)
    assert r2["issued_at"] == pd.Timestamp("2025-07-01 00:00", tz="UTC")  # 2025年7月1日 8时0分
    assert set(chunk.frame["level"].dropna()) <= {"蓝色", "黄色", "橙色", "红色"}
    assert chunk.errors == [
        RowError(6, "预警级别", "不是允许的取值：'紫色'（可选：蓝色、黄色、橙色、红色）", "level"),
        RowError(7, "发布时间", "无法识别的日期时间：'2025年7月32日 9时'", "issued_at"),
    ]


def test_fire_semicolons_bom_bd09_fullwidth(resources):
    chunk = parse(resources, "fire_incidents.csv", "fire-incidents")
    assert chunk.raw.columns[0] == "警情编号"  # BOM stripped
    r5 = row(chunk, 5)
    assert r5["incident_id"] == "F2025070104"
    assert r5["casualties"] == 2
    assert r5["incident_type"] == "火灾"
    assert r5["district"] == "310106"
    assert r5["reported_at"] == UTC_1430_LOCAL
    assert r5["latitude"] == pytest.approx(LAT, abs=1e-5)
    assert r5["longitude"] == pytest.approx(LON, abs=1e-5)
    assert str(chunk.frame.dtypes["casualties"]) == "Int64"
    assert chunk.errors == [
        RowError(9, "伤亡人数", "'-1' 小于最小值 0", "casualties"),
        RowError(
            10,
            "警情类型",
            "不是允许的取值：'地震'（可选：火灾、抢险救援、社会救助、其他）",
            "incident_type",
        ),
    ]


def test_transport_epoch_ms_percent_and_speed(resources):
    chunk = parse(resources, "transport_congestion.csv", "traffic-congestion")
    r4 = row(chunk, 4)
    assert r4["segment_id"] == "S00003"
    assert r4["observed_at"] == UTC_1430_LOCAL
    assert r4["congestion_index"] == pytest.approx(6.8)
    assert r4["avg_speed"] == pytest.approx(36.0)  # 10 m/s
    assert r4["district"] == "310105"
    assert chunk.errors == [
        RowError(8, "拥堵程度", "'150%' 大于最大值 10", "congestion_index"),
        RowError(9, "时间戳", "无法识别的日期时间：'yesterday'", "observed_at"),
    ]


def test_environment_second_sheet_mg_swapped(resources):
    chunk = parse(resources, "environment_air_quality.xlsx", "air-quality")
    r4 = row(chunk, 4)
    assert r4["station_id"] == "AQ003"
    assert r4["pm25"] == pytest.approx(35.0)  # 0.035 mg/m³
    assert r4["pm10"] == pytest.approx(60.0)
    assert r4["o3"] == pytest.approx(120.0)
    assert r4["aqi"] == 55
    assert r4["latitude"] == pytest.approx(LAT)  # swapped back
    assert r4["longitude"] == pytest.approx(LON)
    assert r4["observed_at"] == pd.Timestamp("2025-07-01 06:00", tz="UTC")
    lat = chunk.frame["latitude"].dropna()
    assert lat.between(30.6, 31.9).all()
    assert chunk.errors == [
        RowError(7, "AQI", "不是整数：'12.5'", "aqi"),
        RowError(8, "PM2.5(mg/m³)", "无法识别的数值：'高'", "pm25"),
    ]


def test_health_day_first_and_thousands(resources):
    chunk = parse(resources, "health_emergency_capacity.csv", "hospital-emergency-capacity")
    r2 = row(chunk, 2)
    assert r2["hospital_id"] == "425000001"
    assert r2["report_date"] == "2025-07-01"
    assert r2["beds_total"] == 1200
    assert r2["er_visits"] == 1234
    assert r2["district"] == "310109"
    assert row(chunk, 3)["report_date"] == "2025-07-02"  # 02/07 is 2 July, not 7 February
    assert chunk.errors == [
        RowError(5, "统计日期", "无法识别的日期：'31/02/2025'", "report_date"),
        RowError(6, "空余床位", "'-5' 小于最小值 0", "beds_free"),
    ]
    assert chunk.valid.tolist().count(False) == 2


def test_weather_rainfall_gb18030_trace_and_hour_only_times(resources):
    chunk = parse(resources, "weather_rainfall.csv", "rainfall-stations")
    assert chunk.source_rows[0] == 3  # title row 1, header row 2
    r4 = row(chunk, 4)
    assert r4["station_id"] == "58367"
    assert r4["station_name"] == "徐家汇"
    assert r4["observed_at"] == pd.Timestamp("2025-07-01 06:00", tz="UTC")
    assert r4["district"] == "310104"
    assert r4["rainfall_1h"] == pytest.approx(12.5)
    assert r4["rainfall_24h"] == pytest.approx(80.2)
    assert row(chunk, 5)["rainfall_1h"] == 0.0  # 微量
    assert chunk.raw.iloc[2, 4] == "微量"  # the report keeps what the user typed
    assert chunk.errors == [
        RowError(7, "小时雨量(mm)", "'350' 大于最大值 300mm", "rainfall_1h"),
        RowError(8, "观测时间", "无法识别的日期时间：'2025年7月1日 25时'", "observed_at"),
    ]


def test_samples_regenerate_byte_for_byte(tmp_path, monkeypatch, capsys):
    """The committed samples are what the script writes, to the byte (no save time in
    the workbooks' properties or zip entries)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_samples", SAMPLES / "make_samples.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(script, "HERE", tmp_path)
    script.main()
    made = sorted(path.name for path in tmp_path.iterdir())
    assert made == sorted(
        path.name for path in SAMPLES.iterdir() if path.is_file() and path.suffix != ".py"
    )
    for name in made:
        assert (tmp_path / name).read_bytes() == (SAMPLES / name).read_bytes(), name
