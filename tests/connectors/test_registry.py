"""The connector registry and the department hooks."""

from __future__ import annotations

import pandas as pd
import pytest

from connectors.base import Connector
from connectors.pipeline.parsing import parse_file
from connectors.profiles.registry import GenericConnector, register, registered
from connectors.profiles.resolve import connector_for


def test_every_connector_is_complete():
    connectors = registered()
    assert len(connectors) >= 6
    assert len({cls.department for cls in connectors.values()}) >= 6
    for code, cls in connectors.items():
        assert cls.code == code and cls.version and cls.department and cls.resources
        assert cls.source_crs in ("wgs84", "gcj02", "bd09", "cgcs2000")
        assert cls.__doc__


def test_codes_are_unique():
    class Duplicate(Connector):
        code = "housing.gas"

    with pytest.raises(ValueError, match="registered twice"):
        register(Duplicate)
    with pytest.raises(ValueError, match="needs its own code"):
        register(GenericConnector)


def test_uploading_department_wins(resources):
    from hub.catalog.models import Department

    resource = resources["gas-pipeline-pressure"]
    resources["fire-incidents"]  # creates the fire department
    fire = Department.objects.get(code="fire")
    assert connector_for(resource, fire).code == "housing.gas"  # only the provider has one
    assert connector_for(resources["emergency-shelters"]).code == "generic"


def test_hooks_see_original_headers_and_run_in_order(resources, write):
    seen: dict[str, object] = {}

    class Spy(Connector):
        code = "test.spy"
        resources = ("gas-pipeline-pressure",)

        def prepare(self, raw: pd.DataFrame) -> pd.DataFrame:
            seen["headers"] = list(raw.columns)
            raw.iloc[:, 3] = raw.iloc[:, 3].str.replace("约", "", regex=False)
            return raw

        def finalise(self, chunk):
            seen["pressure"] = float(chunk.frame.loc[0, "pressure"])
            chunk.frame["pressure"] = chunk.frame["pressure"].round(1)
            return chunk

    path = write(
        "spy.csv",
        "监测点编号,监测时间,所属区,管网压力(MPa)\nGP000001,2025-07-01 14:30,黄浦,约0.34\n",
    )
    (chunk,) = parse_file(
        path=path, filename="spy.csv", resource=resources["gas-pipeline-pressure"], connector=Spy()
    )
    assert seen == {
        "headers": ["监测点编号", "监测时间", "所属区", "管网压力(MPa)"],
        "pressure": 0.34,
    }
    assert chunk.frame.loc[0, "pressure"] == pytest.approx(0.3)
    assert chunk.raw.iloc[0, 3] == "约0.34"  # the report shows what the user sent
