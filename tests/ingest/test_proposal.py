"""The mapping assistant end to end: a file rejected for its columns gets a proposal (CLI
JSON, steward page), the corrected proposal is saved as a profile version bound to the
file's header signature, and the next upload with those headers loads with it; files
with other headers keep the default profile. ``ingest --profile`` chooses a version."""

from __future__ import annotations

import json
from io import StringIO

import numpy as np
import pytest
from django.core.management import call_command

from connectors.models import ConnectorProfile
from connectors.normalisers.districts import matcher_for_code_list
from connectors.proposal.engine import propose
from connectors.proposal.profile_build import EditError
from connectors.proposal.sample import header_signature
from connectors.proposal.services import save_proposal
from hub.records.models import Record, UploadBatch
from permissions.models import AuditEvent
from tests.connectors.proposal_files import HEADERS, Spec, map_data_or_skip, write_file

pytestmark = pytest.mark.django_db(transaction=True)

# Only the first is a label (or alias) of the gas resource's fields.
ODD = {
    "point_id": "监测点编号",  # the one header the resource knows
    "observed_at": "采集时刻",
    "district": "所在区",
    "pressure": "管网压力值",
    "temperature": "介质温度值",
    "latitude": "北纬",
    "longitude": "东经",
}
ORDER = list(HEADERS)


def _ingest(path, *args) -> tuple[dict, int]:
    out = StringIO()
    code = 0
    try:
        call_command(
            "ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", *args, stdout=out
        )
    except SystemExit as exc:
        code = exc.code
    return json.loads(out.getvalue()), code


def _odd_file(tmp_path, gas, *, crs="gcj02", layout="%d/%m/%Y %H:%M", name="odd.csv"):
    map_data_or_skip()
    spec = Spec(headers=ODD, order=ORDER, pressure_unit="kPa", crs=crs, layout=layout, rows=60)
    path = tmp_path / name
    district = gas.fields.get(name="district").code_list
    return path, write_file(path, spec, matcher_for_code_list(district))


def test_cli_prints_the_proposal_as_json(gas, tmp_path):
    path, _truth = _odd_file(tmp_path, gas)
    out = StringIO()
    call_command(
        "ingest", str(path), "--resource", "gas-pipeline-pressure", "--propose", stdout=out
    )
    proposal = json.loads(out.getvalue())
    assert {m["header"]: m["field"] for m in proposal["mapping"]} == {
        ODD[name]: name for name in ORDER
    }
    assert {u["field"]: (u["unit"], u["source"]) for u in proposal["units"]} == {
        "pressure": ("kPa", "range"),
        "temperature": ("°C", "range"),
    }
    assert (proposal["crs"]["crs"], proposal["crs"]["source"]) == ("gcj02", "districts")
    assert proposal["dates"][0]["layout"] == "%d/%m/%Y %H:%M"
    assert proposal["signature"] == header_signature([ODD[n] for n in ORDER])
    assert proposal["missing"] == [] and len(proposal["preview"]) == 10
    assert not UploadBatch.objects.exists()  # --propose loads nothing


def test_saved_proposal_is_used_for_files_with_the_same_headers(gas, steward, tmp_path):
    path, truth = _odd_file(tmp_path, gas)
    rejected, code = _ingest(path)
    assert (rejected["status"], code, rejected["rows_read"]) == ("rejected", 1, 0)
    assert "缺少必填列" in rejected["message"]

    saved = save_proposal(
        user=steward, resource=gas, proposal=propose(path=path, filename="odd.csv", resource=gas)
    )
    profile = saved.profile
    assert (profile.version, profile.created_by, profile.department) == (1, steward, gas.provider)
    assert profile.header_signature == header_signature(list(ODD.values()))
    assert profile.source_crs == "gcj02" and profile.source_units["pressure"] == "kPa"
    assert profile.date_layouts[0] == "%d/%m/%Y %H:%M" and profile.day_first
    event = AuditEvent.objects.filter(action="profile").latest("pk")
    assert (event.actor_id, event.detail["version"]) == (steward.pk, 1)

    loaded, code = _ingest(path)  # the same file again: rejected batches may be retried
    assert (loaded["status"], code, loaded["inserted"]) == ("loaded", 0, 60), loaded
    assert UploadBatch.objects.get(pk=loaded["batch"]).profile_version == 1
    record = Record.objects.get(key__startswith="GP000001|")
    assert record.district_code == truth["codes"][0]
    assert record.data["pressure"] == pytest.approx(truth["mpa"][0])
    assert (record.latitude, record.longitude) == pytest.approx(
        (truth["lat"][0], truth["lon"][0]), abs=2e-6
    )
    # Same headers in another order and spacing: same signature, same profile.
    reordered = tmp_path / "reordered.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    cells = [line.split(",") for line in lines]
    cells[0] = [f" {h} " for h in cells[0]]
    swapped = [[row[1], row[0], *row[2:]] for row in cells]
    reordered.write_text("\n".join(",".join(r) for r in swapped) + "\n", encoding="utf-8")
    again, _code = _ingest(reordered)
    assert (again["status"], again["unchanged"]) == ("loaded", 60), again

    # A file with the resource's own headers is no signature match: the default applies.
    standard = tmp_path / "standard.csv"
    standard.write_text(
        "监测点编号,监测时间,所属区,管网压力(MPa),纬度,经度\n"
        "GP000999,2025-07-01 14:30,黄浦区,0.3,31.23,121.47\n",
        encoding="utf-8",
    )
    plain, _code = _ingest(standard)
    assert plain["status"] == "loaded", plain
    assert UploadBatch.objects.get(pk=plain["batch"]).profile_version is None


def test_ingest_profile_chooses_a_version(gas, housing, steward, tmp_path):
    path, _truth = _odd_file(tmp_path, gas)
    first = save_proposal(
        user=steward, resource=gas, proposal=propose(path=path, filename="odd.csv", resource=gas)
    ).profile
    # A later version for the same headers says BD-09: the newest wins by default...
    second = ConnectorProfile.objects.get(pk=first.pk)
    second.source_crs = "bd09"
    from connectors.profiles.versions import save_profile

    second = save_profile(profile=second, user=steward)
    assert second.version == 2
    # ...but --profile picks the first (GCJ-02: the points land in their districts).
    summary, code = _ingest(path, "--profile", str(first.pk))
    assert (summary["status"], code) == ("loaded", 0), summary
    assert UploadBatch.objects.get(pk=summary["batch"]).profile_version == 1
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="no profile"):
        _ingest(path, "--profile", "999999")


def test_corrections_are_checked(gas, steward, tmp_path):
    path, _truth = _odd_file(tmp_path, gas)
    proposal = propose(path=path, filename="odd.csv", resource=gas)
    with pytest.raises(EditError, match="nope"):
        save_proposal(user=steward, resource=gas, proposal=proposal, mapping={"北纬": "nope"})
    with pytest.raises(EditError):
        save_proposal(
            user=steward,
            resource=gas,
            proposal=proposal,
            mapping={"北纬": "latitude", "东经": "latitude"},
        )
    with pytest.raises(EditError):
        save_proposal(user=steward, resource=gas, proposal=proposal, units={"pressure": "furlong"})
    with pytest.raises(EditError):
        save_proposal(user=steward, resource=gas, proposal=proposal, timezone="Mars/Base")
    assert not ConnectorProfile.objects.exists()


def test_only_the_providers_stewards_may_save(gas, make_user, tmp_path):
    path, _truth = _odd_file(tmp_path, gas)
    proposal = propose(path=path, filename="odd.csv", resource=gas)
    for user in (make_user("housing"), make_user("water", steward=True)):
        with pytest.raises(PermissionError):
            save_proposal(user=user, resource=gas, proposal=proposal)
    assert not ConnectorProfile.objects.exists()


def test_header_units_crs_and_zone_from_the_header(gas, tmp_path):
    path = tmp_path / "stated.csv"
    rows = [f"GP{i:06d},{1751351400 + i * 60},黄浦区,{350 + i},31.23,121.47" for i in range(1, 12)]
    path.write_text(
        "测点编码,采集时间(UTC),区县,压力(kPa),纬度(BD-09),经度(BD-09)\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    proposal = propose(path=path, filename="stated.csv", resource=gas)
    assert [(u.field, u.unit, u.source) for u in proposal.units] == [("pressure", "kPa", "header")]
    assert (proposal.crs.crs, proposal.crs.source) == ("bd09", "header")
    (date,) = proposal.dates
    # Epoch seconds need no layout; the header says UTC.
    assert (date.layout, date.timezone, date.parsed) == ("", "UTC", 1.0)
    assert proposal.missing == []


def test_signature_ignores_order_spacing_and_width():
    assert header_signature(["压力(kPa)", "监测点 编号"]) == header_signature(
        ["监测点编号 ", "压力（kPa）", ""]
    )
    assert header_signature(["a", "b"]) != header_signature(["a", "c"])
    assert len(header_signature(["a"])) == 64 and np.unique([header_signature([])]).size == 1


@pytest.mark.parametrize(
    ("sample", "code"),
    [
        ("environment_air_quality.xlsx", "air-quality"),
        ("water_road_ponding.xlsx", "road-ponding"),
        ("fire_incidents.csv", "fire-incidents"),
    ],
)
def test_the_demo_samples_are_proposed_as_their_connectors_read_them(catalog, sample, code):
    """On files the connectors read, the assistant finds every column the load maps."""
    from pathlib import Path

    from connectors.pipeline.parsing import parse_file
    from connectors.profiles.resolve import connector_for

    resource = catalog["resources"][code]
    path = Path(__file__).resolve().parents[2] / "fixtures" / "samples" / sample
    proposal = propose(path=path, filename=sample, resource=resource)
    chunk = next(
        iter(
            parse_file(
                path=path,
                filename=sample,
                resource=resource,
                chunk_rows=50,
                connector=connector_for(resource),
            )
        )
    )
    loaded = set(chunk.raw.columns) - {
        w.column for w in chunk.warnings if w.code == "ignored_column"
    }
    proposed = {m.header for m in proposal.mapping}
    assert loaded <= proposed, loaded - proposed
    assert proposal.missing == [] and len(proposal.preview) == 10
