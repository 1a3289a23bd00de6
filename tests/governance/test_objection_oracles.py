"""Filing an objection reveals nothing of a hidden record key.

The key of ``masked-key-persons`` is an ID number the grantee receives masked
(``310101********1234``). Had a guessed key been looked up, a record objection would be a
201 for a key that exists and a 404 for one that does not: an oracle on the hidden value,
one guess per request. A key the caller does not read in clear is refused alike whatever
it is: a 400 naming ``record_key``. The provider, who reads keys in clear, still files.
"""

from __future__ import annotations

import pytest

from governance.models import Objection
from hub.catalog.seed import upsert_resource
from tests.permissions.conftest import grant, make_record  # noqa: F401

pytestmark = pytest.mark.django_db

OBJECTIONS = "/api/v1/objections/"
KEY = "310101199001011234"
GUESS = "310101199001015678"


@pytest.fixture
def masked_key_resource(catalog, grant):  # noqa: F811
    resource = upsert_resource(
        code="masked-key-persons",
        provider=catalog["departments"]["police"],
        name="人员核查（异议测试）",
        summary="键对被授权方脱敏。",
        domain="public_security",
        update_cycle="daily",
        sharing_type="conditional",
        sharing_conditions="测试",
        legal_basis="测试",
        status="published",
        key_fields=["id_number"],
        fields=[
            {"name": "id_number", "label": "身份证号", "type": "string", "grade": 3}
            | {"masking": "id_number"},
            {"name": "category", "label": "类别", "type": "string"},
        ],
    )
    make_record(resource, KEY, {"id_number": KEY, "category": "盗窃"})
    grant(resource, "bigdata")
    return resource


def file(api_client, user, key: str, scope: str = "record"):
    api_client.force_authenticate(user)
    body = {"resource": "masked-key-persons", "scope": scope, "record_key": key}
    body |= {"reason": "核对", "field_name": "category"}
    return api_client.post(OBJECTIONS, body, format="json")


@pytest.mark.parametrize("scope", ["record", "field"])
def test_a_hidden_key_is_no_oracle(masked_key_resource, make_user, api_client, scope):
    grantee = make_user("bigdata")
    # The grantee reads the record, its key masked.
    api_client.force_authenticate(grantee)
    rows = api_client.get(f"/api/v1/resources/{masked_key_resource.code}/records/").json()
    assert [row["id_number"] for row in rows["results"]] == ["310101********1234"]
    right, wrong = file(api_client, grantee, KEY, scope), file(api_client, grantee, GUESS, scope)
    assert (right.status_code, right.json()) == (wrong.status_code, wrong.json())
    assert right.status_code == 400 and "record_key" in right.json()
    assert not Objection.objects.exists()


def test_the_provider_files_on_the_key_it_reads(masked_key_resource, make_user, api_client):
    provider = make_user("police")
    assert file(api_client, provider, KEY).status_code == 201
    assert file(api_client, provider, GUESS).status_code == 404
    assert list(Objection.objects.values_list("record_key", flat=True)) == [KEY]
