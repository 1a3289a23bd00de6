"""The push path's warm-up (``mqtt_bridge`` before it forks, each web worker at start):
the first batch's code is loaded, and nothing is connected that forked children could
end up sharing. Run in a new process, with every service address one nobody listens on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEAD = "127.0.0.1:9"

CHECK = """
import json, logging, sys
import django
django.setup()
from django.db import connections
from streaming import receipt_insert
from streaming.mqtt_service import warm_up

warnings = []

class Kept(logging.Handler):
    def emit(self, record):
        warnings.append(record.getMessage())

logging.getLogger("streaming.services").addHandler(Kept())

def state():
    return {
        "redis": "redis" in sys.modules,
        "transport": "kombu.transport.redis" in sys.modules,
        "statement": receipt_insert.insert_statement.cache_info().currsize,
    }

before = state()
warm_up()
opened = [c.alias for c in connections.all() if c.connection is not None]
print(json.dumps({"before": before, "after": state(), "opened": opened, "warnings": warnings}))
"""


def _warm_up(broker: str) -> dict:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "hub.settings",
        "DATABASE_URL": f"postgres://nobody@{DEAD}/none",
        "CELERY_BROKER_URL": broker,
        "CELERY_RESULT_BACKEND": f"redis://{DEAD}/1",
        "HUB_CACHE_URL": f"redis://{DEAD}/2",
    }
    done = subprocess.run(
        [sys.executable, "-c", CHECK],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_warm_up_loads_the_first_batch_s_code_and_connects_to_nothing():
    report = _warm_up(f"redis://{DEAD}/0")
    assert report["before"] == {"redis": False, "transport": False, "statement": 0}
    assert report["after"] == {"redis": True, "transport": True, "statement": 1}
    assert report["opened"] == []
    assert report["warnings"] == []


def test_a_broker_setting_that_cannot_be_loaded_is_logged_not_raised():
    """The process still starts (the web serves its pages; pushes wait for the sweeper)."""
    report = _warm_up("nosuchtransport://nowhere/0")
    assert report["warnings"] == ["push path warm-up: the task broker could not be loaded"]
    assert report["after"]["statement"] == 1
    assert report["opened"] == []
