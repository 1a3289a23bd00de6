"""Helpers shared by the browser tests: launching Debian's Chromium, logging in, screenshots."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from tests.conftest import CHROMIUM, ROOT

ARTIFACTS = ROOT / "test-artifacts"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "pw-for-tests"


@contextmanager
def chromium():
    """Debian's headless Chromium; the browser is closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def new_page(browser, *, width: int = 1400, height: int = 900):
    """A page in its own context (own cookies: one logged-in user per page)."""
    context = browser.new_context(
        viewport={"width": width, "height": height}, locale="zh-CN", accept_downloads=True
    )
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


@contextmanager
def chromium_page(*, width: int = 1400, height: int = 900):
    """A fresh headless Chromium page (Chinese locale)."""
    with chromium() as browser:
        yield new_page(browser, width=width, height=height)


def admin_login(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    """Log in through the real admin login form and land on the admin index."""
    from playwright.sync_api import expect

    page.goto(f"{base_url}/admin/login/?next=/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    expect(page.locator("#user-tools")).to_contain_text(username)


def shot(page, name: str) -> Path:
    """Save a full-page screenshot into test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 5_000, f"{path} looks empty"
    return path
