"""Validation rules of the catalog models."""

import pytest
from django.core.exceptions import ValidationError

from hub.catalog.models import DataResource, FieldSpec, Grade, SharingType
from hub.catalog.seed import upsert_resource


def _resource(catalog, **overrides) -> DataResource:
    values = dict(
        code="test-resource",
        name="测试资源",
        summary="摘要",
        provider=catalog["departments"]["water"],
        domain="drainage",
        update_cycle="daily",
        sharing_type=SharingType.UNCONDITIONAL,
        key_fields=["point_id"],
    )
    values.update(overrides)
    return DataResource(**values)


@pytest.mark.parametrize("sharing_type", [SharingType.CONDITIONAL, SharingType.NONE])
def test_restricted_sharing_needs_legal_basis(catalog, sharing_type):
    resource = _resource(catalog, sharing_type=sharing_type, sharing_conditions="限防汛使用")
    with pytest.raises(ValidationError) as excinfo:
        resource.full_clean()
    assert "legal_basis" in excinfo.value.message_dict


def test_conditional_sharing_needs_conditions(catalog):
    resource = _resource(catalog, sharing_type=SharingType.CONDITIONAL, legal_basis="条例第十条")
    with pytest.raises(ValidationError) as excinfo:
        resource.full_clean()
    assert set(excinfo.value.message_dict) == {"sharing_conditions"}


def test_unconditional_sharing_needs_no_basis(catalog):
    resource = _resource(catalog)
    resource.full_clean()  # raises on failure
    resource.save()
    assert DataResource.objects.get(code="test-resource").legal_basis == ""


def test_grade_is_highest_field_grade_and_follows_changes(catalog):
    resource = catalog["resources"]["gas-leak-alarms"]
    assert resource.grade == Grade.L3
    phone = resource.fields.get(name="phone")
    phone.grade = Grade.L4
    phone.save()
    resource.refresh_from_db()
    assert resource.grade == Grade.L4
    phone.delete()
    resource.refresh_from_db()
    assert resource.grade == Grade.L3


def test_grades_of_demo_resources(catalog):
    grades = {code: r.grade for code, r in catalog["resources"].items()}
    assert grades["public-security-incidents"] == Grade.L4
    assert grades["fire-incidents"] == Grade.L3
    assert grades["road-ponding"] == Grade.L1


def test_key_fields_must_name_existing_fields(catalog):
    resource = catalog["resources"]["road-ponding"]
    resource.key_fields = ["point_id", "no_such_field"]
    with pytest.raises(ValidationError) as excinfo:
        resource.full_clean()
    assert "no_such_field" in str(excinfo.value.message_dict["key_fields"])


def test_key_fields_must_be_a_list_of_names(catalog):
    resource = _resource(catalog, key_fields="point_id")
    with pytest.raises(ValidationError) as excinfo:
        resource.full_clean()
    assert "key_fields" in excinfo.value.message_dict


@pytest.mark.parametrize(
    ("changes", "bad_field"),
    [
        ({"min_value": 5, "max_value": 1}, "max_value"),
        ({"field_type": "code"}, "code_list"),
        ({"pattern": "([unclosed"}, "pattern"),
    ],
)
def test_fieldspec_validation(catalog, changes, bad_field):
    values = {"name": "extra", "label": "附加", "field_type": "number", **changes}
    field = FieldSpec(resource=catalog["resources"]["road-ponding"], **values)
    with pytest.raises(ValidationError) as excinfo:
        field.full_clean()
    assert bad_field in excinfo.value.message_dict


def test_upsert_resource_replaces_schema(catalog):
    provider = catalog["departments"]["water"]
    fields = [
        {"name": "point_id", "label": "编号", "type": "string", "required": True},
        {"name": "depth", "label": "深度", "type": "number", "unit": "cm", "grade": 2},
    ]
    resource = upsert_resource(
        code="road-ponding",
        provider=provider,
        fields=fields,
        name="道路积水",
        summary="改",
        domain="drainage",
        update_cycle="realtime",
        sharing_type="unconditional",
        key_fields=["point_id"],
        time_field="",
        district_field="",
        latitude_field="",
        longitude_field="",
    )
    assert list(resource.fields.values_list("name", flat=True)) == ["point_id", "depth"]
    assert resource.grade == 2


def test_upsert_resource_rejects_unknown_key_field(catalog):
    with pytest.raises(ValidationError):
        upsert_resource(
            code="new-one",
            provider=catalog["departments"]["water"],
            fields=[{"name": "a", "label": "甲", "type": "string"}],
            name="新",
            summary="摘要",
            domain="drainage",
            update_cycle="daily",
            sharing_type="unconditional",
            key_fields=["b"],
        )
    assert not DataResource.objects.filter(code="new-one").exists()
