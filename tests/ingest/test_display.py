"""What stewards read in the admin: stored UTC times shown in Asia/Shanghai, geopoint
records loaded with their WGS-84 coordinates."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from hub.catalog.display import display_value, local_datetime_text
from hub.catalog.exports import table_schema_field
from hub.records.models import BatchStatus, Record, UploadBatch
from tests.ingest.helpers import park_sites

URL = "/admin/connectors/upload/park-sites/"
SITES_CSV = (
    "点位编号,核查时间,坐标,出入口坐标,核查日期,是否开放\n"
    'S1,2025-07-01 14:30,"31.230416,121.473701",POINT(121.48 31.24),2025/7/1,是\n'
    "S2,2025年7月2日 2时05分,１２１．４７，３１．２３,暂无,20250702,否\n"
    "S3,2025-07-03 00:00,上海市,—,,\n"
)


@pytest.fixture
def sites(db, catalog):
    return park_sites()


@pytest.mark.parametrize(
    ("value", "field_type", "shown"),
    [
        ("2025-07-01T06:30:00Z", "datetime", "2025-07-01 14:30:00"),
        ("2025-06-30T20:15:00Z", "datetime", "2025-07-01 04:15:00"),  # next local day
        ("2025-07-01T06:30:00", "datetime", "2025-07-01 14:30:00"),  # naive: UTC
        ("not a time", "datetime", "not a time"),
        ("2025-07-01", "date", "2025-07-01"),
        (True, "boolean", "是"),
        (False, "boolean", "否"),
        (None, "datetime", ""),
        (0.35, "number", "0.35"),
        ("121.473701,31.230416", "geopoint", "121.473701,31.230416"),
        ("310101", "code", "310101"),
    ],
)
def test_display_value(value, field_type, shown):
    assert display_value(value, field_type) == shown


def test_display_follows_the_current_time_zone():
    from django.utils import timezone

    with timezone.override("UTC"):
        assert local_datetime_text("2025-07-01T06:30:00Z") == "2025-07-01 06:30:00"
    with timezone.override("Europe/Paris"):
        assert local_datetime_text("2025-07-01T06:30:00Z") == "2025-07-01 08:30:00"


def test_preview_shows_local_times_dates_booleans_and_points(client, make_user, sites):
    client.force_login(make_user("parks", steward=True))
    response = client.post(URL, {"file": SimpleUploadedFile("sites.csv", SITES_CSV.encode())})
    batch = UploadBatch.objects.get()
    assert response["Location"] == f"{URL}{batch.pk}/preview/"
    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert [[cell["value"] for cell in row["cells"]] for row in preview.context["rows"]] == [
        [
            "S1",
            "2025-07-01 14:30:00",
            "121.473701,31.230416",
            "121.480000,31.240000",
            "2025-07-01",
            "是",
        ],
        ["S2", "2025-07-02 02:05:00", "121.470000,31.230000", "", "2025-07-02", "否"],
        # The rejected value is not stored: its red cell shows the file's text.
        ["S3", "2025-07-03 00:00:00", "上海市", "", "", ""],
    ]
    bad = preview.context["rows"][2]
    assert [cell["bad"] for cell in bad["cells"]] == [False, False, True, False, False, False]
    assert bad["errors"] == ["坐标: 无法识别的坐标：'上海市'（应为“经度,纬度”或 POINT(经度 纬度)）"]
    assert "<td>2025-07-01 14:30:00</td>" in html
    assert "Z</td>" not in html


@pytest.mark.django_db(transaction=True)
def test_geopoint_records_carry_wgs84_coordinates_and_admin_shows_local_time(
    client, make_user, sites
):
    client.force_login(make_user("parks", steward=True))
    good = "\n".join(SITES_CSV.splitlines()[:3]) + "\n"
    response = client.post(URL, {"file": SimpleUploadedFile("sites.csv", good.encode())})
    client.post(response["Location"], {"confirm": "1"})
    batch = UploadBatch.objects.get()
    assert batch.status == BatchStatus.LOADED and batch.inserted == 2
    rows = list(Record.objects.order_by("key").values_list("key", "latitude", "longitude", "data"))
    assert [row[:3] for row in rows] == [
        ("S1", 31.230416, 121.473701),
        ("S2", 31.23, 121.47),
    ]
    assert rows[0][3]["observed_at"] == "2025-07-01T06:30:00Z"  # stored in UTC
    assert rows[0][3]["location"] == "121.473701,31.230416"

    record = Record.objects.get(key="S1")
    client.force_login(make_user(superuser=True, username="root"))
    page = client.get(f"/admin/records/record/{record.pk}/change/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "<tr><th>核查时间</th><td>2025-07-01 14:30:00</td></tr>" in html
    assert "<tr><th>坐标</th><td>121.473701,31.230416</td></tr>" in html
    assert "<tr><th>是否开放</th><td>是</td></tr>" in html
    assert "2025-07-01T06:30:00Z" not in html
    listing = client.get("/admin/records/record/").content.decode()
    assert "2025年7月1日 14:30" in listing  # observed_at, localised by Django


def test_a_geopoint_names_both_coordinate_fields_or_neither(sites):
    sites.longitude_field = ""
    with pytest.raises(ValidationError) as refused:
        sites.full_clean()
    assert refused.value.message_dict["longitude_field"] == [
        "坐标类型的字段须同时填为纬度字段和经度字段。"
    ]
    sites.latitude_field = sites.longitude_field = "site_id"
    with pytest.raises(ValidationError) as refused:
        sites.full_clean()
    assert refused.value.message_dict["longitude_field"] == [
        "纬度字段与经度字段相同时，该字段必须是坐标类型。"
    ]
    sites.latitude_field = sites.longitude_field = "entrance"
    sites.full_clean()  # the other geopoint field is as good


def test_table_schema_declares_the_stored_geopoint_format(sites):
    descriptor = table_schema_field(sites.fields.get(name="location"))
    assert descriptor["type"] == "geopoint"
    assert descriptor["format"] == "default"  # "lon, lat"
