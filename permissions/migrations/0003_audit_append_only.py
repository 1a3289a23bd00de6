"""Make the audit log append-only in the database too, and create the chain head row."""

from django.db import migrations

PG_UP = """
CREATE OR REPLACE FUNCTION permissions_audit_reject_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'permissions_auditevent is append-only';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER permissions_auditevent_append_only
    BEFORE UPDATE OR DELETE ON permissions_auditevent
    FOR EACH ROW EXECUTE FUNCTION permissions_audit_reject_change();
"""
PG_DOWN = """
DROP TRIGGER IF EXISTS permissions_auditevent_append_only ON permissions_auditevent;
DROP FUNCTION IF EXISTS permissions_audit_reject_change();
"""
# SQLite only blocks UPDATE: Django's test flush empties tables with DELETE.
SQLITE_UP = """
CREATE TRIGGER permissions_auditevent_no_update BEFORE UPDATE ON permissions_auditevent
BEGIN SELECT RAISE(ABORT, 'permissions_auditevent is append-only'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS permissions_auditevent_no_update;"


def install(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_UP)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def uninstall(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_DOWN)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


def create_head(apps, schema_editor):
    apps.get_model("permissions", "AuditChainHead").objects.get_or_create(pk=1)


class Migration(migrations.Migration):
    dependencies = [("permissions", "0002_grants_requests_keys_audit")]

    operations = [
        migrations.RunPython(install, uninstall),
        migrations.RunPython(create_head, migrations.RunPython.noop),
    ]
