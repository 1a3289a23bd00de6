"""The process memory policy (hub/memory.py) is in force before polars and pyarrow load,
in every process that imports the hub, and an operator's environment wins."""

from __future__ import annotations

import os
import sys

from tests.hub.test_settings import run_json

PROBE = (
    "import json, os, sys; import hub; "
    "loaded = sorted(m for m in ('polars', 'pyarrow') if m in sys.modules); "
    "import polars, pyarrow; "
    "print(json.dumps({'applied': hub.memory.applied, 'before': loaded, "
    "'pool': pyarrow.default_memory_pool().backend_name, "
    "'rjem': os.environ.get('_RJEM_MALLOC_CONF')}))"
)


_KNOBS = {
    "_RJEM_MALLOC_CONF",
    "ARROW_DEFAULT_MEMORY_POOL",
    "MALLOC_ARENA_MAX",
    "MALLOC_TRIM_THRESHOLD_",
}


def _probe(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in _KNOBS}
    return run_json(PROBE, {**clean, **env})


def test_policy_applies_before_the_frame_libraries_load():
    seen = _probe()
    assert seen["before"] == []
    # polars puts its own defaults first; jemalloc takes the last value of each option.
    assert seen["rjem"].endswith(",dirty_decay_ms:0,muzzy_decay_ms:0")
    assert seen["pool"] == "system"
    if sys.platform.startswith("linux"):
        assert seen["applied"]["trim_threshold"] is True
        assert seen["applied"]["arena_max"] is True


def test_operator_settings_win():
    seen = _probe(
        _RJEM_MALLOC_CONF="dirty_decay_ms:5000",
        ARROW_DEFAULT_MEMORY_POOL="jemalloc",
        MALLOC_ARENA_MAX="4",
        MALLOC_TRIM_THRESHOLD_="131072",
    )
    assert seen["rjem"].endswith(",dirty_decay_ms:5000")
    assert seen["pool"] == "jemalloc"
    assert "trim_threshold" not in seen["applied"]
    assert "arena_max" not in seen["applied"]
