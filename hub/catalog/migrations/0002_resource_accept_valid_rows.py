from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="dataresource",
            name="accept_valid_rows",
            field=models.BooleanField(
                default=False,
                help_text="上传的默认做法：加载有效行，把有错误的行留作更正批次；不勾选则整批要么全部入库，要么全部不入库。每次上传仍可另选。",
                verbose_name="接受有效行",
            ),
        ),
    ]
