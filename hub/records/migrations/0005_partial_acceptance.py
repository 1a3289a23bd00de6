import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("records", "0004_batch_warnings"),
    ]

    operations = [
        migrations.AddField(
            model_name="uploadbatch",
            name="accept_valid_rows",
            field=models.BooleanField(
                default=False,
                help_text="加载有效行，把有错误的行留作更正批次；否则整批要么全部入库，要么全部不入库。",
                verbose_name="接受有效行",
            ),
        ),
        migrations.AddField(
            model_name="uploadbatch",
            name="correction_of",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="corrections",
                to="records.uploadbatch",
                verbose_name="更正对象",
            ),
        ),
        migrations.AlterField(
            model_name="uploadbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("received", "已接收"),
                    ("parsing", "解析中"),
                    ("validated", "已校验"),
                    ("loaded", "已入库"),
                    ("failed", "失败"),
                    ("rejected", "已拒绝"),
                    ("partial", "部分入库"),
                    ("correction", "待更正"),
                    ("corrected", "已更正"),
                ],
                default="received",
                max_length=16,
                verbose_name="状态",
            ),
        ),
    ]
