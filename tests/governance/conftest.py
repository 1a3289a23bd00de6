"""Fixtures of the governance tests: the permission tests' records and grants, and a world
of one provider, three reading departments and one that does not read."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest

from hub.records.models import Record
from hub.records.recordstore import RecordStore
from tests.permissions.conftest import (  # noqa: F401
    _clear_throttle_cache,
    _fast_password_hasher,
    grant,
    records,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
RECORDS = "/api/v1/resources/fire-incidents/records/"
# Monday 2025-09-22 10:00: 5 working days later (23, 24, 25, 26, then Sunday 09-28, a 调休
# working day per 国办发明电〔2024〕12号) is Sunday 2025-09-28 10:00.
FILED = dt.datetime(2025, 9, 22, 10, 0, tzinfo=SHANGHAI)
DUE = dt.datetime(2025, 9, 28, 10, 0, tzinfo=SHANGHAI)
CLEAR_PHONE = "13812345678"


@pytest.fixture
def world(time_machine, catalog, records, grant, make_user, api_client):  # noqa: F811
    """fire provides fire-incidents; cityops, emergency and health read it under grants
    (caller_phone masked); police does not read it. Records loaded at FILED - 2 h."""
    time_machine.move_to(FILED - dt.timedelta(hours=3), tick=False)
    resource = records["fire-incidents"]
    for department in ("cityops", "emergency", "health"):
        grant(resource, department, days=365)
    users = {
        "fire": make_user("fire"),
        "cityops": make_user("cityops"),
        "emergency": make_user("emergency"),
        "health": make_user("health"),
        "police": make_user("police"),
        "bigdata": make_user("bigdata"),
    }
    # health reads before the last load of F1, emergency after it.
    api_client.force_authenticate(users["health"])
    assert api_client.get(RECORDS).status_code == 200
    time_machine.move_to(FILED - dt.timedelta(hours=2), tick=False)
    f1 = Record.objects.get(resource=resource, key="F1")
    RecordStore(resource).save([f1])  # a reload of F1
    time_machine.move_to(FILED - dt.timedelta(hours=1), tick=False)
    for name in ("emergency", "cityops"):
        api_client.force_authenticate(users[name])
        body = api_client.get(RECORDS).json()
        assert CLEAR_PHONE not in json.dumps(body, ensure_ascii=False)
    time_machine.move_to(FILED, tick=False)
    api_client.force_authenticate(None)
    return {"resource": resource, "users": users, "departments": catalog["departments"]}
