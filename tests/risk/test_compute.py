"""The computation of the risk index: a worked example checked by hand, stale sources, the
permission door of the computation, recomputation after a load, audited configuration."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import PermissionDenied

from risk.models import RiskIndicator, RiskIndicatorValue, RiskScore, RiskSnapshot
from risk.services import compute_snapshot
from tests.risk.conftest import A, B

pytestmark = pytest.mark.django_db


def scores(snapshot, hazard="all") -> dict[str, RiskScore]:
    return {s.district_code: s for s in RiskScore.objects.filter(snapshot=snapshot, hazard=hazard)}


def values(snapshot, code) -> dict[str, RiskIndicatorValue]:
    rows = RiskIndicatorValue.objects.filter(snapshot=snapshot, indicator_code=code)
    return {v.district_code: v for v in rows}


def test_worked_example_two_districts_by_hand(worked):
    result = compute_snapshot(trigger="test", now=worked.now)
    snap = result.snapshot
    # Raw values per district (A = 黄浦 310101, B = 浦东 310115):
    #   ponding max depth  A max(4, 10) = 10      B max(30, 12) = 30
    #   rain 24 h max      A 50                   B 80
    #   poor bridge share  A 1 of 4 (C) = 0.25    B 2 of 2 (D, E) = 1.0
    #   congestion mean    A (7 + 9) / 2 = 8      B 4
    #   shelter capacity   A 4000 + 6000 = 10000  B 30000
    raw = {code: values(snap, code) for code in ("ponding", "rain", "poor-bridges", "congestion",
                                                 "shelters")}  # fmt: skip
    assert [raw["ponding"][A].raw, raw["ponding"][B].raw] == [10.0, 30.0]
    assert [raw["rain"][A].raw, raw["rain"][B].raw] == [50.0, 80.0]
    assert [raw["poor-bridges"][A].raw, raw["poor-bridges"][B].raw] == [0.25, 1.0]
    assert [raw["congestion"][A].raw, raw["congestion"][B].raw] == [8.0, 4.0]
    assert [raw["shelters"][A].raw, raw["shelters"][B].raw] == [10000.0, 30000.0]
    # Normalised (0–10):
    #   ponding, goalposts 0–40:   A 10·10/40 = 2.5        B 10·30/40 = 7.5
    #   rain, goalposts 0–100:     A 5.0                   B 8.0
    #   poor bridges, observed min–max over the districts with bridges (0.25 … 1.0):
    #                              A 0                     B 10
    #   congestion, observed 4 … 8: A 10                   B 0
    #   shelters, goalposts 0–40000, more capacity = less risk:
    #                              A 10·(1 − 10000/40000) = 7.5   B 10·(1 − 30000/40000) = 2.5
    assert [raw["ponding"][A].normalised, raw["ponding"][B].normalised] == [2.5, 7.5]
    assert [raw["rain"][A].normalised, raw["rain"][B].normalised] == [5.0, 8.0]
    assert [raw["poor-bridges"][A].normalised, raw["poor-bridges"][B].normalised] == [0.0, 10.0]
    assert [raw["congestion"][A].normalised, raw["congestion"][B].normalised] == [10.0, 0.0]
    assert [raw["shelters"][A].normalised, raw["shelters"][B].normalised] == [7.5, 2.5]
    # Dimensions (weighted arithmetic means; ponding weighs 2, rain 1):
    #   HE   A (2·2.5 + 1·5) / 3 = 10/3 ≈ 3.333    B (2·7.5 + 1·8) / 3 = 23/3 ≈ 7.667
    #   V    A (0 + 10) / 2 = 5                    B (10 + 0) / 2 = 5
    #   LCC  A 7.5                                 B 2.5
    # Risk (geometric mean):
    #   A (10/3 · 5 · 7.5)^(1/3) = 125^(1/3) = 5.0          → 高 (high, 5.0 ≤ r < 6.5)
    #   B (23/3 · 5 · 2.5)^(1/3) = 95.833^(1/3) ≈ 4.576     → 中 (medium, 3.5 ≤ r < 5.0)
    for hazard in ("all", "waterlogging"):  # the same indicators count for both here
        got = scores(snap, hazard)
        assert got[A].hazard_exposure == pytest.approx(10 / 3)
        assert got[B].hazard_exposure == pytest.approx(23 / 3)
        assert got[A].vulnerability == pytest.approx(5.0)
        assert got[B].vulnerability == pytest.approx(5.0)
        assert got[A].coping == pytest.approx(7.5)
        assert got[B].coping == pytest.approx(2.5)
        assert got[A].risk == pytest.approx(5.0)
        assert got[B].risk == pytest.approx(math.pow(23 / 3 * 5 * 2.5, 1 / 3))
        assert got[B].risk == pytest.approx(4.576, abs=1e-3)
        assert (got[A].risk_class, got[B].risk_class) == ("high", "medium")
        # 徐汇 has no ponding, rain, bridge or congestion data: missing, not invented.
        assert got["310104"].hazard_exposure is None
        assert got["310104"].risk is None and got["310104"].risk_class == "no_data"
    assert result.scores == 16 * 2
    assert snap.computed_as == "svc-cityops" and snap.department == "cityops"


def test_count_and_sum_are_zero_where_a_district_has_no_records(worked):
    snap = compute_snapshot(trigger="test", now=worked.now).snapshot
    shelters = values(snap, "shelters")
    assert shelters["310104"].raw == 0.0 and shelters["310104"].status == "ok"
    # A mean of nothing stays missing.
    congestion = values(snap, "congestion")
    assert congestion["310104"].raw is None and congestion["310104"].status == "no_data"


def test_stale_indicator_keeps_its_last_value_flagged_and_the_index_stays(worked):
    RiskIndicator.objects.filter(code="rain").update(window_hours=1)
    first = compute_snapshot(trigger="test", now=worked.now).snapshot
    before = scores(first)
    assert values(first, "rain")[A].raw == 50.0 and not values(first, "rain")[A].stale
    # Two hours later no new rainfall was loaded: the realtime resource (cycle 15 min) is
    # stale and its one-hour window is empty; the last known values are carried.
    later = worked.now + timedelta(hours=2)
    second = compute_snapshot(trigger="test", now=later).snapshot
    rain = values(second, "rain")
    assert rain[A].raw == 50.0 and rain[B].raw == 80.0
    assert rain[A].stale and rain[A].value_at == values(first, "rain")[A].value_at
    assert "rain" in second.stale_indicators and "ponding" in second.stale_indicators
    assert "shelters" not in second.stale_indicators  # yearly inventory, loaded just now
    after = scores(second)
    assert after[A].risk == pytest.approx(before[A].risk)
    assert after[B].risk == pytest.approx(before[B].risk)
    # rain, ponding and congestion are realtime resources: all three stale, all counted.
    assert after[A].stale_indicators == 3
    assert "congestion" in second.stale_indicators


def test_changed_configuration_is_not_carried(worked):
    RiskIndicator.objects.filter(code="rain").update(window_hours=1)
    compute_snapshot(trigger="test", now=worked.now)
    RiskIndicator.objects.filter(code="rain").update(window_hours=2)
    later = compute_snapshot(trigger="test", now=worked.now + timedelta(hours=3)).snapshot
    rain = values(later, "rain")
    assert rain[A].raw is None and rain[A].stale  # shown as stale and missing, not guessed


def test_computation_reads_only_what_the_ops_centre_may_read(risk_env):
    """医疗机构床位 is 有条件共享 (provider 卫健委): no grant, no value; a grant limited to
    黄浦 opens 黄浦 only (浦东 stays missing, not zero)."""
    risk_env.load(
        "hospital-emergency-capacity",
        [
            {"hospital_id": "H1", "report_date": "2025-07-01", "district": A, "beds_total": 1000},
            {"hospital_id": "H2", "report_date": "2025-07-01", "district": B, "beds_total": 3000},
        ],
    )
    risk_env.seed(
        [
            {
                "code": "beds",
                "name": "床位",
                "dimension": "coping",
                "hazard": "all",
                "resource": "hospital-emergency-capacity",
                "field": "beds_total",
                "aggregation": "sum",
                "direction": "higher_less_risk",
            }
        ]
    )
    first = compute_snapshot(trigger="test", now=risk_env.now).snapshot
    beds = values(first, "beds")
    assert beds[A].status == "no_access" and beds[A].raw is None and beds[B].raw is None
    assert first.unavailable_indicators == ["beds"]
    assert not beds[A].stale  # unreadable is not stale

    from permissions.services import grant_access

    grant_access(
        user=None,
        resource=risk_env.resources["hospital-emergency-capacity"],
        department=risk_env.departments["cityops"],
        expires_at=risk_env.now + timedelta(days=30),
        districts=[A],
    )
    second = compute_snapshot(trigger="test", now=risk_env.now).snapshot
    beds = values(second, "beds")
    assert beds[A].raw == 1000.0 and beds[A].status == "ok"
    assert beds[B].raw is None and beds["310104"].raw is None
    assert second.unavailable_indicators == []


def test_unshared_resource_and_masked_fields_are_not_read(risk_env):
    from permissions.services import grant_access

    risk_env.seed(
        [
            {
                "code": "police",
                "name": "警情",
                "dimension": "vulnerability",
                "hazard": "gas",
                "resource": "public-security-incidents",
                "aggregation": "count",
            },
            {
                "code": "phones",
                "name": "电话",
                "dimension": "vulnerability",
                "hazard": "gas",
                "resource": "gas-leak-alarms",
                "field": "phone",
                "aggregation": "count_match",
                "match_values": ["13900000000"],
            },
            {
                "code": "leaks",
                "name": "泄漏",
                "dimension": "vulnerability",
                "hazard": "gas",
                "resource": "gas-leak-alarms",
                "aggregation": "count",
            },
        ]
    )
    risk_env.load(
        "gas-leak-alarms",
        [{"alarm_id": "L1", "occurred_at": risk_env.now, "district": A, "phone": "13900000000"}],
    )
    grant_access(
        user=None,
        resource=risk_env.resources["gas-leak-alarms"],
        department=risk_env.departments["cityops"],
        expires_at=risk_env.now + timedelta(days=30),
    )
    snap = compute_snapshot(trigger="test", now=risk_env.now).snapshot
    # 不予共享 (110 治安警情): only the police read it; the ops centre gets nothing.
    assert values(snap, "police")[A].status == "no_access"
    # The grant serves the phone number masked: it cannot be matched or summed.
    assert values(snap, "phones")[A].status == "no_access"
    # Counting the granted records needs no field.
    assert values(snap, "leaks")[A].raw == 1.0


def test_audit_event_of_the_computation(worked):
    from permissions.models import AuditEvent

    snap = compute_snapshot(trigger="test", now=worked.now).snapshot
    event = AuditEvent.objects.filter(action="risk_compute").latest("sequence")
    assert event.actor == "svc-cityops"
    assert event.detail["snapshot"] == snap.pk
    assert event.detail["resources"]["road-ponding"] == 4


def test_a_loaded_batch_recomputes(worked, settings):
    from hub.records.models import UploadBatch
    from hub.records.signals import batch_loaded

    settings.RISK_RECOMPUTE_DELAY = 0
    cache.clear()
    batch = UploadBatch.objects.filter(resource=worked.resources["road-ponding"]).first()
    batch_loaded.send(sender=UploadBatch, batch=batch)
    assert RiskSnapshot.objects.filter(trigger="load").count() == 1
    # A resource no indicator reads: no recomputation.
    cache.clear()
    other = worked.load("air-quality", [{"station_id": "Q1", "observed_at": worked.now,
                                         "district": A, "aqi": 50}])  # fmt: skip
    batch_loaded.send(sender=UploadBatch, batch=other)
    assert RiskSnapshot.objects.filter(trigger="load").count() == 1


def test_a_corrected_value_recomputes(
    worked, settings, make_user, django_capture_on_commit_callbacks
):
    """An objection's correction changes an indicator's source in place: the index is
    recomputed from the corrected value, as after a load."""
    import datetime as dt

    from django.utils import timezone

    from governance import services
    from hub.catalog.models import Department
    from hub.records.models import Record
    from permissions.services import grant_access

    settings.RISK_RECOMPUTE_DELAY = 0
    cache.clear()
    ponding = worked.resources["road-ponding"]
    grant_access(
        user=None,
        resource=ponding,
        department=Department.objects.get(code="police"),
        fields=["point_id", "observed_at", "district", "depth"],
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    record = Record.objects.get(resource=ponding, data__point_id="P3")
    objection = services.file_objection(
        user=make_user("police"),
        department=worked.departments["police"],
        resource=ponding,
        scope="field",
        record_key=record.key,
        field_name="depth",
        reason="传感器读数异常",
    ).objection
    steward = make_user(ponding.provider.code, steward=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.correct_value(user=steward, objection=objection, value=5.0)
    snapshot = RiskSnapshot.objects.get(trigger="load")
    raw = RiskIndicatorValue.objects.get(
        snapshot=snapshot, indicator_code="ponding", district_code=B
    )
    assert raw.raw == 12.0  # P3's 30 cm corrected to 5: P4's 12 cm is now B's maximum


def test_indicator_writes_are_for_operators_and_audited(worked, make_user):
    from permissions.models import AuditEvent
    from risk.services import update_indicator

    indicator = RiskIndicator.objects.get(code="rain")
    outsider = make_user("water")
    with pytest.raises(PermissionDenied):
        update_indicator(user=outsider, indicator=indicator, changes={"weight": 3.0})
    operator = make_user("cityops")
    change = update_indicator(user=operator, indicator=indicator, changes={"weight": 3.0})
    assert change.before["weight"] == 1.0 and change.after["weight"] == 3.0
    event = AuditEvent.objects.filter(action="risk_indicator").latest("sequence")
    assert event.actor == operator.username
    assert event.detail["changes"] == {"weight": [1.0, 3.0]}
    with pytest.raises(Exception, match="权重"):
        update_indicator(user=operator, indicator=indicator, changes={"weight": -1.0})


def test_beat_task_computes_and_prunes_old_history(worked, settings):
    from risk.services import prune_snapshots
    from risk.tasks import compute_risk_index

    old = compute_snapshot(trigger="test", now=worked.now - timedelta(days=120)).snapshot
    settings.RISK_HISTORY_DAYS = 90
    snapshot_id = compute_risk_index()
    assert RiskSnapshot.objects.get(pk=snapshot_id).trigger == "beat"
    assert not RiskSnapshot.objects.filter(pk=old.pk).exists()
    assert RiskScore.objects.filter(snapshot_id=old.pk).count() == 0
    # The latest snapshot stays, however old.
    RiskSnapshot.objects.exclude(pk=snapshot_id).delete()
    assert prune_snapshots(keep_days=0, now=worked.now + timedelta(days=400)) == 0
    assert RiskSnapshot.objects.filter(pk=snapshot_id).exists()


def test_beat_task_without_indicators_does_nothing(risk_env):
    from risk.tasks import compute_risk_index

    assert compute_risk_index() is None
    assert not RiskSnapshot.objects.exists()


def test_records_are_not_grouped_by_a_district_the_grant_withholds(risk_env):
    """A grant without the district field: the records cannot be placed in districts."""
    from permissions.services import grant_access

    risk_env.load(
        "hospital-emergency-capacity",
        [{"hospital_id": "H1", "report_date": "2025-07-01", "district": A, "beds_total": 1000}],
    )
    risk_env.seed(
        [
            {
                "code": "beds",
                "name": "床位",
                "dimension": "coping",
                "hazard": "all",
                "resource": "hospital-emergency-capacity",
                "field": "beds_total",
                "aggregation": "sum",
                "direction": "higher_less_risk",
            }
        ]
    )
    grant = grant_access(
        user=None,
        resource=risk_env.resources["hospital-emergency-capacity"],
        department=risk_env.departments["cityops"],
        expires_at=risk_env.now + timedelta(days=30),
        fields=["hospital_id", "report_date", "beds_total"],
    )
    beds = values(compute_snapshot(trigger="test", now=risk_env.now).snapshot, "beds")
    assert beds[A].status == "no_access" and beds[A].raw is None
    grant.fields = [*grant.fields, "district"]
    grant.save(update_fields=["fields"])
    beds = values(compute_snapshot(trigger="test", now=risk_env.now).snapshot, "beds")
    assert beds[A].raw == 1000.0


def test_alerts_are_not_placed_in_a_district_the_grant_withholds(risk_env, settings):
    """Without the 一网统管 view, the ops centre reads a bridge alert under a grant that
    withholds the district: the alert counts in no district."""
    from operations.models import Rule
    from operations.services.mappings import ensure_default_mappings
    from operations.services.sync import sync_batch
    from permissions.models import AccessGrant
    from permissions.services import grant_access

    settings.HUB_OPS_CENTRE_SEES_ALL = False
    ensure_default_mappings()
    bridge = risk_env.resources["bridge-structural-health"]
    Rule.objects.create(
        name="挠度", kind="threshold", hazard="桥梁挠度超限", metric="deflection", orange=100,
        resource=bridge,
    )  # fmt: skip
    row = {"bridge_id": "B1", "sensor_id": "S1", "observed_at": risk_env.now, "district": A}
    sync_batch(batch_id=risk_env.load(bridge.code, [{**row, "deflection": 131.0}]).pk)
    grant_access(
        user=None,
        resource=bridge,
        department=risk_env.departments["cityops"],
        expires_at=risk_env.now + timedelta(days=30),
        fields=["bridge_id", "sensor_id", "deflection"],
    )
    spec = {
        "code": "bridge-alerts",
        "name": "桥梁在办预警",
        "dimension": "hazard_exposure",
        "hazard": "bridge",
        "source_kind": "alerts",
        "aggregation": "alert_levels",
        "match_values": ["bridge"],
    }
    risk_env.seed([spec])
    alerts = values(compute_snapshot(trigger="test", now=risk_env.now).snapshot, "bridge-alerts")
    assert alerts[A].raw == 0.0
    granted = ["bridge_id", "sensor_id", "district"]
    AccessGrant.objects.filter(resource=bridge).update(fields=granted)
    alerts = values(compute_snapshot(trigger="test", now=risk_env.now).snapshot, "bridge-alerts")
    assert alerts[A].raw == 3.0
