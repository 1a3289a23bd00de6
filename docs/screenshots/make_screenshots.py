"""Regenerate the screenshots of docs/TUTORIAL.md.

    .venv/bin/python docs/screenshots/make_screenshots.py

It builds a throwaway SQLite database in a temporary folder (migrate + load_demo; the
demo logins go to that folder, not to var/), starts ``manage.py runserver`` on it, and
walks through the tutorial in Debian's headless Chromium (/usr/bin/chromium) with
Playwright, checking what each page shows before it takes the picture. Chinese text needs
a CJK font in the system (Debian: ``apt-get install fonts-wqy-zenhei``).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).resolve().parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
USERS = ["housing-steward", "housing-staff", "cityops-staff"]
MESSY_SAMPLE = ROOT / "fixtures" / "samples" / "housing_gas_pressure.csv"
ALARMS_CSV = ROOT / "docs" / "tutorial" / "gas_leak_alarms.csv"
MAX_BYTES = 300_000

# Runs in a subprocess with the throwaway database: migrate, demo city, known passwords.
SETUP = """
import json, sys
from pathlib import Path
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.management import call_command
import hub.demo
work = Path(sys.argv[1])
hub.demo.LOGINS_FILE = work / "demo_logins.json"
call_command("migrate", verbosity=0)
call_command("load_demo")
password = sys.argv[2]
for name in json.loads(sys.argv[3]):
    user = get_user_model().objects.get(username=name)
    user.set_password(password)
    user.save()
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url: str, server: subprocess.Popen, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"runserver exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)  # polling a starting process, not synchronising a page
    raise SystemExit("runserver did not answer /healthz in time")


def _save(page, name: str, *, full_page: bool = False) -> Path:
    path = OUT / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise SystemExit(f"{path.name} is {size} bytes (> {MAX_BYTES})")
    print(f"{path.relative_to(ROOT)}  {size // 1024} KB")
    return path


def _login(page, url: str, username: str, password: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def walk(url: str, password: str, env: dict) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)

        def page_for(username: str, width: int = 1280, height: int = 760):
            context = browser.new_context(
                viewport={"width": width, "height": height},
                locale="zh-CN",
                timezone_id="Asia/Shanghai",
            )
            page = context.new_page()
            page.set_default_timeout(30_000)
            _login(page, url, username, password)
            return page

        try:
            # 1. The catalog as any department sees it.
            cityops = page_for("cityops-staff")
            cityops.goto(f"{url}/admin/catalog/dataresource/")
            # 15 resources; 110 治安警情 (不予共享) is visible to its provider only.
            expect(cityops.locator("#result_list tbody tr")).to_have_count(14)
            expect(cityops.locator("#result_list")).to_contain_text("燃气泄漏报警记录")
            _save(cityops, "01-catalog")

            # 2-3. The housing steward uploads the messy sample: the preview finds bad rows
            # and offers no 确认入库; the steward loads the valid rows (a partial batch).
            steward = page_for("housing-steward")
            steward.goto(f"{url}/admin/connectors/upload/gas-pipeline-pressure/")
            steward.set_input_files("#id_file", str(MESSY_SAMPLE))
            steward.click("#upload-form input[type=submit]")
            table = steward.locator("#preview-table")
            expect(table).to_contain_text("GP000004")
            expect(table.locator("tbody tr.row-bad").first).to_be_visible()
            expect(steward.locator("#confirm-refused")).to_be_visible()
            expect(steward.locator("input[name=confirm]")).to_have_count(0)
            _save(steward, "02-upload-preview")
            steward.click("#accept-valid-rows")
            expect(steward.locator("#batch-status")).to_have_text("部分入库", timeout=60_000)
            expect(steward.locator("#batch-report")).to_be_visible()
            _save(steward, "03-upload-partial")

            # 4. A clean file (the tutorial's gas-leak alarms) loads completely.
            steward.goto(f"{url}/admin/connectors/upload/gas-leak-alarms/")
            steward.set_input_files("#id_file", str(ALARMS_CSV))
            steward.click("#upload-form input[type=submit]")
            expect(steward.locator("#preview-table tbody tr.row-bad")).to_have_count(0)
            steward.click("input[name=confirm]")
            expect(steward.locator("#batch-status")).to_have_text("已入库", timeout=60_000)
            expect(steward.locator("[data-count=inserted]")).to_have_text("3")
            _save(steward, "04-upload-loaded")

            # 5. 城运中心 requests access to the alarms.
            cityops.goto(f"{url}/admin/permissions/accessrequest/add/")
            option = cityops.locator("#id_resource option", has_text="燃气泄漏报警记录")
            cityops.select_option("#id_resource", label=option.inner_text())
            cityops.select_option("#id_requester", index=1)
            cityops.fill("#id_purpose", "燃气泄漏事故联动处置")
            cityops.fill("#id_duration_days", "90")
            _save(cityops, "05-access-request", full_page=True)
            cityops.click("input[name=_save]")
            expect(cityops.locator("ul.messagelist")).to_contain_text("gas-leak-alarms")

            # 6. 住建委 approves it with the admin action.
            provider = page_for("housing-staff")
            provider.goto(f"{url}/admin/permissions/accessrequest/")
            row = provider.locator("#result_list tbody tr", has_text="城市运行管理中心").filter(
                has_text="燃气泄漏报警记录"
            )
            row.locator("input.action-select").check()
            provider.select_option("select[name=action]", "approve")
            provider.click("button[name=index]")
            expect(provider.locator("ul.messagelist")).to_contain_text("已批准")
            _save(provider, "06-approved")

            # 7. The requester reads masked records (browsable API, same session).
            cityops.goto(f"{url}/api/v1/resources/gas-leak-alarms/records/")
            expect(cityops.locator("body")).to_contain_text("138****5678")
            expect(cityops.locator("body")).not_to_contain_text("13812345678")
            _save(cityops, "07-masked-records")

            # 8. The operations dashboard.
            ops = page_for("cityops-staff", width=1440, height=1000)
            ops.goto(f"{url}/ops/")
            expect(ops.locator("body")).to_have_attribute("data-loaded", "true")
            expect(ops.locator("#map canvas")).to_have_count(1)
            _save(ops, "08-ops-dashboard")
        finally:
            browser.close()

    # The tutorial's API-key step, checked with the same commands.
    created = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "create_api_key",
            "--department",
            "cityops",
            "--name",
            "demo",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    key = created.split("store it now):", 1)[1].strip()
    request = urllib.request.Request(  # noqa: S310 (our own local server)
        f"{url}/api/v1/resources/gas-leak-alarms/records/",
        headers={"Authorization": f"Api-Key {key}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        body = json.load(response)
    phones = sorted(row["phone"] for row in body["results"])
    assert phones == ["137****1111", "138****5678", "139****4321"], phones
    print("API key read masked phones:", ", ".join(phones))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="hub-screenshots-"))
    password = secrets.token_urlsafe(12)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DATABASE_URL": f"sqlite:///{work / 'db.sqlite3'}",
        "DJANGO_MEDIA_ROOT": str(work / "media"),
        "DJANGO_DEBUG": "1",
    }
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        env.pop(name, None)  # embedded default: tasks run in-process
    try:
        subprocess.run(  # noqa: S603 (fixed argv)
            [sys.executable, "-c", SETUP, str(work), password, json.dumps(USERS)],
            cwd=ROOT,
            env=env,
            check=True,
        )
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(  # noqa: S603 (fixed argv)
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT,
            env=env,
            stdout=(work / "server.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_up(url, server)
            walk(url, password, env)
        finally:
            server.terminate()
            server.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
