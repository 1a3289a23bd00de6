"""The admin frame links the hub's own pages (explorer, needs, operations, risk)."""

from __future__ import annotations

from django.utils import translation


def test_admin_pages_link_the_hub_pages(catalog, client, make_user):
    client.force_login(make_user("water"))
    html = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    for url, label in (
        ("/explorer/", "共享数据"),
        ("/governance/needs/", "需求清单"),
        ("/ops/", "运行态势"),
        ("/risk/", "风险谱系"),
    ):
        assert f'<a href="{url}">{label}</a>' in html


def test_the_links_in_english(catalog, client, make_user):
    client.force_login(make_user("water"))
    with translation.override("en"):
        client.cookies["django_language"] = "en"
        html = client.get("/admin/").content.decode()
    assert '<a href="/explorer/">' in html and ">Operations</a>" in html


def test_anonymous_login_page_has_no_hub_links(client):
    html = client.get("/admin/login/").content.decode()
    assert 'id="hub-pages"' not in html
