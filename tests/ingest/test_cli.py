"""``manage.py ingest``: JSON summary values and exit codes."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def _ingest(path, *extra):
    out = StringIO()
    call_command(
        "ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", *extra, stdout=out
    )
    return json.loads(out.getvalue())


def test_cli_loads_and_reports_json(gas, write_csv):
    summary = _ingest(write_csv(rows=12))
    assert summary["status"] == "loaded"
    assert (summary["rows_read"], summary["inserted"], summary["updated"]) == (12, 12, 0)
    assert (summary["unchanged"], summary["rejected"], summary["errors"]) == (0, 0, [])
    assert "duplicate_of" not in summary

    again = _ingest(write_csv(rows=12), "--department", "housing")
    assert again["duplicate_of"] == summary["batch"] == again["batch"]
    assert f"#{summary['batch']}" in again["message"]

    changed = _ingest(write_csv("c.csv", rows=12, changed=3))
    assert (changed["inserted"], changed["updated"], changed["unchanged"]) == (0, 1, 11)


def test_cli_rejected_exits_non_zero_with_errors(gas, write_csv, capsys):
    out = StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command(
            "ingest",
            str(write_csv(rows=3, bad_row=1)),
            "--resource",
            gas.code,
            "--json",
            stdout=out,
        )
    assert exit_info.value.code == 1
    summary = json.loads(out.getvalue())
    assert summary["status"] == "rejected" and summary["rejected"] == 1
    assert summary["errors"][0]["row"] == 3
    assert set(summary["errors"][0]) == {"row", "column", "message"}


def test_cli_unknown_resource(catalog, write_csv):
    with pytest.raises(CommandError):
        call_command("ingest", str(write_csv()), "--resource", "nope")


def test_cli_loads_a_json_file(gas, tmp_path):
    """A JSON upload (a list of objects keyed by the same headers as the CSV, or
    {"records": [...]}) loads like the CSV, numbers as JSON numbers."""
    from hub.records.models import Record
    from tests.ingest.helpers import gas_csv

    header, *lines = gas_csv(3).splitlines()
    records = [dict(zip(header.split(","), line.split(","), strict=True)) for line in lines]
    for record in records:
        record["管网压力(MPa)"] = float(record["管网压力(MPa)"])
    path = tmp_path / "gas.json"
    path.write_text(json.dumps({"records": records}, ensure_ascii=False), encoding="utf-8")
    summary = _ingest(path)
    assert (summary["status"], summary["inserted"], summary["rejected"]) == ("loaded", 3, 0)
    stored = Record.objects.get(batch_id=summary["batch"], key__startswith="GP000001")
    assert stored.data["pressure"] == pytest.approx(0.35) and stored.district_code == "310101"
