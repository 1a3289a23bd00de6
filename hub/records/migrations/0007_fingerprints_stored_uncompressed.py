"""Source-row fingerprints are stored without PostgreSQL's own compression.

``RowFingerprints.data`` is an lz4-compressed Arrow IPC stream (about 25 bytes a row).
Under the default storage PostgreSQL ran its own compression over it on every load, in
the load's transaction before the commit, found nothing to gain and stored it as it came
(bench/README-ingest.md has the server time it cost). ``EXTERNAL`` keeps it out of line
as before, without the attempt. Rows stored earlier stay as they are; SQLite has no such
setting.
"""

from django.db import migrations


def _set_storage(storage: str):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"ALTER TABLE hub_rowfingerprints ALTER COLUMN data SET STORAGE {storage}"
            )

    return apply


class Migration(migrations.Migration):
    dependencies = [("records", "0006_batch_profile_version")]

    operations = [migrations.RunPython(_set_storage("EXTERNAL"), _set_storage("EXTENDED"))]
