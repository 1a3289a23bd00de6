"""Query counts of the records list do not grow with the page size (nor with the page a
cursor points at): the door decides once per request, never per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.permissions.conftest import make_record
from tests.permissions.door_world import IN, OUT, RESOURCE, build, incident

pytestmark = pytest.mark.django_db

URL = f"/api/v1/resources/{RESOURCE}/records/"


def queries(client, url: str, params: dict | None = None) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(context.captured_queries), response.json()


@pytest.fixture
def many(catalog, make_user, grant):
    world = build(catalog, make_user, grant)
    resource = catalog["resources"][RESOURCE]
    for number in range(60):
        district = IN if number % 2 else OUT
        key = f"BULK{number:03d}"
        make_record(resource, key, incident(key, district, "13800000000"), district=district)
    return world


@pytest.mark.parametrize("caller", ["district", "masked", "provider_staff"])
def test_records_page_queries_constant_in_page_size(many, client, caller):
    client.force_login(many.users[caller])
    counts = {}
    for size in (1, 5, 25):
        counts[size], body = queries(client, URL, {"page_size": str(size)})
        assert len(body["results"]) == size
    assert counts[1] == counts[5] == counts[25], counts
    # The next page (a cursor) costs what the first did.
    _first, body = queries(client, URL, {"page_size": "5"})
    following, _body = queries(client, body["next"])
    assert following == counts[5]


def test_district_scope_holds_on_every_page(many, client):
    """Walking every page of the district grantee yields only rows of its district."""
    client.force_login(many.users["district"])
    seen, link = [], URL + "?page_size=7"
    while link:
        body = client.get(link).json()
        seen += [row["district"] for row in body["results"]]
        link = body["next"]
    assert len(seen) == 31  # 30 bulk rows in the district and the world's row in
    assert set(seen) == {IN}
