"""The unseen-file corpus (fixtures/samples/unseen/): files in shapes no connector class
knows, each loaded end to end with nothing but what a steward sets in the admin.

Per file: the catalog admin creates the resource through the catalog services (and the
code list a lookup needs), the provider's steward adds a connector profile on the admin's
接入配置 page, uploads the file through the ingest services, and every stored value is
compared with the values the generator made the file from (make_unseen.py: WGS-84
points before the GCJ-02/BD-09 offsets, clock times before formatting, values in the
field's unit).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from connectors import services
from connectors.models import ConnectorProfile
from connectors.pipeline import load as pipeline
from hub.catalog import services as catalog
from hub.catalog.models import DataResource, Department, FieldSpec
from hub.catalog.seed import latest_code_list, upsert_code_list, upsert_department
from hub.records.models import Record, UploadBatch

ROOT = Path(__file__).resolve().parents[2]
UNSEEN = ROOT / "fixtures" / "samples" / "unseen"


def _generator():
    spec = importlib.util.spec_from_file_location("make_unseen", UNSEEN / "make_unseen.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_unseen"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


make_unseen = _generator()
SAMPLES = {sample.filename: sample for sample in make_unseen.samples()}
# What a file's lookups need loaded first.
LOCATING = ("key_fields", "time_field", "district_field", "latitude_field", "longitude_field")
NEEDS = {"bridge_deflection.txt": ["bridge_registry.csv"]}


def test_the_corpus_is_committed_byte_for_byte(tmp_path):
    make_unseen.main(tmp_path)
    made = sorted(path.name for path in tmp_path.iterdir())
    assert len(made) >= 8 and made == sorted(SAMPLES)
    for name in made:
        assert (tmp_path / name).read_bytes() == (UNSEEN / name).read_bytes(), name


class World:
    """Departments, districts, a catalog admin and one steward per department."""

    def __init__(self, make_user):
        departments = {
            item["code"]: item
            for item in json.loads((ROOT / "fixtures" / "departments.json").read_text("utf-8"))
        }
        upsert_code_list(
            **json.loads((ROOT / "fixtures" / "districts.json").read_text(encoding="utf-8"))
        )
        for sample in SAMPLES.values():
            if not Department.objects.filter(code=sample.department).exists():
                upsert_department(**departments[sample.department])
        self.admin = make_user(superuser=True, username="catalog-admin")
        self.make_user = make_user
        self.stewards: dict[str, object] = {}

    def steward(self, department: str):
        if department not in self.stewards:
            self.stewards[department] = self.make_user(department, steward=True)
        return self.stewards[department]

    def create_resource(self, sample) -> DataResource:
        """The resource, as its catalog admin makes it with the catalog services."""
        for code_list in sample.code_lists:
            upsert_code_list(**code_list)
        spec = dict(sample.resource)
        fields = spec.pop("fields")
        resource = DataResource(
            code=spec["code"],
            name=spec["name"],
            summary=spec["name"],
            domain=spec["domain"],
            provider=Department.objects.get(code=sample.department),
            update_cycle="daily",
            sharing_type="unconditional",
            open_type="closed",
            # Checked against the fields once they exist (the status change below).
            **{name: spec[name] for name in LOCATING if name in spec},
        )
        catalog.create_resource(user=self.admin, resource=resource)
        for order, field in enumerate(fields):
            catalog.create_field_spec(
                user=self.admin,
                field_spec=FieldSpec(
                    resource=resource,
                    name=field["name"],
                    label=field["label"],
                    field_type=field["type"],
                    unit=field.get("unit", ""),
                    required=field.get("required", False),
                    min_value=field.get("min"),
                    max_value=field.get("max"),
                    pattern=field.get("pattern", ""),
                    enum=field.get("enum", []),
                    code_list=latest_code_list(field["code_list"])
                    if field.get("code_list")
                    else None,
                    order=order,
                ),
            )
        catalog.update_resource(user=self.admin, resource=resource, changes={"status": "published"})
        return DataResource.objects.get(pk=resource.pk)


def profile_form(resource: DataResource, department: Department, values: dict) -> dict:
    """The admin's add form for a profile, filled in with ``values``."""
    form = {
        "department": department.pk,
        "resource": resource.pk,
        "source_crs": "",
        "source_timezone": "",
        "district_naming": "",
        "note": "",
    }
    defaults = {
        "source_units": {},
        "date_layouts": [],
        "missing_values": [],
        "header_aliases": {},
        "value_aliases": {},
        "lookups": {},
    }
    for name, value in {**defaults, **values}.items():
        form[name] = (
            json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else value
        )
    return form


def onboard(world: World, client, sample) -> UploadBatch:
    """Resource, the steward's profile through the admin, then the upload and its load."""
    resource = world.create_resource(sample)
    department = Department.objects.get(code=sample.department)
    steward = world.steward(sample.department)
    client.force_login(steward)
    response = client.post(
        "/admin/connectors/connectorprofile/add/",
        profile_form(resource, department, sample.profile),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    profile = ConnectorProfile.objects.get(resource=resource, department=department)
    assert (profile.version, profile.created_by) == (1, steward)
    # 小数点为逗号 left 未定 unless the sample's steward sets it.
    assert profile.decimal_comma is sample.profile.get("decimal_comma")
    upload = services.create_batch(
        resource=resource,
        department=department,
        uploaded_by=steward,
        file=SimpleUploadedFile(sample.filename, (UNSEEN / sample.filename).read_bytes()),
        original_filename=sample.filename,
        accept_valid_rows=bool(sample.errors),
    )
    return pipeline.run_batch(batch_id=upload.batch.pk)


def assert_value(actual, expected, where: str) -> None:
    if isinstance(expected, tuple):  # a geopoint: stored "lon,lat", expected (lat, lon)
        lon, lat = (float(part) for part in actual.split(","))
        assert (lat, lon) == pytest.approx(expected, abs=2e-6), where
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert actual == pytest.approx(expected, abs=2e-6), where
    else:
        assert actual == expected and type(actual) is type(expected), where


@pytest.mark.django_db
@pytest.mark.parametrize("filename", sorted(SAMPLES))
def test_unseen_file_loads_with_only_a_stewards_profile(filename, make_user, client):
    world = World(make_user)
    for needed in NEEDS.get(filename, []):
        assert onboard(world, client, SAMPLES[needed]).status == "loaded"
    sample = SAMPLES[filename]
    batch = onboard(world, client, sample)

    assert batch.connector == "generic" and batch.profile_version == 1
    assert batch.status == ("partial" if sample.errors else "loaded"), batch.errors
    assert batch.errors == sample.errors
    # A sample states a warning by its code, or in full (code, column, params).
    assert [
        warning if isinstance(expected, dict) else warning["code"]
        for warning, expected in zip(batch.warnings, sample.warnings, strict=False)
    ] == sample.warnings, batch.warnings
    assert len(batch.warnings) == len(sample.warnings), batch.warnings
    assert (batch.rows_read, batch.inserted) == (
        len(sample.expected) + len(sample.errors),
        len(sample.expected),
    )
    resource = batch.resource
    stored = {r.source_row: r for r in Record.objects.filter(resource=resource, batch=batch)}
    assert sorted(stored) == [row for row, _data in sample.expected]
    for row, expected in sample.expected:
        record = stored[row]
        assert sorted(record.data) == sorted(expected), row
        for name, value in expected.items():
            assert_value(record.data[name], value, f"{filename} row {row} {name}")
        if resource.district_field:
            assert record.district_code == expected[resource.district_field]
        if resource.latitude_field:
            point = expected.get(resource.latitude_field)
            lat, lon = point if isinstance(point, tuple) else (point, expected["longitude"])
            assert (record.latitude, record.longitude) == pytest.approx((lat, lon), abs=2e-6)


@pytest.mark.django_db
def test_a_changed_registry_changes_what_is_looked_up(make_user, client):
    """Lookup tables are read per file and are part of the rows' parse context: after the
    registry gives 南浦大桥 a second id, the same readings find the name ambiguous."""
    from connectors.normalisers.schema import load_schema
    from connectors.pipeline.fingerprints import parse_context
    from connectors.profiles.resolve import connector_for

    world = World(make_user)
    registry = onboard(world, client, SAMPLES["bridge_registry.csv"])
    readings = onboard(world, client, SAMPLES["bridge_deflection.txt"])
    resource, department = readings.resource, readings.department

    def context() -> str:
        connector = connector_for(resource, department)
        schema = load_schema(resource, connector)
        return parse_context(
            resource=resource, connector=connector, schema=schema, headers=[], matches=[]
        )

    before = context()
    text = (UNSEEN / "bridge_registry.csv").read_bytes().decode("gb18030")
    renamed = text.replace("QL0001,南浦大桥", "QL0101,南浦大桥").encode("gb18030")
    upload = services.create_batch(
        resource=registry.resource,
        department=department,
        uploaded_by=world.steward("housing"),
        file=SimpleUploadedFile("bridges.csv", renamed),
        original_filename="bridges.csv",
    )
    assert pipeline.run_batch(batch_id=upload.batch.pk).status == "loaded"
    assert context() != before

    again = (UNSEEN / "bridge_deflection.txt").read_bytes() + "\r\n".encode("utf-16-le")
    upload = services.create_batch(
        resource=resource,
        department=department,
        uploaded_by=world.steward("housing"),
        file=SimpleUploadedFile("again.txt", again),
        original_filename="again.txt",
        accept_valid_rows=True,
    )
    batch = pipeline.run_batch(batch_id=upload.batch.pk)
    assert batch.errors[0] == {
        "row": 2,
        "column": "桥梁名称",
        "field": "bridge_id",
        "message": "'南浦大桥' 在“城市桥梁档案”的“桥梁名称”中"
        "对应多个值（QL0001、QL0101），无法确定",
    }
    assert batch.errors[1:] == SAMPLES["bridge_deflection.txt"].errors
