from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0005_partial_acceptance"),
    ]

    operations = [
        migrations.AddField(
            model_name="uploadbatch",
            name="profile_version",
            field=models.PositiveIntegerField(blank=True, null=True, verbose_name="接入配置版本"),
        ),
    ]
