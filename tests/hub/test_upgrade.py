"""A database of the previous layout (catalog and records inside the ``hub`` app)
upgrades forward with no data loss: tables, rows, content types, model permissions and
guardian's object permissions all survive the move to ``hub.catalog`` / ``hub.records``.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

pytestmark = pytest.mark.django_db(transaction=True)

# The migration state of main before the move.
BEFORE = [
    ("hub", "0008_batch_sheet"),
    ("permissions", "0004_api_key_scopes"),
    ("operations", "0002_reading_lean_writes"),
    ("connectors", "0002_batch_progress"),
    ("catalog", None),
    ("records", None),
]


def migrate_to(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    applied = [target for target in targets if target[1] is not None]
    return MigrationExecutor(connection).loader.project_state(applied).apps


def latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


def test_upgrade_from_the_hub_layout_keeps_everything():
    old = migrate_to(BEFORE)
    content_type = old.get_model("contenttypes", "ContentType")
    permission = old.get_model("auth", "Permission")
    group_model = old.get_model("auth", "Group")
    # What an existing installation holds: content types and permissions of hub models
    # (migrating back renamed the new apps' content types to ``hub``, as they were).
    assert not content_type.objects.filter(app_label__in=["catalog", "records"]).exists()
    resource_type, _ = content_type.objects.get_or_create(app_label="hub", model="dataresource")
    record_type, _ = content_type.objects.get_or_create(app_label="hub", model="record")
    upload, _ = permission.objects.get_or_create(
        content_type=resource_type, codename="upload_records", defaults={"name": "上传资源数据"}
    )
    view_records, _ = permission.objects.get_or_create(
        content_type=resource_type, codename="view_records", defaults={"name": "查看资源数据"}
    )
    group = group_model.objects.create(name="dept-fire")
    group.permissions.add(upload)
    department = old.get_model("hub", "Department").objects.create(
        code="fire", name="消防救援", short_name="消防", group=group
    )
    resource = old.get_model("hub", "DataResource").objects.create(
        code="fire-incidents",
        name="火警",
        summary="s",
        provider=department,
        domain="fire",
        update_cycle="daily",
        sharing_type="conditional",
        sharing_conditions="审批",
        legal_basis="依法",
        status="published",
        key_fields=["incident_id"],
    )
    old.get_model("hub", "FieldSpec").objects.create(
        resource=resource, name="incident_id", label="编号", field_type="string"
    )
    batch = old.get_model("hub", "UploadBatch").objects.create(
        resource=resource, department=department, source="csv", sha256="a" * 64
    )
    old.get_model("hub", "Record").objects.create(
        resource=resource,
        key="F1",
        data={"incident_id": "F1"},
        observed_at=timezone.now() - dt.timedelta(hours=1),
        content_hash="h",
        batch=batch,
        source_row=2,
    )
    old.get_model("permissions", "ResourceGroupPermission").objects.create(
        content_object=resource, group=group, permission=view_records
    )
    grant = old.get_model("permissions", "AccessGrant").objects.create(
        resource=resource, department=department, expires_at=timezone.now() + dt.timedelta(days=1)
    )

    new = migrate_to(latest())

    resources = new.get_model("catalog", "DataResource").objects.all()
    assert [(r.code, r.provider.code) for r in resources] == [("fire-incidents", "fire")]
    assert list(new.get_model("catalog", "FieldSpec").objects.values_list("name", flat=True)) == [
        "incident_id"
    ]
    record = new.get_model("records", "Record").objects.get()
    assert (record.key, record.data, record.batch_id) == ("F1", {"incident_id": "F1"}, batch.pk)
    assert new.get_model("records", "UploadBatch").objects.get().resource_id == resource.pk
    assert new.get_model("permissions", "AccessGrant").objects.get().pk == grant.pk
    # Content types moved with their models: permissions and guardian rows still apply.
    types = new.get_model("contenttypes", "ContentType").objects
    assert types.get(pk=resource_type.pk).app_label == "catalog"
    assert types.get(pk=record_type.pk).app_label == "records"
    assert not types.filter(app_label="hub", model__in=["dataresource", "record"]).exists()
    moved = new.get_model("auth", "Permission").objects.get(pk=upload.pk)
    assert (moved.content_type.app_label, moved.codename) == ("catalog", "upload_records")
    object_permission = new.get_model("permissions", "ResourceGroupPermission").objects.get()
    assert (object_permission.content_object_id, object_permission.permission_id) == (
        resource.pk,
        view_records.pk,
    )


def test_the_upgrade_runs_backwards_too():
    migrate_to(BEFORE)
    migrate_to(latest())
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)
