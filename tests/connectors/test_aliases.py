"""Header aliases from the admin, header folding, JSON pushes and sheet choice."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.exceptions import ValidationError

from connectors.base import InputError
from connectors.models import HeaderAlias
from connectors.pipeline.parsing import parse_file, parse_records
from connectors.profiles.registry import GenericConnector

BODY = "GP000001,2025-07-01 14:30,黄浦,0.3\n"


def test_admin_alias_maps_a_new_header(resources, write, make_user):
    resource = resources["gas-pipeline-pressure"]
    path = write("a.csv", "编号,时间,区,管道内压力(kPa)\n" + "GP000001,2025-07-01 14:30,黄浦,300\n")
    with pytest.raises(InputError) as info:
        parse_file(path=path, filename="a.csv", resource=resource, connector=GenericConnector())
    assert info.value.message == "未找到表头：前 30 行中没有一行包含本资源的字段名称。"
    user = make_user("housing", steward=True)
    for field_name, alias in [
        ("point_id", "编号"),
        ("observed_at", "时间"),
        ("district", "区"),
        ("pressure", "管道内压力"),
    ]:
        HeaderAlias.objects.create(
            resource=resource, field_name=field_name, alias=alias, created_by=user
        )
    (chunk,) = parse_file(
        path=path, filename="a.csv", resource=resource, connector=GenericConnector()
    )
    assert chunk.errors == []
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)  # unit from the header


def test_alias_must_name_an_existing_field(resources):
    alias = HeaderAlias(resource=resources["gas-pipeline-pressure"], field_name="nope", alias="x")
    with pytest.raises(ValidationError) as info:
        alias.full_clean()
    assert info.value.message_dict == {"field_name": ["该资源没有字段“nope”。"]}
    assert str(HeaderAlias._meta.verbose_name) == "表头别名"


@pytest.mark.parametrize(
    "header",
    [
        "监测点编号,监测时间,所属区,管网压力",
        " 监测点编号 ,监测时间*,所属区（区县）,管网压力（MPa）",
        "point_id,observed_at,district,pressure",
        "监测点编号,监测 时间,所属区,管网压力 (MPa)",
    ],
)
def test_header_spellings(resources, write, header):
    (chunk,) = parse_file(
        path=write("h.csv", f"{header}\n{BODY}"),
        filename="h.csv",
        resource=resources["gas-pipeline-pressure"],
        connector=GenericConnector(),
    )
    assert chunk.errors == [], chunk.errors
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)


def test_parse_records_missing_required_key(resources):
    with pytest.raises(InputError) as info:
        parse_records(
            records=[{"point_id": "GP000001", "pressure": 1}],
            resource=resources["gas-pipeline-pressure"],
        )
    assert info.value.message == "缺少必填列：监测时间、所属区（文件的列：point_id、pressure）"


def test_parse_records_rejects_non_objects(resources):
    with pytest.raises(InputError) as info:
        parse_records(records=["x"], resource=resources["gas-pipeline-pressure"])
    assert info.value.message == 'JSON 内容必须是对象数组，例如 [{"字段": 值}, …]。'


def test_sheet_choice_by_name_and_index(resources, write):
    book = openpyxl.Workbook()
    book.active.title = "封面"
    data = book.create_sheet("数据")
    data.append(["监测点编号", "监测时间", "所属区", "管网压力"])
    data.append(["GP000001", "2025-07-01 14:30", "黄浦", 0.3])
    out = io.BytesIO()
    book.save(out)
    path = write("s.xlsx", out.getvalue())
    resource = resources["gas-pipeline-pressure"]
    for sheet in (None, "数据", 1):
        (chunk,) = parse_file(path=path, filename="s.xlsx", resource=resource, sheet=sheet)
        assert chunk.frame.loc[0, "point_id"] == "GP000001"
    with pytest.raises(InputError) as info:
        parse_file(path=path, filename="s.xlsx", resource=resource, sheet="汇总")
    assert info.value.message == "工作表“汇总”不存在，可选：封面、数据"
    with pytest.raises(InputError) as info:
        parse_file(path=path, filename="s.xlsx", resource=resource, sheet=0)
    assert info.value.message == "工作表“封面”是空的。"


def test_chunks_keep_row_numbers(resources, write):
    rows = "".join(f"GP{i:06d},2025-07-01 14:30,黄浦,0.3\n" for i in range(25))
    chunks = list(
        parse_file(
            path=write("c.csv", "标题\n监测点编号,监测时间,所属区,管网压力\n" + rows),
            filename="c.csv",
            resource=resources["gas-pipeline-pressure"],
            chunk_rows=10,
        )
    )
    assert [len(c.frame) for c in chunks] == [10, 10, 5]
    assert chunks[1].source_rows.tolist() == list(range(13, 23))
    assert chunks[2].frame.loc[0, "point_id"] == "GP000020"
    assert chunks[0].warnings == [] and chunks[1].warnings == []


def test_admin_shows_only_aliases_of_uploadable_resources(resources, make_user, rf):
    from django.contrib.admin.sites import site

    from connectors.admin import HeaderAliasAdmin

    gas = HeaderAlias.objects.create(
        resource=resources["gas-pipeline-pressure"], field_name="pressure", alias="管压"
    )
    HeaderAlias.objects.create(resource=resources["road-ponding"], field_name="depth", alias="水深")
    admin_page = HeaderAliasAdmin(HeaderAlias, site)
    request = rf.get("/")
    request.user = make_user("housing", steward=True)
    assert list(admin_page.get_queryset(request)) == [gas]
    field = admin_page.formfield_for_foreignkey(HeaderAlias._meta.get_field("resource"), request)
    assert set(field.queryset.values_list("provider__code", flat=True)) == {"housing"}
    request.user = make_user(superuser=True, username="root")
    assert admin_page.get_queryset(request).count() == 2


def test_unit_row_under_a_complete_header(resources, write):
    # The top row alone already names every field; the row below only carries units.
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["监测点编号", "监测时间", "所属区", "管网压力"])
    sheet.append([None, None, None, "(kPa)"])
    sheet.append(["GP000001", "2025-07-01 14:30", "黄浦", 300])
    out = io.BytesIO()
    book.save(out)
    (chunk,) = parse_file(
        path=write("u.xlsx", out.getvalue()),
        filename="u.xlsx",
        resource=resources["gas-pipeline-pressure"],
        connector=GenericConnector(),
    )
    assert chunk.source_rows.tolist() == [3]
    assert chunk.raw.columns[3] == "管网压力(kPa)"
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)
    assert chunk.errors == []


def test_steward_adds_an_alias_through_the_admin_form(resources, make_user, client, write):
    """The admin's add form: the alias is saved with its creator and used by the next
    parse; a field the resource lacks, or another department's resource, is refused."""
    gas, ponding = resources["gas-pipeline-pressure"], resources["road-ponding"]
    steward = make_user("housing", steward=True)
    client.force_login(steward)
    url = "/admin/connectors/headeralias/add/"
    assert client.get(url).status_code == 200

    refused = client.post(url, {"resource": gas.pk, "field_name": "nope", "alias": "管压"})
    assert refused.status_code == 200 and not HeaderAlias.objects.exists()
    foreign = client.post(url, {"resource": ponding.pk, "field_name": "depth", "alias": "水深"})
    assert foreign.status_code == 200 and "resource" in foreign.context["adminform"].form.errors
    assert not HeaderAlias.objects.exists()

    saved = client.post(url, {"resource": gas.pk, "field_name": "pressure", "alias": "管道内压力"})
    assert saved.status_code == 302
    alias = HeaderAlias.objects.get()
    assert (alias.alias, alias.field_name, alias.created_by) == ("管道内压力", "pressure", steward)
    path = write(
        "a.csv", "监测点编号,监测时间,所属区,管道内压力(kPa)\nGP000001,2025-07-01 14:30,黄浦,300\n"
    )
    (chunk,) = parse_file(path=path, filename="a.csv", resource=gas, connector=GenericConnector())
    assert chunk.errors == [] and chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)
