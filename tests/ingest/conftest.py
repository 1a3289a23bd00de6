"""Fixtures of the ingest tests: a steward of the gas resource's provider, CSV files."""

from __future__ import annotations

import pytest

from tests.ingest.helpers import RESOURCE, gas_csv


@pytest.fixture
def gas(catalog):
    return catalog["resources"][RESOURCE]


@pytest.fixture
def housing(catalog):
    return catalog["departments"]["housing"]


@pytest.fixture
def steward(make_user, catalog):
    return make_user("housing", steward=True)


@pytest.fixture
def write_csv(tmp_path):
    """write_csv(name, rows=…, **gas_csv options) → path of a UTF-8 CSV file."""

    def write(name: str = "gas.csv", rows: int = 10, **options):
        path = tmp_path / name
        path.write_text(gas_csv(rows, **options), encoding="utf-8")
        return path

    return write
