"""A record's admin page lists the records merged into it (their old key and lineage),
read through the merged records' door."""

from __future__ import annotations

import pytest

from hub.records.models import Record, RecordMerge, UploadBatch

pytestmark = pytest.mark.django_db


def test_record_page_lists_merged_records(client, make_user, catalog):
    gas = catalog["resources"]["gas-pipeline-pressure"]
    batch = UploadBatch.objects.create(
        resource=gas, department=gas.provider, source="api", sha256="c" * 64
    )
    record = Record.objects.create(
        resource=gas, key="GP1|2025-07-01T06:30:00Z", data={}, content_hash="h"
    )
    RecordMerge.objects.create(
        resource=gas,
        key=record.key,
        merged_key="GP1|2025-07-01T06:30:00+00:00",
        batch=batch,
        source_row=4,
    )
    url = f"/admin/records/record/{record.pk}/change/"
    client.force_login(make_user("housing", steward=True))
    html = client.get(url).content.decode()
    assert f"<td>GP1|2025-07-01T06:30:00+00:00</td><td>#{batch.pk}</td><td>4</td>" in html
    assert RecordMerge.objects.restrict(make_user("water", steward=True), "view").count() == 0
