"""The mapping assistant on the corpus files of make_unseen_more.py, the steward's other
way in: ``manage.py ingest --propose`` on the file, the proposal saved unchanged as the
department's profile (``save_proposal``), and the file loaded with it stores what the
file was made from, as with the profile a steward writes by hand
(test_unseen_corpus.py)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from connectors import services
from connectors.pipeline import load as pipeline
from connectors.proposal.engine import propose
from connectors.proposal.services import save_proposal
from hub.records.models import Record
from tests.connectors.proposal_files import map_data_or_skip
from tests.connectors.test_unseen_corpus import SAMPLES, UNSEEN, World, assert_value

# What the assistant must find in each file: field per header (a pair column names
# both coordinate fields), source units, coordinate system and its evidence.
PROPOSED = {
    "drainage_pump_daily.csv": {
        "mapping": {
            "所属区": "district",
            "泵站编号": "station_id",
            "泵站名称": "station_name",
            "统计日期": "report_date",
            "开泵台数": "pumps_running",
            "排水能力(m³/s)": "capacity",
            "前池水位(m)": "wet_well_level",
            "经度(BD-09)": "longitude",
            "纬度(BD-09)": "latitude",
        },
        "units": {"capacity": ("m³/s", "header"), "wet_well_level": ("m", "header")},
        "crs": ("bd09", "header"),
        "header_row": 2,
    },
    "metro_station_flow.xlsx": {
        "mapping": {
            "车站编号": "station_id",
            "车站名称": "station_name",
            "所属区": "district",
            "统计时间": "observed_at",
            "时段": "period",
            "进站量(人次)": "entries",
            "出站量(人次)": "exits",
        },
        "units": {},
        "crs": ("", "assumed"),
        "header_row": 4,
    },
    "gas_pressure_survey.tsv": {
        "mapping": {
            "巡检点编号": "point_id",
            "巡检时间": "inspected_at",
            "所属区": "district",
            "管网压力": "pressure",
            "介质温度(℃)": "temperature",
            "压力级制": "pressure_class",
            "备注": "remark",
        },
        # the bare "0.285" is written as the "０．３５ＭＰａ" cells are
        "units": {"pressure": ("MPa", "cells"), "temperature": ("°C", "header")},
        "crs": ("", "assumed"),
        "header_row": 1,
    },
    "fire_hydrant_registry.csv": {
        "mapping": {
            "消火栓编号": "hydrant_id",
            "设置地点": "address",
            "所属区": "district",
            "经纬度": "latitude+longitude",
            "出水压力(MPa)": "outlet_pressure",
            "状态": "status",
        },
        "units": {"outlet_pressure": ("MPa", "header")},
        # every hydrant inside its district in BD-09 only
        "crs": ("bd09", "districts"),
        "header_row": 1,
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("filename", sorted(PROPOSED))
def test_the_proposal_saved_as_is_loads_the_file(filename, make_user):
    map_data_or_skip()
    world = World(make_user)
    sample = SAMPLES[filename]
    resource = world.create_resource(sample)
    out = StringIO()
    call_command(
        "ingest", str(UNSEEN / filename), "--resource", resource.code, "--propose", stdout=out
    )
    shown = json.loads(out.getvalue())
    want = PROPOSED[filename]
    fields: dict[str, list[str]] = {}
    for match in shown["mapping"]:
        fields.setdefault(match["header"], []).append(match["field"])
    assert {h: "+".join(f) for h, f in fields.items()} == want["mapping"]
    assert {u["field"]: (u["unit"], u["source"]) for u in shown["units"]} == want["units"]
    assert (shown["crs"]["crs"], shown["crs"]["source"]) == want["crs"]
    assert (shown["header_row"], shown["missing"]) == (want["header_row"], [])
    # Notes, subtotals and the total are no preview rows.
    rows = sorted([row for row, _data in sample.expected] + [e["row"] for e in sample.errors])
    assert [row["row"] for row in shown["preview"]] == rows[:10]

    steward = world.steward(sample.department)
    proposal = propose(path=UNSEEN / filename, filename=filename, resource=resource)
    saved = save_proposal(user=steward, resource=resource, proposal=proposal, filename=filename)
    upload = services.create_batch(
        resource=resource,
        department=resource.provider,
        uploaded_by=steward,
        file=SimpleUploadedFile(filename, (UNSEEN / filename).read_bytes()),
        original_filename=filename,
        accept_valid_rows=bool(sample.errors),
    )
    batch = pipeline.run_batch(batch_id=upload.batch.pk)
    assert batch.profile_version == saved.profile.version
    assert batch.errors == sample.errors
    stored = {r.source_row: r for r in Record.objects.filter(resource=resource, batch=batch)}
    assert sorted(stored) == [row for row, _data in sample.expected]
    for row, expected in sample.expected:
        for name, value in expected.items():
            assert_value(stored[row].data[name], value, f"{filename} row {row} {name}")
