import django.db.models.deletion
from django.db import migrations, models


def forget_content_type(apps, schema_editor):
    """Migrating back: the model is gone, so is its content type (and permissions)."""
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="records", model="recordmerge").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0001_initial"),
        ("records", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(migrations.RunPython.noop, forget_content_type),
        migrations.CreateModel(
            name="RecordMerge",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.CharField(max_length=255, verbose_name="主键")),
                ("merged_key", models.CharField(max_length=255, verbose_name="原主键")),
                (
                    "source_row",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="源文件行号"),
                ),
                ("data", models.JSONField(default=dict, verbose_name="数据")),
                (
                    "record_updated_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="原修改时间"),
                ),
                ("merged_at", models.DateTimeField(auto_now_add=True, verbose_name="合并时间")),
                (
                    "batch",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="records.uploadbatch",
                        verbose_name="原写入批次",
                    ),
                ),
                (
                    "resource",
                    models.ForeignKey(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="catalog.dataresource",
                        verbose_name="数据资源",
                    ),
                ),
            ],
            options={
                "verbose_name": "合并记录",
                "verbose_name_plural": "合并记录",
                "ordering": ["resource", "key", "merged_at", "id"],
                "indexes": [
                    models.Index(fields=["resource", "key"], name="records_merge_resource_key")
                ],
            },
        ),
    ]
