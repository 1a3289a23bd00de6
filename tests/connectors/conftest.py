"""Fixtures for connector tests: the demo catalog and a helper to write files."""

from __future__ import annotations

from pathlib import Path

import pytest

SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "samples"


@pytest.fixture
def resources(catalog):
    """Demo resources by code."""
    return catalog["resources"]


@pytest.fixture
def write(tmp_path):
    """write("name.csv", text_or_bytes, encoding="utf-8") -> Path."""

    def make(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return make
