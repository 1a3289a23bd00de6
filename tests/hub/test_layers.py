"""The layers hold: imports run down catalog -> permissions -> records -> connectors /
operations -> the top apps (import-linter's ``layers`` contract in pyproject.toml).

Direct and indirect imports both count (a chain through the project package ``hub``
too), so a lower app learns of a higher one's events only through signals.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


def contract() -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    return {"root_packages": config["root_packages"], "layers": layers["layers"]}


def test_the_contract_names_the_layers_bottom_up():
    layers = contract()["layers"]
    assert layers[-3:] == ["hub.records", "permissions", "hub.catalog"]
    assert layers[-4] == "connectors | operations"
    # Every top-level app of the project is in the contract, so a new app is checked too.
    apps = {
        path.parent.name
        for path in ROOT.glob("*/apps.py")
        if path.parent.name not in {"hub", "tests", "bench"}
    }
    named = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    assert apps <= named | {"hub"}, apps - named
    assert apps <= set(contract()["root_packages"])


@pytest.mark.skipif(LINT_IMPORTS is None, reason="import-linter not installed (requirements-dev)")
def test_imports_run_down_the_layers():
    result = subprocess.run(
        [LINT_IMPORTS, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 kept, 0 broken" in result.stdout, result.stdout[-2000:]
