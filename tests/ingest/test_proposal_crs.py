"""The coordinate system a proposal shows is the one its preview uses and its saved
profile keeps: the department's declared CRS where the file does not tell, and the
steward's choice on the page whatever it is (WGS-84 included)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from connectors.proposal.engine import propose
from connectors.proposal.services import save_proposal
from hub.records.models import Record

pytestmark = pytest.mark.django_db(transaction=True)

# Three GPS points (too few for the district test): the file says nothing of its CRS.
ROWS = [
    ("GP700001", "31.2215", "121.5440"),
    ("GP700002", "31.2304", "121.4737"),
    ("GP700003", "31.1880", "121.4365"),
]


def _file(tmp_path):
    path = tmp_path / "gps.csv"
    lines = ["测点代码,监测时间,所属区,管网压力(MPa),纬度,经度"]
    lines += [f"{pid},2025-07-01 14:30,黄浦区,0.3,{lat},{lon}" for pid, lat, lon in ROWS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load(path) -> dict:
    out = StringIO()
    call_command("ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", stdout=out)
    return json.loads(out.getvalue())


def _stored() -> list[tuple[float, float]]:
    records = [Record.objects.get(key__startswith=f"{pid}|") for pid, _lat, _lon in ROWS]
    return [(record.latitude, record.longitude) for record in records]


def _save(path, gas, steward, *, crs: str):
    """The proposal for ``path`` saved by the steward with the CRS chosen on the page."""
    proposal = propose(path=path, filename="gps.csv", resource=gas)
    mapping = {"测点代码": "point_id"} | {m.header: m.field for m in proposal.mapping}
    return save_proposal(user=steward, resource=gas, proposal=proposal, mapping=mapping, crs=crs)


def test_without_evidence_the_proposal_shows_the_departments_declared_crs(gas, tmp_path):
    # The housing department's connector declares GCJ-02.
    proposal = propose(path=_file(tmp_path), filename="gps.csv", resource=gas)
    assert (proposal.crs.crs, proposal.crs.source) == ("gcj02", "profile")


@pytest.mark.parametrize("choice", ["wgs84", ""])
def test_the_stewards_wgs84_is_saved_and_the_points_stored_as_sent(gas, steward, tmp_path, choice):
    path = _file(tmp_path)
    saved = _save(path, gas, steward, crs=choice)
    assert saved.profile.source_crs == "wgs84"
    result = _load(path)
    assert (result["status"], result["inserted"]) == ("loaded", 3), result
    assert _stored() == [(float(lat), float(lon)) for _pid, lat, lon in ROWS]
    assert not [w for w in result.get("warnings", []) if "WGS-84" in w["message"]]


def test_the_declared_crs_confirmed_on_the_page_transforms_the_points(gas, steward, tmp_path):
    path = _file(tmp_path)
    saved = _save(path, gas, steward, crs="gcj02")
    assert saved.profile.source_crs == "gcj02"
    assert _load(path)["status"] == "loaded"
    for (lat, lon), (_pid, sent_lat, sent_lon) in zip(_stored(), ROWS, strict=True):
        # GCJ-02 → WGS-84 moves Shanghai points by a few hundred metres.
        assert 0.001 < abs(lat - float(sent_lat)) + abs(lon - float(sent_lon)) < 0.01
