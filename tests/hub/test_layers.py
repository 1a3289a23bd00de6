"""The layers hold: imports run down catalog -> permissions -> records -> connectors /
operations -> the top apps (import-linter's ``layers`` contract in pyproject.toml).

Direct and indirect imports both count (a chain through the project package ``hub``
too), so a lower app learns of a higher one's events only through signals. Inside
connectors a second contract keeps its packages in layers, and no modules of the app
import each other in a circle.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

try:
    import grimp  # import-linter's graph builder
except ImportError:  # requirements-dev not installed
    grimp = None

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent))


APPS_CONTRACT = "Apps import down the layers only"
CONNECTORS_CONTRACT = "Connectors packages import down only"


def contract(name: str = APPS_CONTRACT) -> dict:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c for c in config["contracts"] if c["name"] == name]
    assert layers["type"] == "layers"
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
    assert "2 kept, 0 broken" in result.stdout, result.stdout[-2000:]


def test_the_connectors_packages_are_in_the_contract():
    layers = contract(CONNECTORS_CONTRACT)["layers"]
    assert layers[0] == "connectors.pipeline"
    assert layers[-1] == "connectors.base | connectors.models"
    # Every package of the app but its Django ones is a layer, so a new one is placed.
    packages = {
        path.parent.name
        for path in (ROOT / "connectors").glob("*/__init__.py")
        if path.parent.name not in {"api", "management", "migrations", "proposal"}
    }
    named = {name.strip() for layer in layers for name in layer.split("|")}
    assert {f"connectors.{name}" for name in packages} <= named


def _circles(graph) -> list[set[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups: list[set[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for other in graph.find_modules_directly_imported_by(module):
            if other not in index:
                visit(other)
                low[module] = min(low[module], low[other])
            elif other in stack:
                low[module] = min(low[module], index[other])
        if low[module] == index[module]:
            group = set()
            while not group or module not in group:
                group.add(stack.pop())
            if len(group) > 1:
                groups.append(group)

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return groups


@pytest.mark.skipif(grimp is None, reason="import-linter not installed (requirements-dev)")
def test_no_import_circles_in_connectors():
    """Imports inside functions count too (they were how the old circles hid); imports
    only for type checkers do not run and are left out."""
    graph = grimp.build_graph("connectors", exclude_type_checking_imports=True, cache_dir=None)
    assert _circles(graph) == []


@pytest.mark.skipif(grimp is None, reason="import-linter not installed (requirements-dev)")
def test_the_circle_finder_finds_one(tmp_path, monkeypatch):
    package = tmp_path / "circled"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from circled import b\n")
    (package / "b.py").write_text("from circled import c\n")
    (package / "c.py").write_text("import circled.a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    graph = grimp.build_graph("circled", cache_dir=None)
    assert _circles(graph) == [{"circled.a", "circled.b", "circled.c"}]
