"""Oracles on masked fields: a grantee cannot tell hidden values apart through the API.

A resource whose key (an ID number), time, district and coordinates are all masked for
the grantee. Two worlds hold the same records except for those hidden values (ID numbers
that mask alike, other times, districts and places, in another key order). Every request
of the grantee, whatever its parameters (district, bbox, since, until, eq., order, cursor,
fields, format, page size, following next/previous links), gets the same answer in both
worlds: the same page, or the same 400 naming the parameter. The provider, who reads in
clear, does tell the worlds apart with the same requests (the test can fail).

Two things vary between two requests however the hidden values are, so answers are
compared without them: cursors are Fernet tokens (a random IV and the issue time in
each), so page links are compared by what they decode to; and an XLSX export carries the
clock in its zip entries' times (two-second steps), so the clock is frozen for the two
worlds. (Unfrozen, a run that crossed a two-second step between world A's and world B's
export saw different bytes: the flaky failure of the full PostgreSQL run.)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from urllib.parse import parse_qs, urlsplit

import pytest

from hub.api.record_pages import open_cursor
from hub.catalog.seed import upsert_resource
from hub.records.models import Record
from tests.permissions.conftest import make_record

URL = "/api/v1/resources/oracle-persons/records/"
CATEGORIES = ["盗窃", "诈骗", "纠纷"]
# (id number, time, district, lat, lon) per record and world. The ID numbers of a record
# mask alike in both worlds (310101********1234); their order differs between worlds.
WORLDS = {
    "A": [
        ("310101199001011234", "2026-07-01T08:00:00+08:00", "310101", 31.23, 121.48),
        ("310101198505055678", "2026-07-02T08:00:00+08:00", "310104", 31.19, 121.43),
        ("310101200012129999", "2026-07-03T08:00:00+08:00", "310115", 31.22, 121.54),
    ],
    "B": [
        ("310101200707071234", "2026-07-03T08:00:00+08:00", "310115", 31.22, 121.54),
        ("310101196006065678", "2026-07-01T08:00:00+08:00", "310101", 31.23, 121.48),
        ("310101199911119999", "2026-07-02T08:00:00+08:00", "310104", 31.19, 121.43),
    ],
}
HIDDEN = {"masking": "hide"}
REFUSED = {
    # parameter → query: each touches a hidden part, so each is a 400 naming it.
    "district": {"district": "310101"},
    "bbox": {"bbox": "121.40,31.18,121.45,31.20"},
    "since": {"since": "2026-07-02"},
    "until": {"until": "2026-07-01T12:00:00+08:00"},
    "eq.id_number": {"eq.id_number": "310101199001011234"},
    "eq.seen_at": {"eq.seen_at": "2026-07-01T08:00:00+08:00"},
    "eq.district": {"eq.district": "310101"},
    "eq.latitude": {"eq.latitude": "31.23"},
    "order": {"order": "key"},
}
ANSWERED = [
    {},
    {"page_size": "1"},
    {"page_size": "2"},
    {"eq.category": "诈骗"},
    {"fields": "id_number,category"},
    {"fields": "seen_at,district,latitude,longitude"},
    {"format": "csv"},
    {"format": "json"},
    {"format": "xlsx", "fields": "category"},
]


@pytest.fixture
def oracle_resource(catalog):
    """The resource (provider: police), shared on condition; bigdata granted all fields
    with none in clear."""
    resource = upsert_resource(
        code="oracle-persons",
        provider=catalog["departments"]["police"],
        name="人员核查（测试）",
        summary="键、时间、区划和坐标都对被授权方脱敏。",
        domain="public_security",
        update_cycle="daily",
        sharing_type="conditional",
        sharing_conditions="测试",
        legal_basis="测试",
        status="published",
        key_fields=["id_number"],
        time_field="seen_at",
        district_field="district",
        latitude_field="latitude",
        longitude_field="longitude",
        fields=[
            {"name": "id_number", "label": "身份证号", "type": "string", "grade": 3}
            | {"masking": "id_number"},
            {"name": "seen_at", "label": "时间", "type": "datetime"} | HIDDEN,
            {"name": "district", "label": "所属区", "type": "string"} | HIDDEN,
            {"name": "category", "label": "类别", "type": "string"},
            {"name": "latitude", "label": "纬度", "type": "number"} | HIDDEN,
            {"name": "longitude", "label": "经度", "type": "number"} | HIDDEN,
        ],
    )
    rows = WORLDS["A"]
    records = []
    for number, (key, *_rest) in enumerate(rows, start=1):
        record = make_record(resource, key, {})
        Record.objects.filter(pk=record.pk).update(source_row=number)
        records.append(record.pk)
    return resource, records


def enter_world(resource, records: list[int], world: str) -> None:
    """Give the records the hidden values of ``world``; everything else stays."""
    for pk, category, (key, moment, district, lat, lon) in zip(
        records, CATEGORIES, WORLDS[world], strict=True
    ):
        data = {
            "id_number": key,
            "seen_at": moment,
            "district": district,
            "category": category,
            "latitude": lat,
            "longitude": lon,
        }
        Record.objects.filter(pk=pk).update(
            key=key,
            data=data,
            observed_at=dt.datetime.fromisoformat(moment),
            district_code=district,
            latitude=lat,
            longitude=lon,
        )


def unsealed(response) -> bytes:
    """The body of a page with its links' cursors replaced by what they decode to."""
    body = json.loads(response.content)  # not .json(): the client caches that dict
    for direction in ("next", "previous"):
        if body.get(direction):
            link = urlsplit(body[direction])
            query = parse_qs(link.query)
            query["cursor"] = [open_cursor(query["cursor"][0])]
            body[direction] = [link.path, sorted(query.items())]
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def comparable(response) -> tuple[int, bytes]:
    if response.streaming:
        return response.status_code, b"".join(response.streaming_content)
    if response.status_code == 200 and "results" in response.json():
        return response.status_code, unsealed(response)
    return response.status_code, response.content


def answer(client, params: dict) -> tuple[int, bytes]:
    return comparable(client.get(URL, params))


def pages(client, params: dict) -> list[tuple[int, bytes]]:
    """A request and every page reached from it by next links, then previous links back."""
    seen = [answer(client, params)]
    response = client.get(URL, params)
    if response.status_code != 200 or response.streaming:
        return seen
    for direction in ("next", "previous"):
        link = response.json()[direction]
        walked = response
        while link:
            walked = client.get(link)
            seen.append(comparable(walked))
            link = walked.json()[direction] if walked.status_code == 200 else None
        if direction == "next":
            response = walked  # walk back from the last page
    return seen


def cursor_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["cursor"][0]


def crafted_cursors(client) -> dict[str, str]:
    """Cursors a caller could make: DRF's old clear-key form, a cursor with a tampered
    byte, and a valid cursor of the provider (key order) replayed by the grantee."""
    token = cursor_of(client.get(URL, {"page_size": "1"}).json()["next"])
    tampered = token[:5] + ("A" if token[5] != "A" else "B") + token[6:]
    return {
        "clear": base64.b64encode(b"p=310101199001011234").decode(),
        "tampered": tampered,
    }


def test_grantee_cannot_tell_hidden_values_apart(oracle_resource, key_client, grant, time_machine):
    time_machine.move_to(dt.datetime(2026, 7, 10, 9, 0, tzinfo=dt.UTC), tick=False)
    resource, records = oracle_resource
    grant(resource, "bigdata")
    grantee, _key = key_client("bigdata")
    provider, _key = key_client("police")
    answers = {}
    for world in ("A", "B"):
        enter_world(resource, records, world)
        provider_cursor = cursor_of(provider.get(URL, {"page_size": "1"}).json()["next"])
        grantee_cursors = {**crafted_cursors(grantee), "provider": provider_cursor}
        answers[world] = {
            **{name: answer(grantee, query) for name, query in REFUSED.items()},
            **{
                f"cursor:{name}": answer(grantee, {"cursor": c})
                for name, c in grantee_cursors.items()
            },
            **{repr(query): pages(grantee, query) for query in ANSWERED},
            "provider sees": [answer(provider, query) for query in REFUSED.values()],
        }
    for name in [*REFUSED, "cursor:clear", "cursor:tampered"]:
        status, body = answers["A"][name]
        parameter = name.split(":")[0]
        assert status == 400, (name, body)
        assert f'"{parameter}"'.encode() in body, (name, body)
    # The provider's cursor is valid for the provider's order (by key), not the grantee's.
    assert answers["A"]["cursor:provider"][0] == 400
    provider_sees = answers["A"].pop("provider sees"), answers["B"].pop("provider sees")
    assert provider_sees[0] != provider_sees[1]  # the worlds do differ
    assert answers["A"] == answers["B"]
    # And the answered requests did answer: three rows, masked, in load order.
    status, body = answers["A"]["{}"][0]
    assert status == 200
    assert body.count(b"310101********1234") == 1
    assert body.index("盗窃".encode()) < body.index("诈骗".encode()) < body.index("纠纷".encode())


def test_pages_follow_load_order_and_links_walk_every_row(oracle_resource, key_client, grant):
    resource, records = oracle_resource
    grant(resource, "bigdata")
    enter_world(resource, records, "B")
    grantee, _key = key_client("bigdata")
    first = grantee.get(URL, {"page_size": "1"}).json()
    categories = [first["results"][0]["category"]]
    link, last = first["next"], first
    while link:
        last = grantee.get(link).json()
        categories.append(last["results"][0]["category"])
        link = last["next"]
    assert categories == CATEGORIES  # source rows 1, 2, 3 whatever the keys
    back = grantee.get(last["previous"]).json()
    assert [row["category"] for row in back["results"]] == ["诈骗"]
    assert back["previous"] and back["next"]
    # Cursors carry no clear value (not an ID number, not the order's name): a Fernet
    # token (version 0x80, time, IV, ciphertext, HMAC) that only the hub's key opens.
    token = cursor_of(first["next"])
    sealed = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert sealed[0] == 0x80
    assert b"310101" not in sealed and b"load" not in sealed
    assert open_cursor(token)[:2] == [resource.pk, "load"]
    # Issued twice for the same position, the tokens differ (random IV) and decode alike.
    again = cursor_of(grantee.get(URL, {"page_size": "1"}).json()["next"])
    assert again != token and open_cursor(again) == open_cursor(token)


def test_provider_pages_by_key_and_cursor_is_bound_to_resource(
    oracle_resource, key_client, records
):
    resource, pks = oracle_resource
    enter_world(resource, pks, "B")
    provider, _key = key_client("police")
    body = provider.get(URL, {"page_size": "2", "order": "-key"}).json()
    keys = [row["id_number"] for row in body["results"]]
    assert keys == ["310101200707071234", "310101199911119999"]
    rest = provider.get(body["next"]).json()
    assert [row["id_number"] for row in rest["results"]] == ["310101196006065678"]
    # The same cursor on another resource the provider reads is refused.
    token = cursor_of(body["next"])
    other = provider.get("/api/v1/resources/public-security-incidents/records/", {"cursor": token})
    assert other.status_code == 400
    assert "cursor" in other.json()


def test_served_table_schema_validates_the_grantees_export(
    oracle_resource, key_client, grant, tmp_path
):
    """The Table Schema served to the grantee marks masked fields as masked text, so the
    grantee's CSV export validates against it (frictionless); the provider's schema, with
    the fields' own types, would reject the same export."""
    from frictionless import Resource, Schema

    resource, records = oracle_resource
    grant(resource, "bigdata")
    enter_world(resource, records, "A")
    # A fourth person whose ID number masks like the first one's.
    twin = make_record(resource, "310101197001011234", {})
    Record.objects.filter(pk=twin.pk).update(
        source_row=4,
        data={
            "id_number": "310101197001011234",
            "seen_at": "2026-07-04T08:00:00+08:00",
            "district": "310101",
            "category": "纠纷",
            "latitude": 31.2,
            "longitude": 121.5,
        },
    )
    grantee, _key = key_client("bigdata")
    provider, _key = key_client("police")
    schema_url = "/api/v1/resources/oracle-persons/schema/"
    served = grantee.get(schema_url).json()
    fields = {field["name"]: field for field in served["fields"]}
    assert {name for name, field in fields.items() if field.get("masked")} == {
        "id_number",
        "seen_at",
        "district",
        "latitude",
        "longitude",
    }
    assert {field["type"] for field in fields.values()} == {"string"}
    assert "primaryKey" not in served  # masked ID numbers need not be unique
    export = tmp_path / "export.csv"
    export.write_bytes(b"".join(grantee.get(URL, {"format": "csv"}).streaming_content))

    def errors_against(descriptor: dict) -> list[str]:
        descriptor = {key: value for key, value in descriptor.items() if key != "$schema"}
        table = Resource(
            path=export.name, basepath=str(tmp_path), schema=Schema.from_descriptor(descriptor)
        )
        report = table.validate()
        return [f"{error.type}: {error.note}" for task in report.tasks for error in task.errors]

    assert errors_against(served) == []
    clear = provider.get(schema_url).json()
    assert clear["primaryKey"] == ["id_number"]
    assert any(error.startswith("type-error") for error in errors_against(clear))


def test_served_table_schema_has_the_fields_of_the_callers_exports(
    oracle_resource, key_client, grant
):
    resource, _records = oracle_resource
    schema_url = "/api/v1/resources/oracle-persons/schema/"
    outsider, _key = key_client("bigdata")
    every = outsider.get(schema_url).json()["fields"]  # metadata only: all, masked by rule
    assert [field["name"] for field in every if field.get("masked")] == [
        "id_number",
        "seen_at",
        "district",
        "latitude",
        "longitude",
    ]
    grant(resource, "bigdata", fields=["category", "id_number"])
    served = outsider.get(schema_url).json()
    assert [(field["name"], field.get("masked", False)) for field in served["fields"]] == [
        ("id_number", True),
        ("category", False),
    ]
    header = b"".join(outsider.get(URL, {"format": "csv"}).streaming_content).splitlines()[0]
    assert header.decode("utf-8-sig") == "id_number,category"
