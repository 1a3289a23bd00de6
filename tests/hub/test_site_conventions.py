"""Site conventions (issue 14 item 5): language switcher, content negotiation of the DCAT
catalog, offline ReDoc, favicon, friendly 403/404 pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


class _Links(HTMLParser):
    """Every src/href of a page."""

    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def urls_of(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("url", ["/admin/", "/admin/login/", "/ops/", "/access/"])
def test_every_page_has_the_language_switcher_and_favicon(url, catalog, make_user):
    client = logged_in(make_user("cityops")) if url != "/admin/login/" else Client()
    html = client.get(url).content.decode()
    assert 'action="/i18n/setlang/"' in html
    assert 'name="language"' in html and 'value="en"' in html and 'value="zh-hans"' in html
    assert re.search(r'<link rel="icon" href="/static/hub/favicon\.ico', html)


def test_switching_to_english_changes_admin_and_ops(catalog, make_user):
    client = logged_in(make_user("cityops"))
    assert "管理首页" in client.get("/admin/").content.decode()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/ops/"})
    assert response.status_code == 302 and response["Location"] == "/ops/"
    admin_page = client.get("/admin/").content.decode()
    assert "管理首页" not in admin_page and 'lang="en"' in admin_page
    ops_page = client.get("/ops/").content.decode()
    assert 'lang="en"' in ops_page and "城市运行态势" not in ops_page
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/admin/"})
    assert "管理首页" in client.get("/admin/").content.decode()


def test_i18n_root_is_not_the_documented_entry(client):
    # The docs point to /i18n/setlang/ (POST); /i18n/ itself has no page.
    assert client.get("/i18n/setlang/").status_code in (302, 405)


@pytest.mark.parametrize(
    ("accept", "content_type"),
    [
        ("application/ld+json", "application/ld+json"),
        ("application/json", "application/json"),
        ("*/*", "application/ld+json"),
    ],
)
def test_catalog_jsonld_negotiates_json_ld(catalog, make_user, api_client, accept, content_type):
    api_client.force_authenticate(make_user("water"))
    response = api_client.get("/api/v1/catalog.jsonld", HTTP_ACCEPT=accept)
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"].split(";")[0] == content_type
    assert response.json()["@type"] == "dcat:Catalog"


@pytest.mark.parametrize(
    "accept",
    [
        "application/ld+json",
        'application/ld+json; profile="http://www.w3.org/ns/json-ld#compacted"',
    ],
)
def test_catalog_jsonld_for_a_partner_key(catalog, accept):
    from permissions.api_key_services import create_api_key

    _key, secret = create_api_key(department=catalog["departments"]["water"], name="dcat")
    response = Client().get(
        "/api/v1/catalog.jsonld", HTTP_ACCEPT=accept, HTTP_AUTHORIZATION=f"Api-Key {secret}"
    )
    assert response.status_code == 200, response.content[:200]
    assert response["Content-Type"].startswith("application/ld+json")


def test_schema_declares_json_ld_for_the_catalog(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    content = schema["paths"]["/api/v1/catalog.jsonld"]["get"]["responses"]["200"]["content"]
    assert "application/ld+json" in content


def test_redoc_calls_no_external_host(client):
    response = client.get("/api/redoc/")
    assert response.status_code == 200
    html = response.content.decode()
    external = [url for url in urls_of(html) if re.match(r"^(https?:)?//", url)]
    assert external == []
    assert not re.search(r"https?://(?!127\.0\.0\.1|localhost|testserver)", html)
    scripts = [url for url in urls_of(html) if url.endswith(".js")]
    assert scripts and all(url.startswith("/static/drf_spectacular_sidecar/") for url in scripts)


def test_favicon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/hub/favicon.ico"
    path = finders.find("hub/favicon.ico")
    assert path is not None
    with open(path, "rb") as icon:
        assert icon.read(4) == b"\x00\x00\x01\x00"  # an ICO header


def test_friendly_404_in_the_admin_frame(catalog, make_user):
    response = logged_in(make_user("water")).get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'id="header"' in html and 'action="/i18n/setlang/"' in html
    api = logged_in(make_user("water", username="w2")).get("/api/v1/no-such-thing/")
    assert api.status_code == 404 and api.json() == {"detail": "未找到。"}


def test_audit_log_shows_staff_a_friendly_403(catalog, make_user):
    response = logged_in(make_user("water")).get("/admin/permissions/auditevent/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "没有权限" in html and 'id="header"' in html
    assert "/access/" in html  # where to go next: the sharing requests


def test_friendly_pages_in_english(catalog, make_user):
    client = logged_in(make_user("water"))
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get("/admin/permissions/auditevent/").content.decode()
    assert "Permission denied" in html and "没有权限" not in html
