"""Fixtures for connector tests: demo resources loaded on demand, a file writer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "fixtures" / "samples"


def _fixture(name: str):
    return json.loads((ROOT / "fixtures" / name).read_text(encoding="utf-8"))


class DemoResources(dict):
    """Demo resources by code, each created (with its provider) on first access.

    Loading the whole demo catalog per test costs most of the suite's time; a parser test
    needs one or two resources.
    """

    def __init__(self):
        super().__init__()
        from hub.catalog.seed import upsert_code_list

        upsert_code_list(**_fixture("districts.json"))
        self._departments = {item["code"]: item for item in _fixture("departments.json")}
        self._specs = {item["code"]: item for item in _fixture("resources.json")}

    def __missing__(self, code: str):
        from hub.catalog.models import Department
        from hub.catalog.seed import publish_resource, upsert_department, upsert_resource

        spec = dict(self._specs[code])
        provider_code = spec.pop("provider")
        provider = Department.objects.filter(code=provider_code).first() or upsert_department(
            **self._departments[provider_code]
        )
        resource = publish_resource(resource=upsert_resource(provider=provider, **spec))
        self[code] = resource
        return resource


@pytest.fixture
def resources(db):
    """Demo resources by code, loaded lazily."""
    return DemoResources()


@pytest.fixture
def write(tmp_path):
    """write("name.csv", text_or_bytes, encoding="utf-8") -> Path."""

    def make(name: str, content: str | bytes, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
        return path

    return make
