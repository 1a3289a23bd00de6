"""Fixtures of the permission tests: records, grants, API keys, a caller factory."""

from __future__ import annotations

import datetime as dt
import hashlib
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.utils import timezone

FIRE_ROWS = [
    # key, district, phone, address, lat, lon
    ("F1", "310101", "13812345678", "黄浦区南京东路100号", 31.23, 121.48),
    ("F2", "310104", "13900001111", "徐汇区漕溪北路1号", 31.19, 121.43),
    ("F3", "310115", "13711112222", "浦东新区世纪大道8号", 31.22, 121.54),
]


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    """Test users need no slow password hashing (PBKDF2 dominates setup otherwise)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    """Throttle counters live in the cache; every test starts from zero."""
    cache.clear()
    yield
    cache.clear()


def make_record(resource, key: str, data: dict, *, district: str = "", lat=None, lon=None):
    """One Record written directly through the ORM (no ingest pipeline)."""
    from hub.records.models import Record

    return Record.objects.create(
        resource=resource,
        key=key,
        data=data,
        observed_at=timezone.now() - dt.timedelta(hours=1),
        district_code=district,
        latitude=lat,
        longitude=lon,
        content_hash=hashlib.md5(key.encode(), usedforsecurity=False).hexdigest(),
        source_row=1,
    )


def fire_data(key, district, phone, address, lat, lon) -> dict:
    return {
        "incident_id": key,
        "reported_at": "2026-07-01T14:30:00+08:00",
        "district": district,
        "incident_type": '=HYPERLINK("x")' if key == "F1" else "火灾",
        "address": address,
        "casualties": 0,
        "caller_phone": phone,
        "latitude": lat,
        "longitude": lon,
    }


@pytest.fixture
def records(catalog):
    """Three records in fire-incidents (有条件共享), and one per other sharing type."""
    resources = catalog["resources"]
    for key, district, phone, address, lat, lon in FIRE_ROWS:
        make_record(
            resources["fire-incidents"],
            key,
            fire_data(key, district, phone, address, lat, lon),
            district=district,
            lat=lat,
            lon=lon,
        )
    make_record(
        resources["public-security-incidents"],
        "P1",
        {
            "case_id": "P1",
            "reported_at": "2026-07-01T10:00:00+08:00",
            "district": "310101",
            "category": "盗窃",
            "address": "黄浦区人民大道200号",
            "reporter_name": "张三丰",
            "reporter_id_number": "310101199001011234",
            "reporter_phone": "13812345678",
        },
        district="310101",
    )
    make_record(
        resources["road-ponding"],
        "R1",
        {
            "point_id": "R1",
            "observed_at": "2026-07-01T10:00:00+08:00",
            "district": "310104",
            "road_name": "漕溪北路",
            "depth": 12.5,
            "latitude": 31.19,
            "longitude": 121.43,
        },
        district="310104",
        lat=31.19,
        lon=121.43,
    )
    return resources


@pytest.fixture
def grant(db):
    """grant(resource, department_code, **scope) -> AccessGrant through the service."""
    from hub.catalog.models import Department
    from permissions.services import grant_access

    def make(resource, department: str, *, days: float = 30, **scope):
        return grant_access(
            user=None,
            resource=resource,
            department=Department.objects.get(code=department),
            expires_at=timezone.now() + dt.timedelta(days=days),
            **scope,
        )

    return make


@pytest.fixture
def key_client(db):
    """key_client(department_code) -> (APIClient with the key header, PartnerApiKey)."""
    from rest_framework.test import APIClient

    from hub.catalog.models import Department
    from permissions.api_key_services import create_api_key

    def make(department: str, **kwargs):
        api_key, key = create_api_key(
            department=Department.objects.get(code=department), name="partner", **kwargs
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
        return client, api_key

    return make


SHANGHAI = ZoneInfo("Asia/Shanghai")
# One morning on each day of a week (Monday 2026-03-02 to Sunday 2026-03-08; 10:00 in
# Shanghai is the same date in UTC) and the date 10 working days later. Deadline tests run
# with the clock frozen at each of them, so they pass whatever day the suite runs on.
WEEK = {
    "mon": (dt.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 16)),
    "tue": (dt.datetime(2026, 3, 3, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 17)),
    "wed": (dt.datetime(2026, 3, 4, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 18)),
    "thu": (dt.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 19)),
    "fri": (dt.datetime(2026, 3, 6, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 20)),
    "sat": (dt.datetime(2026, 3, 7, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 20)),
    "sun": (dt.datetime(2026, 3, 8, 10, 0, tzinfo=SHANGHAI), dt.date(2026, 3, 20)),
}


@pytest.fixture(params=list(WEEK))
def each_weekday(request, time_machine):
    """(now, date 10 working days later), with the clock frozen at ``now``: one run per
    weekday. List it before fixtures that create data, so they see the frozen clock too."""
    now, due = WEEK[request.param]
    time_machine.move_to(now, tick=False)
    return now, due
