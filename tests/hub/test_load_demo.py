"""load_demo builds the demo city and is idempotent."""

import json
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from hub.catalog.models import CodeItem, DataResource, Department, FieldSpec, ResourceStatus


@pytest.fixture
def logins_file(tmp_path, monkeypatch):
    path = tmp_path / "demo_logins.json"
    monkeypatch.setattr("hub.demo.LOGINS_FILE", path)
    return path


def snapshot():
    user_model = get_user_model()
    return {
        "departments": Department.objects.count(),
        "resources": DataResource.objects.count(),
        "fields": FieldSpec.objects.count(),
        "districts": CodeItem.objects.filter(code_list__code="gb2260-shanghai").count(),
        "users": user_model.objects.count(),
        "passwords": dict(user_model.objects.values_list("username", "password")),
    }


def test_load_demo_builds_catalog_and_is_idempotent(db, logins_file):
    out = StringIO()
    call_command("load_demo", "--catalog-only", "--force", stdout=out)
    first = snapshot()
    assert first["departments"] == 15
    assert first["resources"] == 15
    assert first["fields"] == 121
    assert first["districts"] == 16
    assert first["users"] == 31  # admin + staff and steward for each of 15 departments
    assert DataResource.objects.filter(status=ResourceStatus.PUBLISHED).count() == 15

    logins = json.loads(logins_file.read_text())
    assert set(logins) == set(first["passwords"])
    assert f"admin              {logins['admin']}" in out.getvalue()
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password(logins["admin"])

    call_command("load_demo", "--catalog-only", "--force", stdout=StringIO())
    assert snapshot() == first
    assert json.loads(logins_file.read_text()) == logins


def test_demo_users_belong_to_their_department(db, logins_file):
    call_command("load_demo", "--catalog-only", "--force", stdout=StringIO())
    steward = get_user_model().objects.get(username="housing-steward")
    assert steward.has_perm("catalog.upload_records")
    assert set(steward.groups.values_list("name", flat=True)) == {"dept:housing", "role:steward"}
    staff = get_user_model().objects.get(username="housing-staff")
    assert not staff.has_perm("catalog.upload_records")


def test_load_demo_refuses_without_debug(db, settings, logins_file):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("load_demo", stdout=StringIO())
    assert Department.objects.count() == 0


def test_district_code_list(db, logins_file):
    call_command("load_demo", "--catalog-only", "--force", stdout=StringIO())
    pudong = CodeItem.objects.get(code_list__code="gb2260-shanghai", code="310115")
    assert pudong.name == "浦东新区"
    assert "南汇区" in pudong.aliases
    jingan = CodeItem.objects.get(code_list__code="gb2260-shanghai", code="310106")
    assert "闸北区" in jingan.aliases
