"""Real pages render in English when asked and stay Chinese by default.

The English catalog is compiled from ``locale/en`` (``make messages`` does it at setup);
the module compiles it itself when the .mo is missing or older than the .po, so the tests
also run on a fresh checkout.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import translation
from django.utils.translation.reloader import translation_file_changed

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
CJK = re.compile(r"[\u3400-\u9fff]")

pytestmark = pytest.mark.skipif(
    not shutil.which("msgfmt"), reason="needs GNU gettext (msgfmt): apt-get install gettext"
)


@pytest.fixture(scope="module", autouse=True)
def english_catalog():
    """Compile locale/en when its .mo is missing or stale, then drop cached catalogs."""
    if not MO.exists() or MO.stat().st_mtime < PO.stat().st_mtime:
        with contextlib.chdir(ROOT):
            call_command(
                "compilemessages", locale=["en"], ignore_patterns=[".venv", "node_modules"]
            )
        # Catalogs loaded before the .mo existed are cached empty: forget them.
        translation_file_changed(None, MO)
    yield


@pytest.fixture
def admin_client_(client, catalog, make_user):
    client.force_login(make_user(superuser=True, username="root"))
    return client


def get(client, url: str, language: str):
    response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200, url
    return response.content.decode()


def test_resource_list_in_english(admin_client_):
    page = get(admin_client_, "/admin/catalog/dataresource/", "en")
    assert '<html lang="en"' in page
    for text in ("Data resources", "Sharing type", "Shared unconditionally", "Update cycle"):
        assert text in page, text
    assert "City Data Hub" in page
    for text in ("共享类型", "数据资源", "无条件共享", "城市数据中枢"):
        assert text not in page, text


def test_resource_list_in_chinese(admin_client_):
    for headers in ({"HTTP_ACCEPT_LANGUAGE": "zh-hans"}, {}):
        page = admin_client_.get("/admin/catalog/dataresource/", **headers).content.decode()
        assert '<html lang="zh-hans"' in page
        for text in ("共享类型", "数据资源", "无条件共享", "城市数据中枢"):
            assert text in page, text
        assert "Sharing type" not in page


def test_resource_form_in_english(admin_client_, catalog):
    resource = catalog["resources"]["gas-pipeline-pressure"]
    page = get(admin_client_, f"/admin/catalog/dataresource/{resource.pk}/change/", "en")
    for text in (
        "Sharing and open data",
        "Data elements",
        "Masking rule",
        "Data grade",
        "Provider",
        "Legal basis for conditional or no sharing",
    ):
        assert text in page, text
    for text in ("共享与开放", "脱敏规则", "信息项"):
        assert text not in page, text


def test_upload_page_in_english(admin_client_, catalog):
    from django.urls import reverse

    url = reverse("admin:connectors_upload", args=["gas-pipeline-pressure"])
    page = get(admin_client_, url, "en")
    for text in ("Upload data", "Download the Excel template", "Upload and preview", "Home"):
        assert text in page, text
    for text in ("上传数据", "下载 Excel 模板", "上传并预览"):
        assert text not in page, text
    assert "上传并预览" in admin_client_.get(url).content.decode()


def test_admin_index_in_english(admin_client_):
    page = get(admin_client_, "/admin/", "en")
    for text in (
        "Data catalogue",
        "Upload batches",
        "City operations",
        "Work orders",
        "Monitoring points",
    ):
        assert text in page, text
    assert not CJK.search(page), CJK.findall(page)[:20]


def test_language_switch_sticks(admin_client_):
    response = admin_client_.post("/i18n/setlang/", {"language": "en", "next": "/admin/"})
    assert response.status_code == 302
    assert admin_client_.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = admin_client_.get("/admin/records/uploadbatch/").content.decode()
    assert "Upload batches" in page
    assert "上传批次" not in page


def script_labels(page: str) -> dict:
    """The labels the dashboard hands to its script (json_script escapes non-ASCII)."""
    found = re.search(r'<script id="labels" type="application/json">(.*?)</script>', page, re.S)
    assert found, "labels script missing"
    return json.loads(found.group(1))


def test_ops_dashboard_in_english(admin_client_):
    page = get(admin_client_, "/ops/", "en")
    assert '<html lang="en"' in page
    for text in ("City Operations Overview", "Alerts by district", "Work order timeliness"):
        assert text in page, text
    for text in ("城市运行态势", "各区预警态势", "工单时效"):
        assert text not in page, text
    labels = script_labels(page)
    assert labels["timeliness"]["on_time"] == "Within deadline"
    assert labels["levels"]["1"] == "Blue (level IV)"
    assert labels["domains"]["gas"] == "Gas"
    assert not CJK.search(json.dumps(labels, ensure_ascii=False)), labels


def test_ops_dashboard_in_chinese(admin_client_):
    page = admin_client_.get("/ops/").content.decode()
    for text in ("城市运行态势", "各区预警态势", "工单时效"):
        assert text in page, text
    assert "City Operations Overview" not in page
    labels = script_labels(page)
    assert labels["timeliness"]["on_time"] == "时限内"
    assert labels["levels"]["1"] == "蓝色（IV级）"


def test_validation_messages_in_english():
    from django.core.exceptions import ValidationError

    from operations.models import Rule

    rule = Rule(name="r", kind="threshold", hazard="h", metric="pressure")
    with pytest.raises(ValidationError) as caught:
        rule.clean()
    with translation.override("en"):
        assert caught.value.messages == ["Enter a threshold for at least one level."]
    with translation.override("zh-hans"):
        assert caught.value.messages == ["至少填写一个级别的阈值。"]
