"""One door per model: every page, API view and export reaches a model a caller can
reach only through ``Model.objects.restrict(user, action)``.

Each request of the URL walk and the admin walk runs with the SQL captured and every
restriction observed; a top-level SELECT on the table of a model that has a policy, in a
request that never restricted that model, fails the test with the view and the SQL.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection

from hub.catalog import restricted
from hub.catalog.admin_base import RestrictedAdminMixin, RestrictedInline
from tests.permissions.test_bypass_guard import admin_urls, concrete_urls, hidden, url_patterns

__all__ = ["hidden"]  # the fixture, re-used

pytestmark = pytest.mark.django_db

# Project apps whose models a caller can reach (directly, in the admin or the API).
PROJECT_APPS = {
    "catalog",
    "records",
    "permissions",
    "operations",
    "connectors",
    "streaming",
    "governance",
}
# Internal bookkeeping that no page or endpoint lists: they need no door.
INTERNAL = {
    "records.rowfingerprints": "source-row fingerprints of the record store",
    "permissions.auditchainhead": "the audit chain's head row",
    "permissions.resourceuserpermission": "guardian's table, read inside the policy",
    "permissions.resourcegrouppermission": "guardian's table, read inside the policy",
    "connectors.batchprogress": "live progress of a batch, read with its batch",
}

WORD = re.compile(r'"[^"]*"|\'(?:[^\']|\'\')*\'|\(|\)|[A-Za-z_][A-Za-z_0-9.]*|\S')


def top_level_tables(sql: str) -> list[str]:
    """Tables named right after a FROM at parenthesis depth 0 of a SELECT."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return []
    tokens = WORD.findall(sql)
    depth, tables = 0, []
    for index, token in enumerate(tokens):
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
        elif depth == 0 and token.upper() == "FROM" and index + 1 < len(tokens):
            following = tokens[index + 1]
            if following != "(":
                tables.append(following.strip('"'))
    return tables


def test_top_level_tables_parser():
    sql = (
        'SELECT "a"."id", (SELECT 1 FROM "x" WHERE "x"."a" = "a"."id") AS "s" FROM "a" '
        'WHERE "a"."id" IN (SELECT "b"."id" FROM "b")'
    )
    assert top_level_tables(sql) == ["a"]
    assert top_level_tables('SELECT COUNT(*) FROM (SELECT "a"."id" FROM "a") sub') == []
    assert top_level_tables('INSERT INTO "a" VALUES (1)') == []


def table_models() -> dict[str, str]:
    return {
        model._meta.db_table: model._meta.label_lower
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    }


def test_every_reachable_model_has_a_door():
    missing = [
        label
        for label in table_models().values()
        if label not in INTERNAL and label not in restricted.restricted_models()
    ]
    assert missing == []


def test_every_admin_page_of_a_reachable_model_is_behind_the_door():
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label in PROJECT_APPS:
            assert isinstance(model_admin, RestrictedAdminMixin), model._meta.label
            for inline in model_admin.inlines:
                assert issubclass(inline, RestrictedInline), inline


def test_a_model_without_policy_fails_closed():
    from django.core.exceptions import ImproperlyConfigured

    from hub.records.models import RowFingerprints

    with pytest.raises(ImproperlyConfigured):
        restricted.restrict(RowFingerprints.objects.all(), None, "view")


def test_unknown_action_fails_closed(catalog, make_user):
    from hub.catalog.models import DataResource
    from hub.records.models import Record

    user = make_user("water")
    for model in (DataResource, Record):
        with pytest.raises(ValueError):
            model.objects.restrict(user, "teleport")


class DoorWatch:
    """Observes restrictions and the SQL of one request at a time.

    A query is through the door when its model was restricted before it ran, when the
    policy itself runs it (between enter and exit), or when it loads the parent of an
    object already obtained (a forward foreign key: ``batch.resource``).
    """

    def __init__(self):
        self.seen: set[str] = set()
        self.inside = 0
        self.loading_parent = 0
        self.tables = table_models()
        self.bypasses: list[str] = []

    def __call__(self, label: str, action: str, phase: str) -> None:
        if phase == "enter":
            self.seen.add(label)
            self.inside += 1
        else:
            self.inside -= 1

    def reset(self) -> None:
        self.seen.clear()
        self.bypasses = []

    def execute(self, execute, sql, params, many, context):
        if not self.inside and not self.loading_parent:
            for table in top_level_tables(sql):
                label = self.tables.get(table)
                if label and label not in INTERNAL and label not in self.seen:
                    self.bypasses.append(f"{label}: {sql[:300]}")
        return execute(sql, params, many, context)


@pytest.fixture
def watch(monkeypatch):
    from django.db.models.fields import related_descriptors as descriptors

    observer = DoorWatch()
    unsubscribe = restricted.observe(observer)
    for descriptor in (
        descriptors.ForwardManyToOneDescriptor,
        descriptors.ForwardOneToOneDescriptor,
    ):
        original = descriptor.get_object

        def get_object(self, instance, _original=original):
            observer.loading_parent += 1
            try:
                return _original(self, instance)
            finally:
                observer.loading_parent -= 1

        monkeypatch.setattr(descriptor, "get_object", get_object)
    with connection.execute_wrapper(observer.execute):
        yield observer
    unsubscribe()


def walk(client, watch, urls) -> list[str]:
    failures = []
    for url in urls:
        watch.reset()
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url, {})
        if response.streaming:
            b"".join(response.streaming_content)
        failures += [f"{url} -> {bypass}" for bypass in watch.bypasses]
    return failures


def every_url(hidden) -> list[str]:
    urls = []
    for _name, template, params in url_patterns():
        urls += concrete_urls(template, params, hidden)
    return urls


def every_admin_url(hidden) -> list[str]:
    urls = []
    for model_admin in admin.site._registry.values():
        urls += admin_urls(model_admin, hidden)
    return urls


@pytest.mark.parametrize("caller", ["water", "fire", "superuser"])
def test_every_url_goes_through_the_door(hidden, make_user, client, watch, caller):
    user = make_user(superuser=True) if caller == "superuser" else make_user(caller)
    client.force_login(user)
    failures = walk(client, watch, every_url(hidden))
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("caller", ["water", "fire"])
def test_every_admin_page_goes_through_the_door(hidden, make_user, client, watch, caller):
    staff = make_user(caller, steward=True)
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    failures = walk(client, watch, every_admin_url(hidden))
    assert not failures, "\n".join(failures)


def test_the_door_check_can_fail(hidden, make_user, client, watch):
    """A view reading records without the door is caught."""
    from hub.records.models import Record

    user = make_user("water")
    watch.reset()
    list(Record.objects.all())
    assert watch.bypasses
    watch.reset()
    list(Record.objects.restrict(user, "view"))
    assert watch.bypasses == []
