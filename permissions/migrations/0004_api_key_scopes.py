"""API key scopes (read, push); existing keys get ["read"], what they could do before."""

from django.db import migrations, models

import permissions.models


class Migration(migrations.Migration):
    dependencies = [
        ("permissions", "0003_audit_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnerapikey",
            name="scopes",
            field=models.JSONField(
                default=permissions.models.default_api_key_scopes,
                help_text="read：读取目录和记录；push：上传文件和推送记录（仅本部门提供的资源）。",
                verbose_name="权限范围",
            ),
        ),
    ]
