"""Property tests of the mapping assistant: for generated files whose headers, column
order, units, coordinate system and date layout are known, the proposal recovers them,
and the preview normalised with it shows the true values."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.proposal.engine import propose
from tests.connectors.proposal_files import (
    BUILT_IN_LAYOUTS,
    HEADERS,
    NAMED_LAYOUTS,
    PRESSURE_UNITS,
    TEMPERATURE_UNITS,
    Spec,
    map_data_or_skip,
    write_file,
)

pytestmark = pytest.mark.django_db

FIELDS = list(HEADERS)


@st.composite
def specs(draw) -> Spec:
    headers = {name: draw(st.sampled_from(HEADERS[name])) for name in FIELDS}
    return Spec(
        headers=headers,
        order=draw(st.permutations(FIELDS)),
        pressure_unit=draw(st.sampled_from(list(PRESSURE_UNITS))),
        temperature_unit=draw(st.sampled_from(list(TEMPERATURE_UNITS))),
        crs=draw(st.sampled_from(["wgs84", "gcj02", "bd09"])),
        layout=draw(st.sampled_from(NAMED_LAYOUTS + BUILT_IN_LAYOUTS)),
        seed=draw(st.integers(0, 2**32 - 1)),
        extra=draw(st.sampled_from([[], ["备注"], ["备注", "填报人"]])),
    )


def _preview(proposal, name: str) -> list[str]:
    index = proposal.preview_fields.index(name)
    return [row["values"][index] for row in proposal.preview]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(spec=specs())
def test_the_proposal_recovers_a_generated_file(resources, tmp_path, spec):
    map_data_or_skip()
    gas = resources["gas-pipeline-pressure"]
    matcher = gas.fields.get(name="district").code_list
    from connectors.normalisers.districts import matcher_for_code_list

    path = tmp_path / "generated.csv"
    truth = write_file(path, spec, matcher_for_code_list(matcher))
    proposal = propose(path=path, filename="generated.csv", resource=gas)

    # Headers: every column to its field, the extra columns ignored, nothing missing.
    assert {m.header: m.field for m in proposal.mapping} == {
        spec.headers[name]: name for name in FIELDS
    }
    assert proposal.ignored == spec.extra
    assert proposal.missing == []
    # Units from the value ranges (the headers state none).
    units = {u.field: u.unit for u in proposal.units}
    assert units == {"pressure": spec.pressure_unit, "temperature": spec.temperature_unit}
    # CRS: the transform putting the points in their districts.
    assert (proposal.crs.crs, proposal.crs.source) == (spec.crs, "districts"), proposal.crs
    assert proposal.crs.inside[spec.crs] == 1.0
    # Date layout: named when the built-in parser would not read it right.
    (date,) = proposal.dates
    expected = spec.layout if spec.layout in NAMED_LAYOUTS else ""
    assert (date.field, date.layout, date.parsed) == ("observed_at", expected, 1.0)
    # The preview, normalised with the proposal, shows the true values.
    rows = len(proposal.preview)
    assert rows == 10 and all(row["errors"] == [] for row in proposal.preview)
    assert _preview(proposal, "observed_at") == [
        t.strftime("%Y-%m-%d %H:%M:%S") for t in truth["times"][:rows]
    ]
    assert _preview(proposal, "district") == truth["codes"][:rows]
    assert [float(v) for v in _preview(proposal, "pressure")] == pytest.approx(
        list(truth["mpa"][:rows]), rel=1e-6
    )
    assert [float(v) for v in _preview(proposal, "latitude")] == pytest.approx(
        list(truth["lat"][:rows]), abs=2e-6
    )
    assert [float(v) for v in _preview(proposal, "longitude")] == pytest.approx(
        list(truth["lon"][:rows]), abs=2e-6
    )
