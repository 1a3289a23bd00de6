from django.db import migrations, models


def unchecked_is_undecided(apps, schema_editor):
    # False was the only "not checked" state: no profile said the comma is thousands.
    profile = apps.get_model("connectors", "ConnectorProfile")
    profile.objects.filter(decimal_comma=False).update(decimal_comma=None)


class Migration(migrations.Migration):
    dependencies = [
        ("connectors", "0007_profile_decimal_comma"),
    ]

    operations = [
        migrations.AlterField(
            model_name='connectorprofile',
            name='decimal_comma',
            field=models.BooleanField(blank=True, default=None, help_text='是：数值以逗号为小数点（如 0,75、1.234,5）。否：逗号为千分位。未定：分号分隔的 CSV 按小数点读逗号；其他文件只在每个带逗号的单元格都是千分位写法时按千分位读取，否则这些单元格记为行错误；同一文件中同一列的读法始终一致。', null=True, verbose_name='小数点为逗号'),
        ),
        migrations.RunPython(unchecked_is_undecided, migrations.RunPython.noop),
    ]
