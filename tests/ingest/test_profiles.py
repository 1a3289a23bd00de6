"""Connector profiles as data: seeded from the Python connectors, versioned and audited,
edited by the department's steward in the admin, applied by the pipeline (CRS, units,
date layouts and time zone, missing markers, aliases), the version recorded per batch."""

from __future__ import annotations

import json
from io import StringIO

import pandas as pd
import pytest
from django.core.management import call_command

from connectors.models import ConnectorProfile
from connectors.normalisers import coordinates, dates
from connectors.profiles.departments.housing import HousingGasConnector
from connectors.profiles.resolve import connector_for
from connectors.profiles.versions import profile_errors, save_profile, seed_profiles
from hub.records.models import Record, UploadBatch
from permissions.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

HEADER = "监测点编号,采集时刻,所属区,管压,介质温度,压力级制,纬度,经度"
ROW = "GP000001,202507011430,黄浦区,350,无数据,中压A,31.2,121.4"


def _ingest(path) -> dict:
    out = StringIO()
    call_command("ingest", str(path), "--resource", "gas-pipeline-pressure", "--json", stdout=out)
    return json.loads(out.getvalue())


def _profile(gas, housing, **values) -> ConnectorProfile:
    return ConnectorProfile(department=housing, resource=gas, **values)


def test_seeded_from_the_python_connectors(gas, housing):
    created = seed_profiles()
    profile = ConnectorProfile.objects.get(department=housing, resource=gas)
    assert profile in created and profile.version == 1
    assert profile.source_crs == "gcj02"
    assert profile.source_units == {"pressure": "kPa", "temperature": "°C"}
    assert profile.header_aliases == HousingGasConnector.header_aliases
    assert profile.value_aliases == {"pressure_class": {"中压": "中压B", "次高": "次高压"}}
    assert seed_profiles() == []  # once
    connector = connector_for(gas, housing)
    assert isinstance(connector, HousingGasConnector) and connector.profile_version == 1
    assert AuditEvent.objects.filter(action="profile").count() == len(created)


def test_pipeline_applies_the_profile_and_records_its_version(gas, housing, tmp_path):
    first = save_profile(
        profile=_profile(
            gas,
            housing,
            source_crs="bd09",
            source_units={"pressure": "kPa"},
            date_layouts=["%Y%m%d%H%M"],
            source_timezone="UTC",
            missing_values=["无数据"],
            header_aliases={"observed_at": ["采集时刻"], "pressure": ["管压"]},
        ),
        user=None,
    )
    path = tmp_path / "gas.csv"
    path.write_text(f"{HEADER}\n{ROW}\n", encoding="utf-8")
    summary = _ingest(path)
    assert summary["status"] == "loaded", summary
    batch = UploadBatch.objects.get(pk=summary["batch"])
    assert batch.profile_version == first.version == 1
    record = Record.objects.get()
    # 202507011430 in UTC (the profile's zone), 350 kPa, "无数据" missing, BD-09 → WGS-84.
    assert record.key == "GP000001|2025-07-01T14:30:00Z"
    assert record.data["pressure"] == pytest.approx(0.35)
    assert record.data["temperature"] is None
    lat, lon = coordinates.to_wgs84([31.2], [121.4], "bd09")
    assert (record.latitude, record.longitude) == pytest.approx((lat[0], lon[0]))
    # The profile states the CRS and the units: nothing assumed but the temperature's unit.
    assert [w["code"] for w in summary["warnings"]] == ["assumed_unit"]

    second = save_profile(
        profile=ConnectorProfile.objects.get(pk=first.pk), user=None
    )  # the same values, saved again: a new version, the old one unchanged
    assert (second.version, second.pk != first.pk) == (2, True)
    assert ConnectorProfile.objects.get(pk=first.pk).version == 1
    path.write_text(f"{HEADER}\n{ROW.replace('350', '360')}\n", encoding="utf-8")
    assert UploadBatch.objects.get(pk=_ingest(path)["batch"]).profile_version == 2


def test_profile_values_are_checked(gas, housing):
    profile = _profile(
        gas,
        housing,
        source_units={"pressure": "furlongs", "nope": "kPa"},
        date_layouts=["YYYYMMDD"],
        source_timezone="Mars/Olympus",
        header_aliases={"nope": ["x"]},
    )
    errors = profile_errors(profile)
    assert set(errors) == {"source_units", "date_layouts", "source_timezone", "header_aliases"}
    assert "nope" in errors["source_units"] and "nope" in errors["header_aliases"]
    assert profile_errors(_profile(gas, housing, source_units={"pressure": "kPa"})) == {}


def test_steward_edits_the_departments_profile_in_the_admin(client, make_user, gas, housing):
    seed_profiles()
    steward = make_user("housing", steward=True)
    other = make_user("water", steward=True)
    profile = ConnectorProfile.objects.get(department=housing, resource=gas)
    url = f"/admin/connectors/connectorprofile/{profile.pk}/change/"
    client.force_login(other)
    assert client.get(url).status_code == 404
    client.force_login(steward)
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    data = {
        # None: 小数点为逗号 undecided, posted as the select's empty choice
        name: (json.dumps(value) if isinstance(value, dict | list) else value)
        if value is not None
        else ""
        for name, value in form.initial.items()
        if name in form.fields
    }
    data.update(source_crs="bd09", department=housing.pk, resource=gas.pk, day_first="")
    response = client.post(url, data)
    assert response.status_code == 302, page.context["adminform"].form.errors
    versions = list(
        ConnectorProfile.objects.filter(department=housing, resource=gas).values_list(
            "version", "source_crs", "created_by"
        )
    )
    assert versions == [(2, "bd09", steward.pk), (1, "gcj02", None)]
    assert connector_for(gas, housing).source_crs == "bd09"


def test_date_layouts_and_source_time_zone():
    series = pd.Series(["202507011430", "2025年7月1日 14时30分", "2025-07-01 14:30:00+08:00"])
    utc, _missing, bad = dates.parse_datetimes(series, layouts=("%Y%m%d%H%M",), tz="UTC")
    assert not bad.any()
    assert [v.isoformat() for v in utc] == [
        "2025-07-01T14:30:00+00:00",
        "2025-07-01T14:30:00+00:00",
        "2025-07-01T06:30:00+00:00",  # an offset in the text wins
    ]
    local, _missing, _bad = dates.parse_datetimes(series)
    assert [v.isoformat() for v in local][:2] == ["2025-07-01T06:30:00+00:00"] * 2
