"""A smaller statistics sample for the columns a load's probe is planned on.

Every load of 50,000+ new records ends with ``ANALYZE hub_record (resource_id, key)``
(hub.pipeline: the next load's probe must be planned on fresh statistics). Its sample is
300 rows per unit of statistics target: 30,000 rows and 0.23 s at the default of 100,
7,500 rows and 0.05 s at 25. For planning lookups by (resource, key) that is plenty:
keys are near-unique, and a resource's share of the table is what matters.
"""

from django.db import migrations

TARGET = 25


def _set_target(target: int):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for column in ("resource_id", "key"):
                schema_editor.execute(
                    f"ALTER TABLE hub_record ALTER COLUMN {column} SET STATISTICS {int(target)}"
                )

    return apply


class Migration(migrations.Migration):
    dependencies = [("hub", "0006_row_fingerprints")]

    operations = [migrations.RunPython(_set_target(TARGET), _set_target(-1))]
