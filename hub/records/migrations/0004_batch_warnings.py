from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0003_canonical_keys"),
    ]

    operations = [
        migrations.AddField(
            model_name="uploadbatch",
            name="warnings",
            field=models.JSONField(blank=True, default=list, verbose_name="提示"),
        ),
    ]
