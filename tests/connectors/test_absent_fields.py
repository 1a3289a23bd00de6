"""A field the file has no column for is read without its cells (``fields.absent``):
exactly what ``typed`` makes of as many empty cells, for every field of every demo
resource."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_series_equal

from connectors.normalisers.schema import load_schema
from connectors.pipeline import fields
from connectors.pipeline.parsing import _default_connector
from hub.catalog.models import DataResource


def _same(left, right) -> None:
    if left is None or right is None:
        assert left is None and right is None
    else:
        assert_series_equal(left, right, check_names=False)


@pytest.mark.parametrize("n", [1, 7, 900])
def test_absent_is_typed_of_empty_cells(catalog, n):
    checked = 0
    for resource in DataResource.objects.all():
        connector = _default_connector(resource)
        for info in load_schema(resource, connector).fields:
            if checked % 2:  # half from the cache, half computed afresh
                fields._EMPTY.clear()
            expected = fields.typed(info, pd.Series([""] * n, dtype=object), None, connector)
            got = fields.absent(info, connector, n)
            for left, right in zip(got, expected, strict=True):
                _same(left, right)
            assert got.missing.all() and not got.bad.any()
            checked += 1
    assert checked > 50


def test_a_push_naming_half_the_fields_stores_the_same(catalog):
    """The rows a push stores do not depend on whether the absent fields were read."""
    from connectors.pipeline.parsing import parse_records
    from connectors.profiles.registry import GenericConnector

    resource = DataResource.objects.get(code="gas-pipeline-pressure")
    records = [
        {"point_id": f"GP{n:06d}", "observed_at": "2026-01-01T08:00:00+08:00",
         "district": "310101", "pressure": 0.3 + n / 1000}
        for n in range(20)
    ]  # fmt: skip
    pushed = GenericConnector()  # as the push flush reads them (Table Schema units)
    chunk = parse_records(records=records, resource=resource, connector=pushed)
    assert chunk.valid.all() and not chunk.errors
    assert chunk.frame["temperature"].isna().all()
    assert chunk.frame["pressure_class"].isna().all()
    assert list(chunk.frame["pressure"].round(3)) == [round(0.3 + n / 1000, 3) for n in range(20)]
    fields._EMPTY.clear()
    again = parse_records(records=records, resource=resource, connector=pushed)
    pd.testing.assert_frame_equal(chunk.frame, again.frame)
