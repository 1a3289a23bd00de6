"""The group commit's compiled queries (streaming/compiled.py): the SQL is kept, every
answer is read from the database. The key check and the door answer as the ORM and
``restrict`` do, and a change of rights applies to the very next group."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from guardian.shortcuts import assign_perm, remove_perm

from hub.catalog.models import DataResource, Department
from permissions.api_key_services import create_api_key
from permissions.models import PartnerApiKey
from permissions.selectors import UPLOAD_RECORDS
from streaming import intake
from streaming.compiled import PLACEHOLDER, CompiledQuery
from streaming.intake import KeyPush, accept_key_pushes
from tests.streaming.conftest import RESOURCE, reading

pytestmark = pytest.mark.django_db(transaction=True)


def key_of(department: str, **kwargs) -> PartnerApiKey:
    api_key, _plaintext = create_api_key(
        department=Department.objects.get(code=department), name="compiled", **kwargs
    )
    return api_key


def pushed(api_key: PartnerApiKey, code: str = RESOURCE, row: int = 1) -> bool:
    """Whether the group commit stored a push of this key (None: the view answers)."""
    outcome = accept_key_pushes(
        pushes=[KeyPush(api_key_id=api_key.pk, code=code, records=[reading(row)])]
    )[0]
    return outcome is not None


def test_a_compiled_query_reads_what_the_orm_reads(catalog):
    keys = [
        key_of("housing", scopes=["read", "push"]),
        key_of("fire", expires_at=timezone.now() + dt.timedelta(days=3)),
    ]
    columns = ("pk", "prefix", "expiry_date", "user_id", "department_id", "scopes")
    query = CompiledQuery(PartnerApiKey.objects.filter(pk=PLACEHOLDER).values_list(*columns))
    for api_key in keys:
        expected = list(PartnerApiKey.objects.filter(pk=api_key.pk).values_list(*columns))
        rows = query.rows(api_key.pk)
        assert [tuple(row) for row in rows] == expected
        assert isinstance(rows[0][5], list)  # the JSON field's own converter ran
    assert query.rows("no-such-key") == []
    assert keys[1].expiry_date is not None
    assert query.rows(keys[1].pk)[0][2] == PartnerApiKey.objects.get(pk=keys[1].pk).expiry_date


def test_a_query_without_its_placeholder_is_refused():
    with pytest.raises(ValueError, match="placeholder"):
        CompiledQuery(PartnerApiKey.objects.filter(pk="x").values_list("pk"))


def test_the_door_answers_as_restrict_does_for_every_resource(catalog, no_flush):
    for department in ("housing", "fire", "water"):
        api_key = key_of(department, scopes=["push"])
        user = intake._usable_keys({api_key.pk})[api_key.pk][0]
        for code in DataResource.objects.values_list("code", flat=True):
            expected = (
                DataResource.objects.restrict(user, UPLOAD_RECORDS)
                .filter(code=code)
                .values_list("pk", flat=True)
                .first()
            )
            assert intake._pushable_resource_id(user, code) == expected, (department, code)
    assert intake._pushable_resource_id(user, "no-such-resource") is None


def test_the_kept_door_sql_holds_no_time(catalog):
    """Only the SQL is kept: a time in it (an expiry compared with now) would go stale."""
    api_key = key_of("housing", scopes=["push"])
    user = intake._usable_keys({api_key.pk})[api_key.pk][0]
    queryset = DataResource.objects.restrict(user, UPLOAD_RECORDS).filter(code=PLACEHOLDER)
    query = CompiledQuery(queryset.values_list("pk"))
    assert not [p for p in query.params if isinstance(p, dt.date | dt.time)], query.params


def test_a_granted_upload_right_applies_to_the_next_group_and_its_removal_too(catalog, no_flush):
    fire = key_of("fire", scopes=["push"])
    gas = DataResource.objects.get(code=RESOURCE)
    group = Department.objects.get(code="fire").group
    assert not pushed(fire, row=1)  # not the provider: the view answers 404
    assign_perm(UPLOAD_RECORDS, group, gas)
    assert pushed(fire, row=2)
    remove_perm(UPLOAD_RECORDS, group, gas)
    assert not pushed(fire, row=3)


@pytest.mark.parametrize(
    "change",
    [
        {"revoked": True},
        {"expiry_date": "past"},
        {"scopes": ["read"]},
        {"user_inactive": True},
        {"department_inactive": True},
    ],
)
def test_a_key_no_longer_usable_is_refused_by_the_next_group(catalog, no_flush, change):
    api_key = key_of("housing", scopes=["read", "push"])
    assert pushed(api_key, row=1)
    keys = PartnerApiKey.objects.filter(pk=api_key.pk)
    if change.get("expiry_date"):
        keys.update(expiry_date=timezone.now() - dt.timedelta(seconds=1))
    elif change.get("user_inactive"):
        type(api_key.user).objects.filter(pk=api_key.user_id).update(is_active=False)
    elif change.get("department_inactive"):
        Department.objects.filter(pk=api_key.department_id).update(is_active=False)
    else:
        keys.update(**change)
    assert not pushed(api_key, row=2)
