"""Catalog writes are checked per object and audited with old and new values
(issue 13, items 4 and 6): services, and the resource admin routed through them."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from guardian.shortcuts import assign_perm

from hub.catalog.models import DataResource, FieldSpec
from hub.catalog.services import (
    create_field_spec,
    create_resource,
    delete_field_spec,
    delete_resource,
    update_field_spec,
    update_resource,
)
from permissions.models import AuditEvent

pytestmark = pytest.mark.django_db

STEWARD_PERMS = (
    "add_dataresource",
    "change_dataresource",
    "delete_dataresource",
    "add_fieldspec",
    "change_fieldspec",
    "delete_fieldspec",
)


@pytest.fixture
def steward(catalog, make_user):
    """A water steward holding the catalog's model permissions (a catalog steward)."""
    user = make_user("water", steward=True)
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="catalog", codename__in=STEWARD_PERMS)
    )
    return type(user).objects.get(pk=user.pk)  # fresh permission cache


def events(action: str = "catalog_change") -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("sequence"))


def fresh(resource: DataResource) -> DataResource:
    return DataResource.objects.get(pk=resource.pk)


def test_sharing_type_change_is_audited_with_old_and_new(catalog, steward):
    ponding = catalog["resources"]["road-ponding"]
    result = update_resource(
        user=steward,
        resource=ponding,
        changes={
            "sharing_type": "conditional",
            "sharing_conditions": "仅用于防汛调度",
            "legal_basis": "《上海市防汛条例》",
        },
    )
    assert fresh(ponding).sharing_type == "conditional"
    [event] = events()
    assert result.event.pk == event.pk
    assert event.actor == steward.username and event.resource_code == "road-ponding"
    assert event.detail["object"] == "resource" and event.detail["op"] == "update"
    assert event.detail["changes"]["sharing_type"] == {"old": "unconditional", "new": "conditional"}
    assert event.detail["changes"]["legal_basis"]["new"] == "《上海市防汛条例》"
    assert set(event.detail["changes"]) == {"sharing_type", "sharing_conditions", "legal_basis"}


def test_steward_cannot_edit_another_departments_resource(catalog, steward):
    fire = catalog["resources"]["fire-incidents"]
    with pytest.raises(PermissionDenied):
        update_resource(user=steward, resource=fire, changes={"sharing_type": "unconditional"})
    with pytest.raises(PermissionDenied):
        delete_resource(user=steward, resource=fire)
    assert fresh(fire).sharing_type == "conditional"
    assert events() == []


def test_department_staff_without_model_permission_cannot_edit(catalog, make_user):
    staff = make_user("water")
    ponding = catalog["resources"]["road-ponding"]
    with pytest.raises(PermissionDenied):
        update_resource(user=staff, resource=ponding, changes={"name": "改名"})
    assert fresh(ponding).name != "改名" and events() == []


def test_manage_resource_holder_may_edit(catalog, make_user):
    outsider = make_user("cityops")
    fire = catalog["resources"]["fire-incidents"]
    assign_perm("manage_resource", outsider, fire)
    update_resource(user=outsider, resource=fire, changes={"summary": "新摘要"})
    assert fresh(fire).summary == "新摘要"
    assert events()[0].detail["changes"]["summary"]["new"] == "新摘要"


def test_failed_validation_rolls_back_and_writes_no_event(catalog, steward):
    ponding = catalog["resources"]["road-ponding"]
    with pytest.raises(ValidationError):
        # 有条件共享 needs conditions and a legal basis.
        update_resource(user=steward, resource=ponding, changes={"sharing_type": "conditional"})
    assert fresh(ponding).sharing_type == "unconditional" and events() == []


def test_no_change_writes_nothing(catalog, steward):
    ponding = catalog["resources"]["road-ponding"]
    result = update_resource(user=steward, resource=ponding, changes={"name": ponding.name})
    assert result.event is None and result.changes == {} and events() == []


def test_provider_cannot_be_handed_to_another_department(catalog, steward):
    ponding = catalog["resources"]["road-ponding"]
    fire_dept = catalog["departments"]["fire"]
    with pytest.raises(PermissionDenied):
        update_resource(user=steward, resource=ponding, changes={"provider": fire_dept})
    assert fresh(ponding).provider.code == "water" and events() == []


def test_create_only_for_own_department(catalog, steward):
    def new(provider: str, code: str) -> DataResource:
        return DataResource(
            code=code,
            name="测试资源",
            summary="测试",
            provider=catalog["departments"][provider],
            domain="drainage",
            update_cycle="daily",
            sharing_type="unconditional",
            key_fields=["id"],
        )

    with pytest.raises(PermissionDenied):
        create_resource(user=steward, resource=new("fire", "fire-new"))
    assert not DataResource.objects.filter(code="fire-new").exists()
    result = create_resource(user=steward, resource=new("water", "water-new"))
    [event] = events()
    assert event.detail["op"] == "create" and event.resource_code == "water-new"
    assert event.detail["changes"]["provider"] == {"old": None, "new": "water"}
    delete_resource(user=steward, resource=result.resource)
    assert not DataResource.objects.filter(code="water-new").exists()
    assert [e.detail["op"] for e in events()] == ["create", "delete"]


def test_field_specs_checked_and_audited(catalog, steward):
    fire = catalog["resources"]["fire-incidents"]
    fire_field = fire.fields.get(name="address")
    with pytest.raises(PermissionDenied):
        update_field_spec(user=steward, field_spec=fire_field, changes={"masking": "none"})
    with pytest.raises(PermissionDenied):
        delete_field_spec(user=steward, field_spec=fire_field)
    with pytest.raises(PermissionDenied):
        create_field_spec(
            user=steward,
            field_spec=FieldSpec(resource=fire, name="extra", label="附加", field_type="string"),
        )
    assert FieldSpec.objects.get(pk=fire_field.pk).masking == "address"
    assert events() == []

    ponding = catalog["resources"]["road-ponding"]
    depth = ponding.fields.get(name="depth")
    update_field_spec(user=steward, field_spec=depth, changes={"grade": 3, "unit": "cm"})
    created = create_field_spec(
        user=steward,
        field_spec=FieldSpec(resource=ponding, name="note", label="备注", field_type="string"),
    )
    delete_field_spec(user=steward, field_spec=created.field_spec)
    update, create, delete = events()
    assert update.detail["field"] == "depth" and update.fields == ["depth"]
    assert update.detail["changes"] == {"grade": {"old": 1, "new": 3}}  # unit was cm already
    assert fresh(ponding).grade == 3  # the derived dataset grade follows
    assert (create.detail["op"], create.detail["field"]) == ("create", "note")
    assert (delete.detail["op"], delete.detail["changes"]["label"]) == (
        "delete",
        {"old": "备注", "new": None},
    )


def resource_form(resource: DataResource, **overrides) -> dict:
    """The admin change form's POST data for ``resource`` and its field rows."""
    data = {
        "code": resource.code,
        "name": resource.name,
        "summary": resource.summary,
        "provider": resource.provider_id,
        "domain": resource.domain,
        "keywords": json.dumps(resource.keywords, ensure_ascii=False),
        "sharing_type": resource.sharing_type,
        "sharing_conditions": resource.sharing_conditions,
        "legal_basis": resource.legal_basis,
        "open_type": resource.open_type,
        "format": resource.format,
        "update_cycle": resource.update_cycle,
        "status": resource.status,
        "published_at": resource.published_at.isoformat() if resource.published_at else "",
        "key_fields": json.dumps(resource.key_fields),
        "time_field": resource.time_field,
        "district_field": resource.district_field,
        "latitude_field": resource.latitude_field,
        "longitude_field": resource.longitude_field,
    }
    specs = list(resource.fields.order_by("order", "id"))
    data.update(
        {
            "fields-TOTAL_FORMS": len(specs),
            "fields-INITIAL_FORMS": len(specs),
            "fields-MIN_NUM_FORMS": 0,
            "fields-MAX_NUM_FORMS": 1000,
        }
    )
    for i, spec in enumerate(specs):
        row = {
            "id": spec.pk,
            "resource": resource.pk,
            "order": spec.order,
            "name": spec.name,
            "label": spec.label,
            "field_type": spec.field_type,
            "unit": spec.unit,
            "min_value": "" if spec.min_value is None else spec.min_value,
            "max_value": "" if spec.max_value is None else spec.max_value,
            "pattern": spec.pattern,
            "enum": json.dumps(spec.enum, ensure_ascii=False),
            "code_list": spec.code_list_id or "",
            "grade": spec.grade,
            "masking": spec.masking,
        }
        if spec.required:
            row["required"] = "on"
        data.update({f"fields-{i}-{name}": value for name, value in row.items()})
    data.update(overrides)
    return data


def test_admin_change_goes_through_the_service(catalog, steward, client):
    ponding = catalog["resources"]["road-ponding"]
    depth_index = [f.name for f in ponding.fields.order_by("order", "id")].index("depth")
    client.force_login(steward)
    url = f"/admin/catalog/dataresource/{ponding.pk}/change/"
    response = client.post(
        url,
        resource_form(
            ponding,
            sharing_type="conditional",
            sharing_conditions="仅用于防汛",
            legal_basis="《防汛条例》",
            **{f"fields-{depth_index}-label": "积水深度（厘米）"},
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    resource_event, field_event = events()
    assert resource_event.detail["changes"]["sharing_type"] == {
        "old": "unconditional",
        "new": "conditional",
    }
    assert field_event.detail["field"] == "depth"
    assert field_event.detail["changes"]["label"]["new"] == "积水深度（厘米）"
    assert fresh(ponding).fields.get(name="depth").label == "积水深度（厘米）"


def test_admin_refuses_another_departments_resource(catalog, steward, client):
    fire = catalog["resources"]["fire-incidents"]
    client.force_login(steward)
    url = f"/admin/catalog/dataresource/{fire.pk}/change/"
    response = client.post(url, resource_form(fire, sharing_type="unconditional"))
    assert response.status_code == 403
    delete = client.post(f"/admin/catalog/dataresource/{fire.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    bulk = client.post(
        "/admin/catalog/dataresource/",
        {"action": "delete_selected", "_selected_action": [fire.pk], "post": "yes"},
    )
    assert bulk.status_code == 403
    assert fresh(fire).sharing_type == "conditional" and events() == []


def test_admin_add_form_refuses_another_provider(catalog, steward, client):
    client.force_login(steward)
    ponding = catalog["resources"]["road-ponding"]
    data = resource_form(ponding, code="fire-copy", provider=catalog["departments"]["fire"].pk)
    data.update({"fields-TOTAL_FORMS": 0, "fields-INITIAL_FORMS": 0})
    response = client.post("/admin/catalog/dataresource/add/", data)
    assert response.status_code == 200
    assert "只能为本部门创建数据资源" in response.content.decode()
    assert not DataResource.objects.filter(code="fire-copy").exists() and events() == []
