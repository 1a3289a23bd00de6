"""Settings are chosen by the environment; production settings pass check --deploy."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import json, django; from django.conf import settings; django.setup();"
    "from hub.celery import app;"
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'],"
    "'name': str(settings.DATABASES['default']['NAME']),"
    "'eager': settings.CELERY_TASK_ALWAYS_EAGER, 'broker': app.conf.broker_url,"
    "'debug': settings.DEBUG, 'lang': settings.LANGUAGE_CODE, 'tz': settings.TIME_ZONE,"
    "'use_tz': settings.USE_TZ}))"
)
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k
    not in {
        "DATABASE_URL",
        "CELERY_BROKER_URL",
        "CELERY_RESULT_BACKEND",
        "DJANGO_SETTINGS_MODULE",
        "DJANGO_SECRET_KEY",
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_DEBUG",
    }
}


def run_json(code: str, env: dict[str, str]) -> dict:
    """Run ``code`` in a fresh interpreter with exactly ``env``; its last line, as JSON."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def probe(**env) -> dict:
    return run_json(PROBE, {**CLEAN, **env})


def test_embedded_default_is_sqlite_with_inprocess_tasks():
    found = probe(DJANGO_SETTINGS_MODULE="hub.settings")
    assert found["engine"] == "django.db.backends.sqlite3"
    assert found["name"] == str(ROOT / "db.sqlite3")
    assert found["eager"] is True
    assert (found["lang"], found["tz"], found["use_tz"]) == ("zh-hans", "Asia/Shanghai", True)


def test_environment_selects_postgres_and_broker():
    found = probe(
        DJANGO_SETTINGS_MODULE="hub.settings",
        DATABASE_URL="postgres://hub:pw@db.internal:5433/hubdb",
        CELERY_BROKER_URL="redis://cache.internal:6379/3",
    )
    assert found["engine"] == "django.db.backends.postgresql"
    assert found["name"] == "hubdb"
    assert found["eager"] is False
    assert found["broker"] == "redis://cache.internal:6379/3"


def test_production_refuses_missing_secret():
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **CLEAN,
            "DJANGO_SETTINGS_MODULE": "hub.settings.production",
            "DJANGO_ALLOWED_HOSTS": "hub.example.gov.cn",
        },
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize("secret", ["x" * 64])
def test_production_settings_pass_check_deploy(secret):
    env = {
        **CLEAN,
        "DJANGO_SETTINGS_MODULE": "hub.settings.production",
        "DJANGO_SECRET_KEY": secret + "Zq9!",
        "DJANGO_ALLOWED_HOSTS": "hub.example.gov.cn",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
    found = probe(**{k: v for k, v in env.items() if k.startswith("DJANGO")})
    assert found["debug"] is False


def test_result_store_down_gives_up_after_three_quick_reconnects():
    """An upload answered while Redis is down must not wait out Celery's default 20
    reconnects (~19 s): the result store tries three times, then enqueue_load says no."""
    script = (
        "import json, django; django.setup();"
        "from hub.celery import app; from connectors.services import enqueue_load;"
        "policy = app.backend.retry_policy;"
        "print(json.dumps({'retries': policy['max_retries'], 'sent': enqueue_load(1)}))"
    )
    closed = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **CLEAN,
            "DJANGO_SETTINGS_MODULE": "hub.settings",
            "CELERY_BROKER_URL": closed,
            "CELERY_RESULT_BACKEND": closed,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {"retries": 3, "sent": False}
