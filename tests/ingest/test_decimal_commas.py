"""Decimal commas end to end: a ";"-delimited CSV reads them without a profile (and says
so in a notice), the proposal proposes 小数点为逗号 from the delimiter or the cells, and a
column's comma reading is decided once for the whole file (never two readings in one file)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation

from connectors import services
from connectors.models import ConnectorProfile
from connectors.pipeline import load
from connectors.profiles.versions import save_profile
from hub.records.models import BatchStatus, Record, UploadBatch
from hub.records.notices import rendered

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "泵站编号{d}监测时间{d}所属区{d}排水能力(m³/s)\n"


def _pumps(catalog):
    return catalog["resources"]["pump-station-operation"]


def _write(tmp_path, name: str, delimiter: str, cells: list[str]) -> object:
    rows = [HEADER.format(d=delimiter)]
    for i, cell in enumerate(cells):
        quoted = f'"{cell}"' if delimiter == "," and "," in cell else cell
        rows.append(delimiter.join([f"BZ{i:03d}", "2025-07-01 14:30:00", "黄浦区", quoted]) + "\n")
    path = tmp_path / name
    path.write_text("".join(rows), encoding="utf-8")
    return path


def _load(catalog, path, **options):
    water = catalog["departments"]["water"]
    upload = services.create_batch(
        resource=_pumps(catalog),
        department=water,
        file=path,
        original_filename=path.name,
        **options,
    )
    return services.run_batch(batch_id=upload.batch.pk)


def _stored(batch) -> list[float]:
    records = Record.objects.filter(batch=batch).order_by("source_row")
    return [record.data["capacity"] for record in records]


COLUMN = "排水能力(m³/s)"


def test_semicolon_file_reads_decimal_commas_without_a_profile(catalog, tmp_path, monkeypatch):
    # Two rows a chunk: the column's reading is noted once, with the cell that decided.
    monkeypatch.setattr(load, "CHUNK_ROWS", 2)
    cells = ["6", "12,500", "0,750", "4,125", "1.234,5"]
    batch = _load(catalog, _write(tmp_path, "semi.csv", ";", cells))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [6.0, 12.5, 0.75, 4.125, 1234.5]
    assert batch.warnings == [
        {
            "code": "decimal_comma",
            "column": COLUMN,
            "params": {"row": 3, "example": "12,500", "value": "12.5"},
        }
    ]
    with translation.override("zh-hans"):
        [zh] = rendered(batch.warnings)
    assert zh["message"] == (
        "逗号按小数点读取（如第 3 行 '12,500' 读作 12.5）：文件以分号分隔，"
        "接入配置未指定“小数点为逗号”。如不对，请在接入配置中设置“小数点为逗号”。"
    )
    with translation.override("en"):
        [en] = rendered(batch.warnings)
    assert en["message"].startswith(
        "Commas were read as decimal points (e.g. row 3 '12,500' as 12.5): the file is "
        "semicolon-delimited"
    )


def test_semicolon_file_with_dot_decimals_reads_its_commas_as_thousands(catalog, tmp_path):
    # "3.25" says the dot is the decimal point: "1,250" beside it is 1250, not 1.25. No
    # cell proves it ("1,250" can be a decimal comma): noted.
    batch = _load(catalog, _write(tmp_path, "semi.csv", ";", ["3.25", "1,250", "12,500"]))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [3.25, 1250.0, 12500.0]
    assert batch.warnings == [
        {
            "code": "thousands_comma",
            "column": COLUMN,
            "params": {"row": 3, "example": "1,250", "value": "1250"},
        }
    ]
    with translation.override("zh-hans"):
        assert rendered(batch.warnings)[0]["message"] == (
            "逗号按千分位读取（如第 3 行 '1,250' 读作 1250）：本列有以点为小数点的值，"
            "接入配置未指定“小数点为逗号”。如逗号是小数点，请在接入配置中将“小数点为逗号”设为“是”。"
        )


@pytest.mark.parametrize(
    "cells",
    [
        ["12,345.6", "1,250", "875.5"],  # "12,345.6" can only be thousands
        ["1,234,567", "3.25"],
        ["0.082", "2.000", "6"],  # no comma: dots are decimal points, as before
    ],
)
def test_semicolon_file_whose_cells_prove_the_reading_notes_nothing(catalog, tmp_path, cells):
    batch = _load(catalog, _write(tmp_path, "semi.csv", ";", cells))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert batch.warnings == []


def test_comma_file_keeps_thousands(catalog, tmp_path):
    # The thousands separator is what a comma means in a "," file: nothing to note.
    batch = _load(catalog, _write(tmp_path, "comma.csv", ",", ["12,500", "1,250", "6"]))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [12500.0, 1250.0, 6.0]
    assert batch.warnings == []


def test_decimal_comma_notice_in_cli_text_and_json(catalog, tmp_path):
    path = _write(tmp_path, "semi.csv", ";", ["12,500", "6"])
    out = StringIO()
    call_command("ingest", str(path), "--resource", "pump-station-operation", "--json", stdout=out)
    [warning] = json.loads(out.getvalue())["warnings"]
    assert (warning["code"], warning["column"]) == ("decimal_comma", COLUMN)
    assert warning["message"].startswith("逗号按小数点读取（如第 2 行 '12,500' 读作 12.5）")
    path = _write(tmp_path, "semi2.csv", ";", ["12,750", "7"])
    out = StringIO()
    call_command("ingest", str(path), "--resource", "pump-station-operation", stdout=out)
    line = f"  warning [{COLUMN}]: 逗号按小数点读取（如第 2 行 '12,750' 读作 12.75）"
    assert line in out.getvalue()


def test_profile_saying_thousands_wins_over_the_semicolon(catalog, tmp_path):
    water = catalog["departments"]["water"]
    save_profile(
        profile=ConnectorProfile(department=water, resource=_pumps(catalog), decimal_comma=False),
        user=None,
    )
    batch = _load(catalog, _write(tmp_path, "semi.csv", ";", ["12,500", "1,250"]))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [12500.0, 1250.0]
    assert batch.warnings == []  # the profile decided: nothing assumed


def test_a_later_chunk_cannot_read_the_column_another_way(catalog, tmp_path, monkeypatch):
    # Three rows a chunk: the first chunk has only thousands-like cells, the second a
    # decimal comma. The first chunk decides (thousands) for the whole file: the second
    # chunk's "2,125" is read the same way and its "0,5" is a row error that says why.
    monkeypatch.setattr(load, "CHUNK_ROWS", 3)
    cells = ["1,250", "2,500", "7", "2,125", "0,5", "3"]
    batch = _load(catalog, _write(tmp_path, "chunks.csv", ",", cells), accept_valid_rows=True)
    assert batch.status == BatchStatus.PARTIAL
    assert _stored(batch) == [1250.0, 2500.0, 7.0, 2125.0, 3.0]
    [error] = batch.errors
    assert (error["row"], error["column"]) == (6, "排水能力(m³/s)")
    assert error["message"].startswith(
        "'0,5' 中的逗号只能是小数点，但本列前面的行已按千分位读取逗号（第 2 行 '1,250'）"
    )


def test_a_first_chunk_with_a_decimal_comma_reads_no_comma(catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_ROWS", 3)
    cells = ["1,250", "0,5", "7", "2,125", "3"]
    batch = _load(catalog, _write(tmp_path, "chunks.csv", ",", cells), accept_valid_rows=True)
    assert _stored(batch) == [7.0, 3.0]
    assert [e["row"] for e in batch.errors] == [2, 3, 5]


def _propose(catalog, path) -> dict:
    out = StringIO()
    call_command(
        "ingest", str(path), "--resource", "pump-station-operation", "--propose", stdout=out
    )
    return json.loads(out.getvalue())


@pytest.mark.parametrize(
    ("delimiter", "cells", "expected"),
    [
        (";", ["12,500", "4,125"], (True, "delimiter", ["12,500", "4,125"])),
        (";", ["1,250", "3.25"], (None, "none", [])),  # the dot is its decimal point
        (",", ["0,75", "1.234,5", "6"], (True, "cells", ["0,75", "1.234,5"])),
        (",", ["1,234.5", "6"], (False, "cells", ["1,234.5"])),
        (",", ["1,250", "6"], (None, "none", [])),
        (",", ["0,75", "1,234.5"], (None, "mixed", ["0,75", "1,234.5"])),
    ],
)
def test_propose_json_says_decimal_comma(catalog, tmp_path, delimiter, cells, expected):
    proposal = _propose(catalog, _write(tmp_path, "p.csv", delimiter, cells))
    decimal_comma, source, examples = expected
    assert proposal["commas"] == {
        "decimal_comma": decimal_comma,
        "source": source,
        "examples": examples,
    }


def test_page_proposes_decimal_comma_and_saves_it(client, make_user, catalog, tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text(
        "站号;采集时刻;所属区;排水能力(m³/s)\n"
        "BZ001;2025-07-01 14:30:00;黄浦区;12,500\n"
        "BZ002;2025-07-01 14:30:00;徐汇区;0,750\n",
        encoding="utf-8",
    )
    rejected = _load(catalog, path)
    assert rejected.status == BatchStatus.REJECTED
    steward = make_user("water", steward=True)
    client.force_login(steward)
    url = reverse("admin:connectors_upload_propose", args=["pump-station-operation", rejected.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["decimal_comma"] == "yes"
    html = page.content.decode()
    assert 'id="proposal-decimal-comma"' in html and "分号分隔的文件" in html
    proposal = page.context["proposal"]
    assert [row["values"][-1] for row in proposal.preview][:2] != []
    form = {f"header-{i}": h for i, h in enumerate(proposal.headers)}
    fields = {"站号": "station_id", "采集时刻": "observed_at"}
    form.update(
        {f"map-{i}": fields.get(h) or proposal.field_for(h) for i, h in enumerate(proposal.headers)}
    )
    form.update({"crs": "", "decimal_comma": "yes", "save": "1", "unit-capacity": "m³/s"})
    assert client.post(url, form).status_code == 302
    assert ConnectorProfile.objects.get().decimal_comma is True
    again = tmp_path / "odd-again.csv"
    again.write_text(path.read_text(encoding="utf-8").replace("BZ002", "BZ003"), encoding="utf-8")
    batch = _load(catalog, again)
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [12.5, 0.75]
    assert UploadBatch.objects.count() == 2


def test_semicolon_file_with_dot_decimals_keeps_its_dots(catalog, tmp_path):
    # construction_dust.csv: ";"-delimited, "0.082" mg/m³ with a dot. The delimiter alone
    # must not turn "0.082" or "2.000" into thousands.
    batch = _load(catalog, _write(tmp_path, "dots.csv", ";", ["0.082", "2.000", "6"]))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [0.082, 2.0, 6.0]


def test_semicolon_column_read_with_dots_refuses_a_later_comma(catalog, tmp_path, monkeypatch):
    monkeypatch.setattr(load, "CHUNK_ROWS", 2)
    cells = ["2.000", "3", "4,5", "5"]
    batch = _load(catalog, _write(tmp_path, "dots.csv", ";", cells), accept_valid_rows=True)
    assert _stored(batch) == [2.0, 3.0, 5.0]
    assert [(e["row"], e["column"]) for e in batch.errors] == [(4, "排水能力(m³/s)")]


def test_a_leading_zero_dot_group_is_a_decimal_point_under_the_profile(catalog, tmp_path):
    water = catalog["departments"]["water"]
    save_profile(
        profile=ConnectorProfile(department=water, resource=_pumps(catalog), decimal_comma=True),
        user=None,
    )
    batch = _load(catalog, _write(tmp_path, "zero.csv", ";", ["0.082", "0,5", "1.250"]))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [0.082, 0.5, 1250.0]
    assert batch.warnings == []


# --- dots followed by exactly three digits: thousands or decimal? ---------------------

ZH_DOT = (
    "点按小数点读取（如第 2 行 '2.000' 读作 2，而不是 2000）：文件以分号分隔，本列每个带点的值"
    "点后都恰好是三位数字，点也可能是千分位；接入配置未指定“小数点为逗号”。如点是千分位，"
    "请在接入配置中将“小数点为逗号”设为“是”；如读法正确，请设为“否”。"
)
EN_DOT = (
    "Dots were read as decimal points (e.g. row 2 '2.000' as 2, not 2000): the file is "
    "semicolon-delimited and every value with a dot in this column has exactly three digits "
    "after it, so the dot may be a thousands separator; the connector profile leaves "
    "“Decimal comma” undecided. If the dot is a thousands separator, set “Decimal comma” to "
    "“Yes” in the connector profile; if the reading is right, set it to “No”."
)
DOTS = ["2.000", "1.500", "12.250", "7"]


def test_semicolon_column_of_three_digit_dots_says_how_it_read_them(catalog, tmp_path):
    batch = _load(catalog, _write(tmp_path, "dots.csv", ";", DOTS))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == [2.0, 1.5, 12.25, 7.0]
    assert batch.warnings == [
        {
            "code": "ambiguous_dot",
            "column": COLUMN,
            "params": {"row": 2, "example": "2.000", "value": "2", "other": "2000"},
        }
    ]
    with translation.override("zh-hans"):
        assert rendered(batch.warnings)[0]["message"] == ZH_DOT
    with translation.override("en"):
        assert rendered(batch.warnings)[0]["message"] == EN_DOT


def test_three_digit_dots_notice_in_cli_json(catalog, tmp_path):
    path = _write(tmp_path, "dots.csv", ";", DOTS)
    out = StringIO()
    call_command("ingest", str(path), "--resource", "pump-station-operation", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["warnings"] == [{"code": "ambiguous_dot", "column": COLUMN, "message": ZH_DOT}]


@pytest.mark.parametrize(
    ("decimal_comma", "stored"),
    [(True, [2000.0, 1500.0, 12250.0, 7.0]), (False, [2.0, 1.5, 12.25, 7.0])],
)
def test_the_profile_decides_three_digit_dots(catalog, tmp_path, decimal_comma, stored):
    water = catalog["departments"]["water"]
    profile = ConnectorProfile(
        department=water, resource=_pumps(catalog), decimal_comma=decimal_comma
    )
    save_profile(profile=profile, user=None)
    batch = _load(catalog, _write(tmp_path, "dots.csv", ";", DOTS))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert _stored(batch) == stored
    assert batch.warnings == []  # the profile decided: nothing assumed


@pytest.mark.parametrize(
    "cells",
    [
        ["2.000", "3.25"],  # "3.25": the dot is a decimal point
        ["2.000", "0.500"],  # so is "0.500" (a leading 0 groups nothing)
        ["2", "7"],  # no dot at all
    ],
)
def test_dots_the_cells_prove_are_not_noted(catalog, tmp_path, cells):
    batch = _load(catalog, _write(tmp_path, "dots.csv", ";", cells))
    assert batch.status == BatchStatus.LOADED, batch.errors
    assert batch.warnings == []


def test_a_comma_file_keeps_its_three_digit_dots_quietly(catalog, tmp_path):
    # In a "," file the comma separates fields: the dot is what a decimal point is there.
    batch = _load(catalog, _write(tmp_path, "dots.csv", ",", DOTS))
    assert _stored(batch) == [2.0, 1.5, 12.25, 7.0]
    assert batch.warnings == []
