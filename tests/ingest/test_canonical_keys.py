"""One reading, three ways in (demo-style write, file upload, API push): one record,
whose key is spelt canonically (UTC instant with "Z", trimmed code)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.records.models import Record
from operations.samples import load_rows
from tests.ingest.helpers import gas_csv

pytestmark = pytest.mark.django_db(transaction=True)

UPLOAD = "/api/v1/resources/gas-pipeline-pressure/uploads/"
PUSH = "/api/v1/resources/gas-pipeline-pressure/records/"
KEY = "GP000000|2025-07-01T06:30:00Z"


def test_same_reading_from_demo_file_and_push_is_one_record(api_client, steward, gas):
    shanghai = dt.timezone(dt.timedelta(hours=8))
    # The demo writes ready-made rows: an aware datetime (isoformat "+08:00") and a
    # code with blanks around it.
    load_rows(
        resource=gas,
        label="demo",
        rows=[
            {
                "point_id": " GP000000\u3000",
                "observed_at": dt.datetime(2025, 7, 1, 14, 30, tzinfo=shanghai),
                "district": "310101",
                "pressure": 0.34,
                "latitude": 31.23,
                "longitude": 121.47,
            }
        ],
    )
    assert list(Record.objects.values_list("key", flat=True)) == [KEY]

    api_client.force_authenticate(steward)
    upload = SimpleUploadedFile("gas.csv", gas_csv(1).encode(), content_type="text/csv")
    response = api_client.post(UPLOAD, {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    assert (response.json()["inserted"], response.json()["updated"]) == (0, 1)

    pushed = {
        "point_id": "GP000000 ",
        "observed_at": "2025-07-01T06:30:00+00:00",
        "district": "310104",
        "pressure": 0.37,
        "latitude": 31.2,
        "longitude": 121.4,
    }
    response = api_client.post(PUSH, [pushed], format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["inserted"], response.json()["updated"]) == (0, 1)

    record = Record.objects.get()
    assert record.key == KEY
    assert record.data["pressure"] == 0.37 and record.batch_id == response.json()["id"]
