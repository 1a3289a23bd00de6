"""Decimal commas and per-day flows through the whole pipeline: the stored values."""

from __future__ import annotations

import pytest

from connectors import services
from connectors.models import ConnectorProfile
from connectors.profiles.versions import save_profile
from hub.records.models import BatchStatus, Record

# Comma-delimited with quoted decimal commas: the delimiter does not say the comma is the
# decimal separator (a ";"-delimited file does: tests/ingest/test_decimal_commas.py).
PUMP_CSV = (
    "\ufeff泵站编号,监测时间,所属区,排水能力(m³/s)\n"
    'BZ101,2025-07-01 14:30:00,黄浦区,"0,750"\n'
    'BZ102,2025-07-01 14:30:00,徐汇区,"12,500"\n'
    'BZ103,2025-07-01 14:30:00,虹口区,"4,125"\n'
)


def _load(resource, department, path, **options):
    upload = services.create_batch(
        resource=resource, department=department, file=path, original_filename=path.name, **options
    )
    return services.run_batch(batch_id=upload.batch.pk)


def _stored(resource, batch, field):
    records = Record.objects.filter(resource=resource, batch=batch).order_by("source_row")
    return [record.data[field] for record in records]


@pytest.fixture
def water(catalog):
    return catalog["departments"]["water"]


def test_decimal_commas_are_never_stored_as_thousands(catalog, water, tmp_path):
    pumps = catalog["resources"]["pump-station-operation"]
    path = tmp_path / "pumps.csv"
    path.write_text(PUMP_CSV, encoding="utf-8")

    refused = _load(pumps, water, path)
    assert refused.status == BatchStatus.REJECTED
    assert [(e["row"], e["column"]) for e in refused.errors] == [
        (2, "排水能力(m³/s)"),
        (3, "排水能力(m³/s)"),
        (4, "排水能力(m³/s)"),
    ]
    assert refused.errors[0]["message"].startswith("无法识别的数值：'0,750'（逗号")
    assert not Record.objects.filter(resource=pumps).exists()

    save_profile(
        profile=ConnectorProfile(department=water, resource=pumps, decimal_comma=True), user=None
    )
    path = tmp_path / "pumps-again.csv"  # not the same upload as the refused one
    path.write_text(PUMP_CSV + "BZ104,2025-07-01 14:30:00,长宁区,6\n", encoding="utf-8")
    loaded = _load(pumps, water, path)
    assert loaded.status == BatchStatus.LOADED, loaded.errors
    assert _stored(pumps, loaded, "capacity") == [0.75, 12.5, 4.125, 6.0]


def test_per_day_flow_is_converted_and_an_unknown_unit_refuses_the_file(catalog, water, tmp_path):
    supply = catalog["resources"]["water-supply-pressure"]
    header = "测压点编号,监测时间,所属区,压力(MPa),瞬时流量({unit})\n"
    rows = "SY001,2025-07-01 14:30:00,310101,0.3,2400\nSY002,2025-07-01 14:30:00,310104,0.3,2.4万\n"
    per_day = tmp_path / "per-day.csv"
    per_day.write_text(header.format(unit="m³/d") + rows.replace("2.4万", "36"), encoding="utf-8")
    batch = _load(supply, water, per_day)
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(supply, batch, "flow") == [pytest.approx(100.0), pytest.approx(1.5)]
    assert "assumed_unit" not in [w["code"] for w in batch.warnings]

    unknown = tmp_path / "unknown.csv"
    unknown.write_text(header.format(unit="m³/x") + rows, encoding="utf-8")
    batch = _load(supply, water, unknown)
    assert batch.status in (BatchStatus.REJECTED, BatchStatus.FAILED)
    assert batch.errors[0]["column"] == "瞬时流量(m³/x)"
    assert batch.errors[0]["message"].startswith("表头单位“m³/x”无法识别（列“瞬时流量(m³/x)”）")
    assert not Record.objects.filter(resource=supply, batch=batch).exists()
