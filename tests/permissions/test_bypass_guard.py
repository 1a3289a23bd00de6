"""Guard against bypasses (in the spirit of CKAN's auth audit).

Walks every URL pattern and every admin page as a department user who may not read a
hidden resource, and fails when a response carries the hidden data (a canary string) or
when a view answers 200 without going through a model's door (``restrict``),
unless the view is listed as serving no resource data, with the reason.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import get_resolver, reverse
from django.utils import timezone

from hub.catalog import restricted
from hub.records.models import UploadBatch
from permissions.models import AccessRequest
from tests.permissions.conftest import make_record

pytestmark = pytest.mark.django_db

CANARY = "CANARY-机密-7f3a"

# URL names that answer without resource data, so need no chokepoint call.
EXEMPT = {
    "home": "redirect to the admin",
    "healthz": "liveness probe, no data",
    "dashboard": "page shell: district names and labels; its data comes from the ops API",
    "readyz": "readiness probe: database and broker status, no data",
    "set_language": "language switch",
    "api-schema": "OpenAPI document, no data",
    "api-docs": "Swagger UI page",
    "api-redoc": "Redoc page",
    "department-list": "departments are not secret within the city",
    "department-detail": "departments are not secret within the city",
    "access-request-list": "requests of the caller's own departments (requester/provider)",
    "access-request-detail": "requests of the caller's own departments (requester/provider)",
}


@pytest.fixture
def hidden(catalog, make_user):
    """Canary data in a 不予共享 resource and in a 有条件共享 one without a grant."""
    resources = catalog["resources"]
    none, cond = resources["public-security-incidents"], resources["fire-incidents"]
    none.summary = f"{CANARY} summary"
    none.save()
    objects = {}
    for resource in (none, cond):
        objects[resource.code] = make_record(
            resource, f"{CANARY}-{resource.code}", {"case_id": CANARY, "incident_id": CANARY}
        )
    batch = UploadBatch.objects.create(
        resource=cond,
        department=catalog["departments"]["fire"],
        source="csv",
        sha256="0" * 64,
        original_filename=f"{CANARY}.csv",
        errors=[{"row": 2, "value": CANARY}],
    )
    request = AccessRequest.objects.create(
        resource=cond,
        requester=catalog["departments"]["cityops"],
        purpose=CANARY,
        due_at=timezone.now() + dt.timedelta(days=14),
    )
    return {"codes": [none.code, cond.code], "ids": [batch.pk, request.pk, none.pk], **objects}


def url_patterns(resolver=None, prefix=""):
    """(name, format string, params) for every named URL outside the admin namespace."""
    resolver = resolver or get_resolver()
    for key in list(resolver.reverse_dict):
        if not isinstance(key, str):
            continue
        for possibilities, *_ in resolver.reverse_dict.getlist(key):
            for template, params in possibilities:
                yield key, "/" + prefix + template, params
    for namespace, (ns_prefix, sub) in resolver.namespace_dict.items():
        if namespace != "admin":
            yield from url_patterns(sub, prefix + ns_prefix)


def concrete_urls(template: str, params: list[str], hidden) -> list[str]:
    if not params:
        return [template]
    urls = []
    if params == ["code"]:
        urls = [template % {"code": code} for code in hidden["codes"]]
    elif len(params) == 1:
        urls = [template % {params[0]: value} for value in hidden["ids"]]
    else:
        pytest.fail(f"bypass guard does not know how to fill {template} {params}: extend it")
    return urls


@pytest.fixture
def spy():
    """Every ``Model.objects.restrict`` call (the door) during a request."""
    calls = []

    def recording(label: str, action: str, phase: str) -> None:
        if phase == "enter":
            calls.append((label, action))

    unsubscribe = restricted.observe(recording)
    yield calls
    unsubscribe()


def check(response, url: str) -> None:
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert CANARY.encode() not in body, f"{url} leaked hidden data"


def test_every_url_pattern(hidden, make_user, client, spy):
    client.force_login(make_user("water"))
    walked = 0
    for name, template, params in url_patterns():
        for url in concrete_urls(template, params, hidden):
            spy.clear()
            response = client.get(url)
            if response.status_code == 405:
                response = client.post(url, {})
            check(response, url)
            walked += 1
            if response.status_code == 200 and name not in EXEMPT:
                assert spy, f"{name} ({url}) answered 200 without the chokepoint"
            # The code is a path segment wherever the pattern puts it (/api/v1/resources/<code>/,
            # /explorer/<code>/, /access/request/<code>/).
            hidden_code = params == ["code"] and hidden["codes"][0] in url.split("/")
            if hidden_code and name.startswith("resource") and response.status_code < 400:
                pytest.fail(f"{url} visible to a department without access")
    assert walked >= 15


def admin_urls(model_admin, hidden) -> list[str]:
    opts = model_admin.model._meta
    base = f"admin:{opts.app_label}_{opts.model_name}"
    urls = [reverse(f"{base}_changelist")]
    if opts.model_name == "dataresource":
        ids = [hidden["ids"][2]]
    elif opts.model_name == "record":
        ids = [hidden[code].pk for code in hidden["codes"]]
    elif opts.model_name == "uploadbatch":
        ids = [hidden["ids"][0]]
    elif opts.model_name == "accessrequest":
        ids = [hidden["ids"][1]]
    else:
        ids = []
    for object_id in ids:
        for view in ("change", "history", "delete"):
            urls.append(reverse(f"{base}_{view}", args=[object_id]))
    return urls


def test_every_admin_page(hidden, make_user, client):
    staff = make_user("water", steward=True)
    staff.is_staff = True
    staff.save()
    client.force_login(staff)
    for model_admin in admin.site._registry.values():
        for url in admin_urls(model_admin, hidden):
            response = client.get(url)
            check(response, url)
            if "/change/" in url or "/history/" in url or "/delete/" in url:
                assert response.status_code in (403, 404), url


def test_superuser_sees_canary_so_the_guard_can_fail(hidden, make_user, client):
    client.force_login(make_user(superuser=True))
    response = client.get("/api/v1/resources/public-security-incidents/records/")
    assert CANARY.encode() in response.content
