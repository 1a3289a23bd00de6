"""Rewrite every stored natural key in its canonical spelling (hub.records.keys) and merge
the records whose keys differed only in spelling (``…+00:00`` from the demo, ``…Z`` from a
file, ``2.0`` / ``2``): the newest record of a group survives with the canonical key (and
the group's earliest creation time); each merged one leaves a ``RecordMerge`` row with its
old key, batch, source row and data. Source-row fingerprints hold keys: all are dropped.
Not reversible (the merged records are gone); migrating back leaves the keys canonical.
"""

from collections import defaultdict

from django.db import migrations

from hub.records.keys import recanonicalise

CHUNK = 500


def canonicalise_keys(apps, schema_editor):
    resource_model = apps.get_model("catalog", "DataResource")
    field_model = apps.get_model("catalog", "FieldSpec")
    record_model = apps.get_model("records", "Record")
    merge_model = apps.get_model("records", "RecordMerge")
    fingerprints = apps.get_model("records", "RowFingerprints")
    fingerprints.objects.all().delete()
    for resource in resource_model.objects.all().iterator():
        if not resource.key_fields:
            continue
        types = dict(
            field_model.objects.filter(resource_id=resource.pk).values_list("name", "field_type")
        )
        kinds = [types.get(name) for name in resource.key_fields]
        renamed = defaultdict(list)
        rows = record_model.objects.filter(resource_id=resource.pk).values_list("pk", "key")
        for pk, key in rows.iterator(chunk_size=5000):
            canonical = recanonicalise(key, kinds)
            if canonical != key:
                renamed[canonical].append(pk)
        targets = list(renamed)
        for offset in range(0, len(targets), CHUNK):
            _merge(record_model, merge_model, resource, renamed, targets[offset : offset + CHUNK])


def _merge(record_model, merge_model, resource, renamed, targets):
    holders = dict(
        record_model.objects.filter(resource_id=resource.pk, key__in=targets).values_list(
            "key", "pk"
        )
    )
    ids = [pk for key in targets for pk in renamed[key]] + list(holders.values())
    records = {r.pk: r for r in record_model.objects.filter(pk__in=ids)}
    merges, doomed, survivors = [], [], []
    for key in targets:
        group = [records[pk] for pk in renamed[key]]
        if key in holders:
            group.append(records[holders[key]])
        group.sort(key=lambda r: (r.updated_at, r.pk))
        survivor, losers = group[-1], group[:-1]
        for loser in losers:
            merges.append(
                merge_model(
                    resource_id=resource.pk,
                    key=key,
                    merged_key=loser.key,
                    batch_id=loser.batch_id,
                    source_row=loser.source_row,
                    data=loser.data,
                    record_updated_at=loser.updated_at,
                )
            )
            doomed.append(loser.pk)
        survivor.key = key
        survivor.created_at = min(r.created_at for r in group)
        survivors.append(survivor)
    merge_model.objects.bulk_create(merges)
    record_model.objects.filter(pk__in=doomed).delete()
    # updated_at is auto_now: bulk_update keeps the survivors' own (newest) values.
    record_model.objects.bulk_update(survivors, ["key", "created_at"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [
        ("records", "0002_record_merge"),
    ]

    operations = [
        migrations.RunPython(canonicalise_keys, migrations.RunPython.noop),
    ]
