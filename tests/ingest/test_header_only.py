"""A file with a header and no data rows delivers nothing: rejected with the reason, and
the resource's freshness is left as it was."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from hub.catalog.models import DataResource

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    "text",
    [
        "监测点编号,监测时间,所属区,管网压力(MPa)\n",
        "监测点编号,监测时间,所属区,管网压力(MPa)\n,,,\n\n",
    ],
)
def test_a_header_only_file_is_rejected_and_freshness_kept(gas, tmp_path, text):
    before = DataResource.objects.get(pk=gas.pk).last_loaded_at
    path = tmp_path / "header.csv"
    path.write_text(text, encoding="utf-8")
    out = StringIO()
    with pytest.raises(SystemExit):
        call_command(
            "ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", stdout=out
        )
    summary = json.loads(out.getvalue())
    assert (summary["status"], summary["rows_read"], summary["inserted"]) == ("rejected", 0, 0)
    assert summary["message"] == "文件只有表头，没有数据行，未入库。"
    assert DataResource.objects.get(pk=gas.pk).last_loaded_at == before
