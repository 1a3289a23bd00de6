"""Value maps and lookups in connector profiles: the admin form names what is wrong, a
lookup reads only fields its steward reads in clear, and a load whose profile's author
lost that access is refused with the reason (never a silent empty lookup)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from connectors import services
from connectors.models import ConnectorProfile
from connectors.pipeline import load as pipeline
from connectors.profiles.versions import profile_errors, save_profile
from hub.records.models import Record
from permissions.services import grant_access

pytestmark = pytest.mark.django_db

ADD = "/admin/connectors/connectorprofile/add/"
JSON_FIELDS = {
    "source_units": {},
    "date_layouts": [],
    "missing_values": [],
    "header_aliases": {},
    "value_aliases": {},
    "lookups": {},
}


def _form(resource, department, **values) -> dict:
    """The admin's add form, JSON fields as typed in their text areas."""
    form = {"department": department.pk, "resource": resource.pk, "note": ""}
    for name in ("source_crs", "source_timezone", "district_naming"):
        form[name] = values.get(name, "")
    for name, default in JSON_FIELDS.items():
        form[name] = json.dumps(values.get(name, default), ensure_ascii=False)
    return form


def _errors(client, form) -> dict[str, list[str]]:
    response = client.post(ADD, form)
    assert response.status_code == 200  # the form again, with its errors
    return {
        name: list(errors) for name, errors in response.context["adminform"].form.errors.items()
    }


@pytest.fixture
def steward_client(client, make_user, catalog):
    client.force_login(make_user("housing", steward=True))
    return client


def test_the_admin_form_names_each_problem(steward_client, catalog):
    gas = catalog["resources"]["gas-pipeline-pressure"]
    housing = catalog["departments"]["housing"]
    cases = [
        (
            {"value_aliases": {"pressure_class": {"中压": "超高压"}}},
            "value_aliases",
            "“pressure_class”的取值映射“中压 → 超高压”无效：可选：低压、中压B、中压A、次高压。",
        ),
        (
            {"value_aliases": {"temperature": {"常温": "二十"}}},
            "value_aliases",
            "“temperature”的取值映射“常温 → 二十”无效：不是数值。",
        ),
        (
            {"value_aliases": {"district": {"浦东片区": "310199"}}},
            "value_aliases",
            "“district”的取值映射“浦东片区 → 310199”无效：不是代码表“上海市行政区划”中的代码。",
        ),
        (
            {"lookups": {"point_id": {"resource": "nope", "match": "a", "value": "b"}}},
            "lookups",
            "“point_id”的查找：没有资源“nope”。",
        ),
        (
            {
                "lookups": {
                    "point_id": {
                        "resource": "bridge-inventory",
                        "match": "名称",
                        "value": "bridge_id",
                    }
                }
            },
            "lookups",
            "“point_id”的查找：资源“bridge-inventory”没有字段“名称”。",
        ),
        (
            {"lookups": {"point_id": {"resource": "bridge-inventory"}}},
            "lookups",
            '“point_id”的查找应为 {"resource": 资源编码, "match": 按其匹配的字段, '
            '"value": 取其值的字段} 或 {"code_list": 代码表编码}。',
        ),
        (
            {"lookups": {"point_id": {"code_list": "no-such-list"}}},
            "lookups",
            "“point_id”的查找：没有代码表“no-such-list”。",
        ),
        ({"lookups": {"nope": {"code_list": "gb2260-shanghai"}}}, "lookups", "未知的字段：nope"),
        (
            {
                "lookups": {
                    "point_id": {
                        "resource": "public-security-incidents",
                        "match": "address",
                        "value": "case_id",
                    }
                }
            },
            "lookups",
            "“point_id”的查找：无权读取资源“110 治安警情”的记录。",
        ),
    ]
    for values, field, message in cases:
        assert _errors(steward_client, _form(gas, housing, **values)) == {field: [message]}
    assert not ConnectorProfile.objects.exists()


def test_a_lookup_needs_its_fields_in_clear(steward_client, catalog):
    """A grant of fire incidents masks the caller's phone: it may not be a lookup's key
    (the misses would tell which phone numbers are there); the incident id may."""
    gas = catalog["resources"]["gas-pipeline-pressure"]
    housing = catalog["departments"]["housing"]
    fire = catalog["resources"]["fire-incidents"]
    grant_access(
        user=None,
        resource=fire,
        department=housing,
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    masked = {"resource": "fire-incidents", "match": "caller_phone", "value": "incident_id"}
    errors = _errors(steward_client, _form(gas, housing, lookups={"point_id": masked}))
    assert errors == {
        "lookups": [
            "“point_id”的查找：资源“火灾及救援警情”的字段 caller_phone 对您不可见或已脱敏。"
        ]
    }
    clear = {"resource": "fire-incidents", "match": "incident_id", "value": "incident_id"}
    response = steward_client.post(ADD, _form(gas, housing, lookups={"point_id": clear}))
    assert response.status_code == 302
    assert ConnectorProfile.objects.get().lookups == {"point_id": clear}


def test_the_service_refuses_what_the_form_refuses(make_user, catalog):
    gas = catalog["resources"]["gas-pipeline-pressure"]
    housing = catalog["departments"]["housing"]
    steward = make_user("housing", steward=True)
    lookup = {"resource": "public-security-incidents", "match": "address", "value": "case_id"}
    profile = ConnectorProfile(department=housing, resource=gas, lookups={"point_id": lookup})
    assert profile_errors(profile) == {}  # no editor: only the shape is checked
    with pytest.raises(ValidationError) as refused:
        save_profile(profile=profile, user=steward)
    assert refused.value.message_dict == {
        "lookups": ["“point_id”的查找：无权读取资源“110 治安警情”的记录。"]
    }


def test_a_load_whose_author_lost_access_is_refused_with_the_reason(make_user, catalog):
    """The lookup reads as the profile's author: deactivated, the load stops at once."""
    housing = catalog["departments"]["housing"]
    health = catalog["resources"]["bridge-structural-health"]
    steward = make_user("housing", steward=True)
    profile = save_profile(
        profile=ConnectorProfile(
            department=housing,
            resource=health,
            header_aliases={"bridge_id": ["桥梁名称"]},
            lookups={
                "bridge_id": {
                    "resource": "bridge-inventory",
                    "match": "bridge_name",
                    "value": "bridge_id",
                }
            },
        ),
        user=steward,
    )
    assert profile.created_by == steward
    steward.is_active = False
    steward.save()
    upload = services.create_batch(
        resource=health,
        department=housing,
        uploaded_by=None,
        file=SimpleUploadedFile("h.csv", "桥梁名称,监测时间\n南浦大桥,2025-07-01 14:30\n".encode()),
        original_filename="h.csv",
    )
    batch = pipeline.run_batch(batch_id=upload.batch.pk)
    assert batch.status == "rejected"
    assert batch.message == (
        "接入配置的查找（bridge_id）无法使用：无权读取资源“城市桥梁基础信息”的记录。"
    )
    assert not Record.objects.filter(resource=health).exists()
