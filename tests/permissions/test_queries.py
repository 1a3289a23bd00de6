"""Query counts of list endpoints do not grow with the number of resources or grants."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hub.catalog.models import DataResource, FieldSpec, ResourceStatus
from permissions.services import grant_access
from tests.permissions.conftest import make_record

pytestmark = pytest.mark.django_db


def add_granted_resource(catalog, index: int) -> None:
    """One conditional resource of the fire department with a masked field, granted to
    cityops with a row scope."""
    fire, cityops = catalog["departments"]["fire"], catalog["departments"]["cityops"]
    resource = DataResource.objects.create(
        code=f"extra-{index}",
        name=f"extra {index}",
        summary="s",
        provider=fire,
        domain="fire",
        update_cycle="daily",
        sharing_type="conditional",
        sharing_conditions="c",
        legal_basis="b",
        status=ResourceStatus.PUBLISHED,
        key_fields=["id"],
    )
    FieldSpec.objects.create(resource=resource, name="id", label="id", field_type="string")
    FieldSpec.objects.create(
        resource=resource, name="phone", label="p", field_type="string", masking="phone", grade=3
    )
    make_record(
        resource, f"k{index}", {"id": str(index), "phone": "13812345678"}, district="310101"
    )
    grant_access(
        user=None,
        resource=resource,
        department=cityops,
        districts=["310101"],
        expires_at=timezone.now() + dt.timedelta(days=1),
    )


def count_queries(client, url: str, params=None) -> int:
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, params or {})
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content
    return len(context.captured_queries)


@pytest.mark.parametrize(
    "url,params",
    [
        ("/api/v1/resources/", {}),
        ("/api/v1/catalog.jsonld", {}),
        ("/api/v1/resources/extra-0/records/", {}),
        ("/api/v1/resources/extra-0/records/", {"format": "csv"}),
        ("/api/v1/access-requests/", {}),
    ],
)
def test_query_count_constant(catalog, make_user, client, url, params):
    # A session login: every request loads its user afresh, as in production.
    client.force_login(make_user("cityops"))
    add_granted_resource(catalog, 0)
    few = count_queries(client, url, params)
    for index in range(1, 30):
        add_granted_resource(catalog, index)
    assert DataResource.objects.filter(code__startswith="extra-").count() == 30
    many = count_queries(client, url, params)
    assert many == few
    assert few <= 14


def test_records_page_query_count_with_api_key(
    records, key_client, grant, django_assert_max_num_queries
):
    grant(records["fire-incidents"], "bigdata", districts=["310101"])
    client, _ = key_client("bigdata")
    # key + user, departments, resource, fields, grants, page, audit (head lock, insert, head).
    with django_assert_max_num_queries(11):
        response = client.get("/api/v1/resources/fire-incidents/records/")
    assert [row["incident_id"] for row in response.json()["results"]] == ["F1"]


def test_permission_codenames_unique(db):
    # restrict() matches guardian rows by ``permission_id = (SELECT id … WHERE codename = …)``.
    from django.contrib.auth.models import Permission

    from permissions.selectors import MANAGE_RESOURCE, UPLOAD_RECORDS, VIEW_METADATA, VIEW_RECORDS

    for codename in (VIEW_METADATA, VIEW_RECORDS, UPLOAD_RECORDS, MANAGE_RESOURCE):
        assert Permission.objects.filter(codename=codename).count() == 1, codename
