"""考核: figures recomputed by hand from raw events equal the selectors', the page's, the
XLSX's and the API's; who may see them; audit; bad input."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from governance.assessment import selectors
from governance.assessment.indicators import checkpoints, on_time
from governance.assessment.periods import PERIOD_PATTERN, Period, default_period, parse_period
from permissions.models import AuditEvent
from tests.governance.assessment_world import EXPECTED, NOW, PERIOD, SCORES, SUBSCORES, build

pytestmark = pytest.mark.django_db
PAGE = "/governance/assessment/"
EXPORT = "/governance/assessment/export.xlsx"
API = "/api/v1/governance/assessment/"


@pytest.fixture
def world(time_machine, catalog, make_user):
    time_machine.move_to(NOW, tick=False)
    return build(time_machine, catalog, make_user)


def _by_code(table):
    return {row.code: row for row in table.rows}


def test_figures_equal_the_hand_computed_ones(world):
    table = selectors.assess(user=world["authority"], period=parse_period(PERIOD))
    rows = _by_code(table)
    for code, indicators in EXPECTED.items():
        for indicator, values in indicators.items():
            assert rows[code].figures[indicator].values == values, (code, indicator)
            assert rows[code].figures[indicator].score == SUBSCORES[code][indicator]
        assert rows[code].score == SCORES[code]
    assert [(r.code, r.rank) for r in table.rows[:2]] == [("housing", 1), ("water", 2)]
    # The other providers published nothing (score 0, sharing rank 3); departments that
    # provide no resource have nothing to assess: no score, no rank, listed last.
    assert rows["weather"].score == 0.0 and rows["weather"].rank == 3
    assert rows["fire"].rank == 3
    assert rows["bigdata"].score is None and rows["bigdata"].rank is None
    assert table.rows[-1].score is None


def test_weights_come_from_the_settings(world, settings):
    settings.HUB_ASSESSMENT_WEIGHTS = {"quality": 1, "objections": 0}
    table = selectors.assess(user=world["authority"], period=parse_period(PERIOD))
    rows = _by_code(table)
    assert rows["water"].score == 90.0 and rows["housing"].score == 100.0
    assert table.weights == {
        "catalog": 0.0,
        "freshness": 0.0,
        "requests": 0.0,
        "objections": 0.0,
        "quality": 1.0,
        "needs": 0.0,
    }
    assert rows["weather"].score is None  # no upload, the only weighted indicator


def test_only_the_authority_and_superusers_count(world):
    """Anyone else's ``assess`` door counts nothing, so a direct call scores nothing."""
    table = selectors.assess(user=world["water"], period=parse_period(PERIOD))
    assert {row.score for row in table.rows} == {None}
    root = selectors.assess(user=world["root"], period=parse_period(PERIOD))
    assert _by_code(root)["water"].score == SCORES["water"]


def test_page_shows_the_ranking_and_breakdown_and_is_audited(world, client):
    client.force_login(world["authority"])
    response = client.get(PAGE, {"period": PERIOD, "periods": "3"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-department="housing" data-score="90.0"' in html
    assert 'data-department="water" data-score="54.9"' in html
    assert "65.6%" in html  # water's mean on-time rate, in its breakdown
    trend = response.context["trend"]
    assert trend["periods"] == ["2026-01", "2026-02", "2026-03"]
    water = next(s for s in trend["series"] if s["code"] == "water")
    assert water["scores"][-1] == SCORES["water"]
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.actor, event.detail["view"], event.detail["period"]) == (
        "read",
        world["authority"].username,
        "assessment",
        PERIOD,
    )


def test_export_is_the_same_figures_one_sheet_per_indicator_and_byte_stable(world, client):
    client.force_login(world["authority"])
    first = client.get(EXPORT, {"period": PERIOD})
    assert first.status_code == 200
    assert first["Content-Disposition"] == 'attachment; filename="assessment-2026-03.xlsx"'
    book = load_workbook(io.BytesIO(first.content))
    assert book.sheetnames == [
        "汇总",
        "资源编目与发布",
        "数据按时更新",
        "共享申请按时答复",
        "数据异议按时办结",
        "上传数据质量",
        "数据需求按时响应",
        "说明",
    ]
    summary = list(book["汇总"].iter_rows(values_only=True))
    assert summary[0][0] == "政务数据共享考核汇总表（2026年3月）"
    assert summary[2][:5] == ("排名", "部门代码", "部门", "综合得分", "资源编目与发布得分")
    lines = {row[1]: row for row in summary[3:]}
    assert lines["housing"][:4] == (1, "housing", "上海市住房和城乡建设管理委员会", 90.0)
    assert lines["water"][3:] == (54.9, 66.7, 65.6, 25.0, 33.3, 90.0, 50.0)
    requests = list(book["共享申请按时答复"].iter_rows(values_only=True))
    assert requests[1] == (
        "部门代码",
        "部门",
        "收到申请",
        "按时答复",
        "逾期答复",
        "超期未答复",
        "未到期",
        "拒绝（附理由）",
        "拒绝（未附理由）",
        "按时答复率",
        "指标得分",
    )
    water = next(row for row in requests if row[0] == "water")
    assert water[2:] == (5, 2, 1, 1, 1, 1, 1, 0.5, 25.0)
    fresh = next(r for r in book["数据按时更新"].iter_rows(values_only=True) if r[0] == "water")
    assert fresh[2:] == (2, 34, 22, 0.6559, 65.6)
    second = client.get(EXPORT, {"period": PERIOD})
    assert second.content == first.content
    event = AuditEvent.objects.order_by("-sequence").first()
    assert (event.action, event.detail["format"], event.rows) == ("export", "xlsx", 15)


def test_api_answers_the_same_figures(world, api_client):
    api_client.force_authenticate(world["authority"])
    body = api_client.get(API, {"period": PERIOD}).json()
    assert (body["period"], body["start"], body["end"]) == (PERIOD, "2026-03-01", "2026-04-01")
    results = {row["code"]: row for row in body["results"]}
    for code, indicators in EXPECTED.items():
        assert results[code]["score"] == SCORES[code]
        for indicator, values in indicators.items():
            assert results[code]["indicators"][indicator]["values"] == values
    assert [i["code"] for i in body["indicators"]] == [
        "catalog",
        "freshness",
        "requests",
        "objections",
        "quality",
        "needs",
    ]


@pytest.mark.parametrize("url", [PAGE, EXPORT])
def test_others_get_the_friendly_403_and_anonymous_the_login(world, client, url):
    assert client.get(url).status_code == 302
    client.force_login(world["water"])
    response = client.get(url)
    assert response.status_code == 403
    assert "没有权限" in response.content.decode()
    client.force_login(world["root"])
    assert client.get(url, {"period": PERIOD}).status_code == 200


def test_api_refuses_others(world, api_client):
    assert api_client.get(API).status_code == 401
    api_client.force_authenticate(world["water"])
    assert api_client.get(API).status_code == 403


@pytest.mark.parametrize("value", ["2026-13", "2026-Q5", "26-03", "march", "2026-03-01"])
def test_a_bad_period_is_a_400_naming_it(world, client, api_client, value):
    client.force_login(world["authority"])
    response = client.get(PAGE, {"period": value})
    assert response.status_code == 400
    assert "考核期" in response.content.decode()
    assert client.get(EXPORT, {"period": value}).status_code == 400
    api_client.force_authenticate(world["authority"])
    answer = api_client.get(API, {"period": value})
    assert answer.status_code == 400 and "period" in answer.json()


def test_api_refuses_a_blank_period(world, api_client):
    """``?period=`` is below the schema's pattern: a 400 naming it, not the default period."""
    api_client.force_authenticate(world["authority"])
    answer = api_client.get(API + "?period=")
    assert answer.status_code == 400 and list(answer.json()) == ["period"]
    assert api_client.get(API).status_code == 200


@pytest.mark.parametrize("value", ["1", "25", "x"])
def test_a_bad_trend_length_is_a_400(world, client, value):
    client.force_login(world["authority"])
    response = client.get(PAGE, {"period": PERIOD, "periods": value})
    assert response.status_code == 400
    assert "periods" in response.content.decode()


def test_page_follows_the_site_conventions(world, client):
    client.force_login(world["authority"])
    html = client.get(PAGE, {"period": PERIOD}).content.decode()
    assert 'action="/i18n/setlang/"' in html and 'value="en"' in html
    assert '<link rel="icon" href="/static/hub/favicon.ico' in html
    assert '<script src="/static/echarts/dist/echarts.min.js">' in html  # no CDN
    client.post("/i18n/setlang/", {"language": "en", "next": PAGE})
    english = client.get(PAGE, {"period": PERIOD}).content.decode()
    assert "Data sharing assessment" in english and "Updates on time" in english


@given(
    year=st.integers(2000, 2099),
    kind=st.sampled_from(["month", "quarter", "year"]),
    number=st.integers(1, 12),
)
def test_period_labels_parse_back(year, kind, number):
    number = 1 if kind == "year" else (number if kind == "month" else (number - 1) // 3 + 1)
    period = Period(year, number, kind)
    assert parse_period(period.label) == period
    assert re.match(PERIOD_PATTERN, period.label)
    assert period.start < period.end
    assert period.previous().end == period.start
    assert period.last(3)[-1] == period and period.last(3)[0].end == period.last(3)[1].start


@given(st.text(max_size=12))
def test_the_pattern_is_the_parser(text):
    accepted = True
    try:
        parse_period(text.strip())
    except ValidationError:
        accepted = False
    assert accepted == bool(re.match(PERIOD_PATTERN, text.strip()))


def test_checkpoints_and_on_time():
    start = NOW - dt.timedelta(days=3)
    day = dt.timedelta(days=1)
    points = checkpoints(start, NOW + dt.timedelta(hours=12), day)
    assert points == [start + day, start + 2 * day, NOW, NOW + dt.timedelta(hours=12)]
    loads = [start + dt.timedelta(hours=5), NOW - dt.timedelta(minutes=1)]
    # A load counts for the checkpoint a cycle after it at most: (point - cycle, point].
    assert on_time(loads, points, day) == 3
    assert on_time([], points, day) == 0


def test_the_assess_door_of_each_model(world):
    """``assess`` counts every row for the authority and superusers, none for others;
    of the audit log only the catalog's change events."""
    from governance.models import Objection
    from governance.needs.models import DataNeed
    from hub.catalog.models import DataResource
    from hub.records.models import UploadBatch
    from permissions.models import AccessRequest

    for model in (DataResource, UploadBatch, AccessRequest, Objection, DataNeed):
        every = model._default_manager.count()
        assert every > 0
        assert model.objects.restrict(world["authority"], "assess").count() == every
        assert model.objects.restrict(world["root"], "assess").count() == every
        assert model.objects.restrict(world["water"], "assess").count() == 0, model
    events = AuditEvent.objects.restrict(world["authority"], "assess")
    assert set(events.values_list("action", flat=True)) == {"catalog_change"}
    assert events.count() == 2  # the two withdrawals of the world
    assert AuditEvent.objects.restrict(world["water"], "assess").count() == 0


@pytest.mark.parametrize("value", ["2026-3", "2026年3月"])
def test_a_typo_in_the_period_box_keeps_the_page(world, client, value):
    client.force_login(world["authority"])
    response = client.get(PAGE, {"period": value})
    assert (response.status_code, response["Content-Type"]) == (400, "text/html; charset=utf-8")
    html = response.content.decode()
    assert f'name="period" value="{value}"' in html
    (error,) = re.findall(r'<span id="period-error"[^>]*>([^<]*)</span>', html)
    assert "考核期" in error and value in error
    assert response.context["period"] == default_period()
    assert 'id="ranking"' in html


def test_periods_show_their_last_day(world, client):
    client.force_login(world["authority"])
    html = client.get(PAGE, {"period": "2026-Q4"}).content.decode()
    assert "2026-10-01 — 2026-12-31" in html and "2027-01-01" not in html
    html = client.get(PAGE, {"period": PERIOD}).content.decode()
    assert "2026-03-01 — 2026-03-31" in html
    book = load_workbook(io.BytesIO(client.get(EXPORT, {"period": "2026-Q4"}).content))
    cells = [c for row in book["汇总"].iter_rows(values_only=True) for c in row if c]
    assert "2026-10-01 — 2026-12-31" in " ".join(str(c) for c in cells)
    assert "2027-01-01" not in " ".join(str(c) for c in cells)
