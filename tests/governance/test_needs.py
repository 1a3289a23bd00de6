"""Data needs (需求清单): each service, its audit event and notifications, the deadline on
the official calendar, the routing suggestions, and the permission refusals (404 for
callers who may not see a need, 403 for those who see it but may not act)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.models import Notification
from governance.needs import routing, selectors, services
from governance.needs.models import DataNeed, NeedAnswer, NeedStatus
from permissions.models import AccessRequest, AuditEvent

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2025-09-22 10:00; ten working days later, counting Sunday 09-28 (调休), skipping
# the National Day holiday 10-01..10-08, and counting Saturday 10-11 (调休): 10-11 10:00.
ROUTED = dt.datetime(2025, 9, 22, 10, 0, tzinfo=SHANGHAI)
DUE = dt.datetime(2025, 10, 11, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def people(catalog, make_user):
    return {
        name: make_user(name) for name in ("emergency", "water", "housing", "bigdata", "police")
    } | {"root": make_user(superuser=True)}


def file(people, **overrides):
    values = {
        "user": people["emergency"],
        "department": people["emergency"].groups.get(department__isnull=False).department,
        "title": "道路积水实时数据",
        "description": "汛期各区道路积水深度，用于调度排水抢险力量",
        "purpose": "防汛应急指挥",
        "legal_basis": "《上海市防汛条例》第二十条",
        "update_cycle": "realtime",
        "fields": ["积水深度", "road_name"],
        "keywords": ["积水", "防汛"],
        "districts": ["310101"],
    }
    return services.file_need(**{**values, **overrides}).need


def route(people, need, provider="water", candidates=("road-ponding",)):
    from hub.catalog.models import Department

    return services.route_need(
        user=people["bigdata"],
        need=need,
        provider=Department.objects.get(code=provider),
        candidates=list(candidates),
        note="积水监测由水务局负责",
    ).need


def audit(action):
    events = AuditEvent.objects.filter(action=action).order_by("sequence")
    return list(events.values_list("detail", flat=True))


def test_file_notifies_the_authority_and_is_audited(people):
    need = file(people)
    assert (need.status, need.department.code, need.districts) == ("filed", "emergency", ["310101"])
    assert need.fields == ["积水深度", "road_name"]
    [detail] = audit("need_file")
    assert detail["need"] == need.pk and detail["department"] == "emergency"
    [note] = Notification.objects.all()
    assert (note.code, note.recipient_department.code) == ("need_filed", "bigdata")
    assert "道路积水实时数据" in note.message


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"purpose": "  "}, "purpose"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"update_cycle": "hourlyish"}, "update_cycle"),
        ({"districts": ["黄浦区"]}, "districts"),
        ({"fields": ["x" * 101]}, "fields"),
    ],
)
def test_file_refuses_bad_input_naming_the_field(people, overrides, field):
    with pytest.raises(ValidationError) as caught:
        file(people, **overrides)
    assert field in caught.value.message_dict
    assert not DataNeed.objects.exists()


def test_file_only_for_ones_own_department(people):
    with pytest.raises(PermissionDenied):
        file(people, user=people["water"])


def test_route_sets_a_working_day_deadline_and_notifies_both_sides(people, time_machine):
    time_machine.move_to(ROUTED, tick=False)
    need = route(people, file(people))
    assert (need.status, need.provider.code, need.candidates) == (
        "routed",
        "water",
        ["road-ponding"],
    )
    assert need.due_at == DUE
    codes = dict(
        Notification.objects.filter(code__startswith="need_routed").values_list(
            "code", "recipient_department__code"
        )
    )
    assert codes == {"need_routed": "water", "need_routed_filer": "emergency"}
    [detail] = audit("need_route")
    assert detail["provider"] == "water" and detail["candidates"] == ["road-ponding"]


def test_route_refusals(people):
    need = file(people)
    # The filer sees the need but may not route it; the police do not see it at all.
    with pytest.raises(PermissionDenied):
        services.route_need(user=people["emergency"], need=need, provider=need.department)
    with pytest.raises(DataNeed.DoesNotExist):
        services.route_need(user=people["police"], need=need, provider=need.department)
    with pytest.raises(ValidationError) as caught:
        route(people, need, candidates=["gas-leak-alarms"])  # housing's, not water's
    assert "candidates" in caught.value.message_dict


def test_routing_suggests_the_provider_by_keywords_and_fields(people):
    need = file(people)
    terms = routing.need_terms(keywords=need.keywords, fields=need.fields, title=need.title)
    suggestions = routing.suggest(user=people["bigdata"], terms=terms)
    top = suggestions[0]
    assert top.department.code == "water"
    assert top.resources[0].resource.code == "road-ponding"
    assert set(top.resources[0].terms) >= {"积水", "防汛", "积水深度", "road_name"}
    # A field label alone finds its resource: 挠度 is a field of the bridge monitoring.
    by_field = routing.suggest(user=people["bigdata"], terms=["挠度"])
    assert [(s.department.code, [m.resource.code for m in s.resources]) for s in by_field] == [
        ("housing", ["bridge-structural-health"])
    ]
    assert routing.suggest(user=people["bigdata"], terms=["不存在的数据"]) == []


def test_answer_link_opens_an_access_request_for_the_filer(people):
    need = route(people, file(people))
    result = services.answer_link(
        user=people["water"],
        need=need,
        resource=_resource("road-ponding"),
        note="已有积水监测数据",
    )
    request = result.access_request
    assert isinstance(request, AccessRequest)
    assert (request.requester.code, request.resource.code, request.status) == (
        "emergency",
        "road-ponding",
        "pending",
    )
    # The need's fields, matched by label and name, and its districts travel to the request.
    assert sorted(request.fields) == ["depth", "road_name"]
    assert request.districts == ["310101"]
    assert request.requested_by == people["emergency"]
    assert f"#{need.pk}" in request.purpose
    need.refresh_from_db()
    assert (need.status, need.answer, need.access_request_id) == (
        "answered",
        NeedAnswer.LINKED,
        request.pk,
    )
    [detail] = audit("need_answer")
    assert detail == {
        "need": need.pk,
        "department": "emergency",
        "answer": "linked",
        "request": request.pk,
    }
    assert AuditEvent.objects.get(action="request").actor == "emergency-staff"
    note = Notification.objects.get(code="need_linked")
    assert note.recipient_department.code == "emergency"


def test_answer_link_follows_the_departments_pending_request(people):
    from hub.catalog.models import Department
    from permissions import services as sharing

    earlier = sharing.request_access(
        user=people["emergency"],
        requester=Department.objects.get(code="emergency"),
        resource=_resource("road-ponding"),
        purpose="防汛联动",
    )
    need = route(people, file(people))
    result = services.answer_link(
        user=people["water"], need=need, resource=_resource("road-ponding"), note="已有数据"
    )
    assert result.access_request == earlier
    assert AccessRequest.objects.count() == 1
    need.refresh_from_db()
    assert (need.answer, need.access_request_id) == (NeedAnswer.LINKED, earlier.pk)


def _resource(code):
    from hub.catalog.models import DataResource

    return DataResource.objects.get(code=code)


def test_answer_link_refusals(people):
    need = route(people, file(people))
    with pytest.raises(ValidationError) as caught:  # not the provider's resource
        services.answer_link(user=people["water"], need=need, resource=_resource("gas-leak-alarms"))
    assert "resource" in caught.value.message_dict
    with pytest.raises(PermissionDenied):  # the filer sees it but does not answer
        services.answer_link(
            user=people["emergency"], need=need, resource=_resource("road-ponding")
        )
    with pytest.raises(DataNeed.DoesNotExist):  # housing does not see it
        services.answer_link(user=people["housing"], need=need, resource=_resource("road-ponding"))
    assert not AccessRequest.objects.exists()
    assert not audit("need_answer")


def test_answer_commit_and_refuse(people, time_machine):
    time_machine.move_to(ROUTED, tick=False)
    need = route(people, file(people))
    with pytest.raises(ValidationError) as caught:
        services.answer_commit(user=people["water"], need=need, date=dt.date(2025, 9, 21))
    assert "date" in caught.value.message_dict
    need = services.answer_commit(
        user=people["water"], need=need, date=dt.date(2025, 12, 31), note="年底前发布"
    ).need
    assert (need.status, need.answer, need.commit_date) == (
        "answered",
        "committed",
        dt.date(2025, 12, 31),
    )
    with pytest.raises(ValidationError) as caught:  # answered already
        services.answer_refuse(user=people["water"], need=need, basis="x")
    assert "status" in caught.value.message_dict

    other = route(people, file(people, title="泵站运行数据"))
    with pytest.raises(ValidationError) as caught:
        services.answer_refuse(user=people["water"], need=other, basis=" ")
    assert "basis" in caught.value.message_dict
    other = services.answer_refuse(
        user=people["water"], need=other, basis="涉及关键信息基础设施，依《数据安全法》不予共享"
    ).need
    assert (other.answer, other.answer_note) == (
        "refused",
        "涉及关键信息基础设施，依《数据安全法》不予共享",
    )
    refused = Notification.objects.get(code="need_refused")
    assert "数据安全法" in refused.message
    assert [d["answer"] for d in audit("need_answer")] == ["committed", "refused"]


def test_close_by_filer_or_authority_only(people):
    need = route(people, file(people))
    with pytest.raises(PermissionDenied):  # the provider may not close
        services.close_need(user=people["water"], need=need)
    with pytest.raises(DataNeed.DoesNotExist):
        services.close_need(user=people["police"], need=need)
    need = services.close_need(user=people["emergency"], need=need, note="已另行解决").need
    assert (need.status, need.close_note) == (NeedStatus.CLOSED, "已另行解决")
    with pytest.raises(ValidationError):
        services.close_need(user=people["bigdata"], need=need)
    assert audit("need_close")[0]["note"] == "已另行解决"
    other = file(people, title="another")
    assert services.close_need(user=people["bigdata"], need=other).need.status == "closed"


def test_who_sees_which_need(people):
    need = file(people)
    visible = {
        name: list(selectors.need_list(user=user).values_list("pk", flat=True))
        for name, user in people.items()
    }
    assert visible == {
        "emergency": [need.pk],
        "water": [],
        "housing": [],
        "bigdata": [need.pk],
        "police": [],
        "root": [need.pk],
    }
    route(people, need)
    assert selectors.need_get(user=people["water"], pk=need.pk) == need
    with pytest.raises(DataNeed.DoesNotExist):
        selectors.need_get(user=people["housing"], pk=need.pk)
    assert not DataNeed.objects.restrict(people["root"], "delete").exists()
    # 考核 counts every need for the authority, none for others.
    assert DataNeed.objects.restrict(people["bigdata"], "assess").count() == 1
    assert not DataNeed.objects.restrict(people["emergency"], "assess").exists()


def test_overdue_flagged_once_and_escalated(people, time_machine):
    time_machine.move_to(ROUTED, tick=False)
    late = route(people, file(people))
    committed = route(people, file(people, title="承诺类"))
    services.answer_commit(user=people["water"], need=committed, date=dt.date(2025, 9, 30))
    assert services.flag_overdue() == 0
    time_machine.move_to(DUE + dt.timedelta(minutes=1), tick=False)
    assert services.flag_overdue() == 2
    assert services.flag_overdue() == 0
    late.refresh_from_db()
    assert late.overdue and late.overdue_at is not None
    recipients = sorted(
        Notification.objects.filter(code="need_overdue").values_list(
            "recipient_department__code", flat=True
        )
    )
    assert recipients == ["bigdata", "bigdata", "water", "water"]
    assert len(audit("need_overdue")) == 2
