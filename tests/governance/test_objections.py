"""Objections (数据异议 / 校核纠错): a round trip across departments, deadlines on the official
calendar, escalation, correction lineage, notifications and the permission negatives."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from governance import services
from governance.models import Notification, Objection
from hub.catalog.models import Department
from hub.records.models import Record, UploadBatch
from hub.records.recordstore import RecordStore
from permissions.models import AuditEvent
from tests.governance.conftest import CLEAR_PHONE, DUE, FILED, RECORDS

pytestmark = pytest.mark.django_db

OBJECTIONS = "/api/v1/objections/"
NOTIFICATIONS = "/api/v1/notifications/"


def as_user(api_client, user):
    api_client.force_authenticate(user)
    return api_client


def file_phone_objection(api_client, world) -> dict:
    response = as_user(api_client, world["users"]["cityops"]).post(
        OBJECTIONS,
        {
            "resource": "fire-incidents",
            "scope": "field",
            "record_key": "F1",
            "field_name": "caller_phone",
            "reason": "报警电话与接警记录不符",
            "evidence": "接警单 2025-07-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    return response.json()


def test_round_trip_across_departments_with_a_deadline_on_a_moved_sunday(
    world, api_client, time_machine
):
    body = file_phone_objection(api_client, world)
    assert body["status"] == "open" and body["department"] == "cityops"
    assert dt.datetime.fromisoformat(body["due_at"]) == DUE
    assert DUE.weekday() == 6  # a Sunday, and a working day
    objection = Objection.objects.get(pk=body["id"])
    # The provider's queue shows it, with the deadline; the provider was notified.
    fire = as_user(api_client, world["users"]["fire"])
    queue = fire.get(OBJECTIONS, {"status": "open"}).json()["results"]
    assert [row["id"] for row in queue] == [objection.pk]
    filed = Notification.objects.get(code="objection_filed")
    assert filed.recipient_department == world["departments"]["fire"]
    with translation.override("zh-hans"):
        assert "城市运行管理中心" in filed.message and "2025-09-28 10:00" in filed.message
    with translation.override("en"):
        assert "objection" in filed.message.lower()
    inbox = fire.get(NOTIFICATIONS).json()["results"]
    assert [row["code"] for row in inbox] == ["objection_filed"]

    # The provider corrects the value in place through the record store.
    time_machine.move_to(FILED + dt.timedelta(days=1), tick=False)
    response = fire.post(
        f"{OBJECTIONS}{objection.pk}/correct/",
        {"value": "13800000000", "note": "已核对接警单"},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "corrected"
    assert response.json()["corrected_field"] == "caller_phone"
    record = Record.objects.get(resource=world["resource"], key="F1")
    assert record.data["caller_phone"] == "13800000000"
    # Lineage: the audit event names the objection, the old and the new value.
    event = AuditEvent.objects.get(action="objection_correct")
    assert event.detail["objection"] == objection.pk
    assert (event.detail["old"], event.detail["new"]) == (CLEAR_PHONE, "13800000000")
    assert event.detail["key"] == "F1" and event.actor == world["users"]["fire"].username
    assert set(AuditEvent.objects.values_list("action", flat=True)) >= {
        "objection_file",
        "objection_correct",
    }
    # Notified: the objector, and every department that read since F1's last load
    # (emergency, cityops), not health (read before the reload) nor the provider.
    answered = Notification.objects.filter(code="objection_corrected")
    assert {n.recipient_user_id for n in answered if n.recipient_user_id} == {
        world["users"]["cityops"].pk
    }
    assert {n.recipient_department.code for n in answered if n.recipient_department_id} == {
        "emergency",
        "cityops",
    }
    emergency_inbox = as_user(api_client, world["users"]["emergency"]).get(NOTIFICATIONS).json()
    assert [row["code"] for row in emergency_inbox["results"]] == ["objection_corrected"]
    health_inbox = as_user(api_client, world["users"]["health"]).get(NOTIFICATIONS).json()
    assert health_inbox["results"] == []
    # The objector learns neither the old nor the new clear value through the objection.
    cityops = as_user(api_client, world["users"]["cityops"])
    seen = json.dumps(
        [
            cityops.get(f"{OBJECTIONS}{objection.pk}/").json(),
            cityops.get(NOTIFICATIONS).json(),
        ],
        ensure_ascii=False,
    )
    assert CLEAR_PHONE not in seen and "13800000000" not in seen
    # Marking read.
    mine = cityops.get(NOTIFICATIONS, {"read": "false"}).json()["results"]
    first = mine[0]["id"]
    assert cityops.post(f"{NOTIFICATIONS}{first}/read/").json()["read"] is True
    unread = cityops.get(NOTIFICATIONS, {"read": "false"}).json()["results"]
    assert first not in [row["id"] for row in unread]


def test_overdue_objection_escalates_once_to_the_sharing_authority(world, api_client, time_machine):
    from governance.tasks import escalate_overdue_objections

    body = file_phone_objection(api_client, world)
    time_machine.move_to(DUE - dt.timedelta(seconds=1), tick=False)
    assert escalate_overdue_objections.delay().get() == 0
    time_machine.move_to(DUE + dt.timedelta(seconds=1), tick=False)
    assert escalate_overdue_objections.delay().get() == 1
    assert escalate_overdue_objections.delay().get() == 0
    objection = Objection.objects.get(pk=body["id"])
    assert objection.overdue and objection.escalated_to.code == "bigdata"
    assert objection.escalated_at == DUE + dt.timedelta(seconds=1)
    assert AuditEvent.objects.filter(action="objection_escalate").count() == 1
    escalated = Notification.objects.filter(code="objection_escalated")
    assert {n.recipient_department.code for n in escalated} == {"bigdata", "fire"}
    # The authority now sees the objection; it cannot answer it.
    bigdata = as_user(api_client, world["users"]["bigdata"])
    assert bigdata.get(f"{OBJECTIONS}{objection.pk}/").status_code == 200
    response = bigdata.post(f"{OBJECTIONS}{objection.pk}/reject/", {"reason": "x"}, format="json")
    assert response.status_code == 403


def test_permission_negatives(world, api_client):
    # A department that does not read the records cannot file (404, as if absent).
    police = as_user(api_client, world["users"]["police"])
    response = police.post(
        OBJECTIONS,
        {"resource": "fire-incidents", "scope": "record", "record_key": "F1", "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    # An unknown record and a key outside the caller's view answer alike.
    cityops = as_user(api_client, world["users"]["cityops"])
    for key in ("NOPE", ""):
        response = cityops.post(
            OBJECTIONS,
            {"resource": "fire-incidents", "scope": "record", "record_key": key, "reason": "x"},
            format="json",
        )
        assert response.status_code == 404
    body = file_phone_objection(api_client, world)
    url = f"{OBJECTIONS}{body['id']}/"
    # The objector cannot answer its own objection; other departments do not see it.
    assert cityops.post(f"{url}reject/", {"reason": "x"}, format="json").status_code == 403
    assert cityops.post(f"{url}correct/", {"value": 1}, format="json").status_code == 403
    emergency = as_user(api_client, world["users"]["emergency"])
    assert emergency.get(url).status_code == 404
    assert emergency.post(f"{url}reject/", {"reason": "x"}, format="json").status_code == 404
    assert police.get(OBJECTIONS).json()["results"] == []
    # Rejection needs a reason; then the objection is closed.
    fire = as_user(api_client, world["users"]["fire"])
    assert fire.post(f"{url}reject/", {"reason": " "}, format="json").status_code == 400
    response = fire.post(f"{url}reject/", {"reason": "数据与源系统一致"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "rejected"
    again = fire.post(f"{url}reject/", {"reason": "再次"}, format="json")
    assert again.status_code == 400
    rejected = Notification.objects.get(code="objection_rejected", recipient_user__isnull=False)
    with translation.override("zh-hans"):
        assert "数据与源系统一致" in rejected.message
    assert Record.objects.get(key="F1").data["caller_phone"] == CLEAR_PHONE


def test_batch_objection_corrected_by_a_new_batch(world, api_client):
    resource, fire = world["resource"], world["users"]["fire"]
    department = Department.objects.get(code="fire")
    loaded = UploadBatch.objects.create(
        resource=resource, department=department, source="api", sha256="a" * 64
    )
    record = Record.objects.get(resource=resource, key="F2")
    record.batch = loaded
    RecordStore(resource).save([record])
    cityops = as_user(api_client, world["users"]["cityops"])
    response = cityops.post(
        OBJECTIONS,
        {"resource": "fire-incidents", "scope": "batch", "batch": loaded.pk, "reason": "整批重复"},
        format="json",
    )
    assert response.status_code == 201, response.content
    objection_id = response.json()["id"]
    # A batch the caller reads no record of is 404.
    response = cityops.post(
        OBJECTIONS,
        {"resource": "fire-incidents", "scope": "batch", "batch": 10**9, "reason": "x"},
        format="json",
    )
    assert response.status_code == 404
    fixed = UploadBatch.objects.create(
        resource=resource, department=department, source="api", sha256="b" * 64, uploaded_by=fire
    )
    provider = as_user(api_client, fire)
    url = f"{OBJECTIONS}{objection_id}/correct/"
    # A value for a batch objection is refused; the batch is linked.
    refused = provider.post(url, {"value": 1, "field_name": "casualties"}, format="json")
    assert refused.status_code == 400
    response = provider.post(url, {"batch": fixed.pk, "note": "已重新报送"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["correction_batch"] == fixed.pk
    event = AuditEvent.objects.get(action="objection_correct")
    assert event.detail == {"objection": objection_id, "batch": fixed.pk, "note": "已重新报送"}


def test_evidence_attachment_size_limit(world, settings):
    settings.HUB_OBJECTION_EVIDENCE_MAX_BYTES = 1024
    cityops = world["users"]["cityops"]
    common = {
        "user": cityops,
        "department": world["departments"]["cityops"],
        "resource": world["resource"],
        "scope": "record",
        "record_key": "F2",
        "reason": "地址有误",
    }
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.file_objection(**common, attachment=SimpleUploadedFile("photo.jpg", b"x" * 1025))
    assert "attachment" in error.value.message_dict
    result = services.file_objection(
        **common, attachment=SimpleUploadedFile("photo.jpg", b"x" * 1024)
    )
    assert result.objection.attachment.read() == b"x" * 1024
    assert result.notified == 1


def test_a_field_the_reader_does_not_see_cannot_be_objected(world, grant):
    from django.core.exceptions import ValidationError

    # market reads only two fields of fire-incidents.
    grant(world["resource"], "market", fields=["incident_id", "district"])

    user = world["users"]["police"]
    user.groups.add(Department.objects.get(code="market").group)
    user = type(user).objects.get(pk=user.pk)
    with pytest.raises(ValidationError) as error:
        services.file_objection(
            user=user,
            department=Department.objects.get(code="market"),
            resource=world["resource"],
            scope="field",
            record_key="F1",
            field_name="caller_phone",
            reason="x",
        )
    assert "field_name" in error.value.message_dict


def test_bad_filter_values_are_400_naming_the_parameter(world, api_client):
    cityops = as_user(api_client, world["users"]["cityops"])
    file_phone_objection(api_client, world)
    response = cityops.get(OBJECTIONS, {"overdue": "null"})
    assert response.status_code == 400 and "overdue" in response.json()
    assert cityops.get(OBJECTIONS, {"status": "nope"}).status_code == 400
    assert cityops.get(NOTIFICATIONS, {"read": "maybe"}).status_code == 400
    assert len(cityops.get(OBJECTIONS, {"overdue": "false"}).json()["results"]) == 1
    assert cityops.get(OBJECTIONS, {"overdue": "true"}).json()["results"] == []
    assert cityops.get(f"{OBJECTIONS}abc/").status_code == 404


def record_objection(world, key: str = "F3") -> Objection:
    """A whole-record objection of cityops on ``key`` (the correction names the field)."""
    return services.file_objection(
        user=world["users"]["cityops"],
        department=world["departments"]["cityops"],
        resource=world["resource"],
        scope="record",
        record_key=key,
        reason="记录有误",
    ).objection


def correct(api_client, world, objection: Objection, field_name: str, value):
    return as_user(api_client, world["users"]["fire"]).post(
        f"{OBJECTIONS}{objection.pk}/correct/",
        {"value": value, "field_name": field_name},
        format="json",
    )


def test_a_corrected_district_moves_the_record_in_row_scopes_and_filters(world, api_client, grant):
    # police reads 徐汇区 (310104) only; F3 is in 浦东新区 (310115).
    grant(world["resource"], "police", districts=["310104"])
    police = as_user(api_client, world["users"]["police"])
    assert [row["incident_id"] for row in police.get(RECORDS).json()["results"]] == ["F2"]
    response = correct(api_client, world, record_objection(world), "district", "徐汇区")
    assert response.status_code == 200, response.content
    record = Record.objects.get(resource=world["resource"], key="F3")
    # The district name is stored as its code, and the row-scope column follows it.
    assert (record.data["district"], record.district_code) == ("310104", "310104")
    police = as_user(api_client, world["users"]["police"])
    assert [row["incident_id"] for row in police.get(RECORDS).json()["results"]] == ["F2", "F3"]
    fire = as_user(api_client, world["users"]["fire"])
    found = fire.get(RECORDS, {"district": "310104"}).json()["results"]
    assert [row["incident_id"] for row in found] == ["F2", "F3"]
    assert fire.get(RECORDS, {"district": "310115"}).json()["results"] == []
    event = AuditEvent.objects.get(action="objection_correct")
    assert (event.detail["old"], event.detail["new"]) == ("310115", "310104")


def test_corrected_time_and_coordinates_update_their_columns(world, api_client):
    objection = record_objection(world)
    response = correct(api_client, world, objection, "reported_at", "2025年9月1日 8时30分")
    assert response.status_code == 200, response.content
    record = Record.objects.get(resource=world["resource"], key="F3")
    assert record.data["reported_at"] == "2025-09-01T00:30:00Z"  # Shanghai time, in UTC
    assert record.observed_at == dt.datetime(2025, 9, 1, 0, 30, tzinfo=dt.UTC)
    objection = record_objection(world)
    assert correct(api_client, world, objection, "latitude", "31.25").status_code == 200
    record.refresh_from_db()
    assert (record.data["latitude"], record.latitude, record.longitude) == (31.25, 31.25, 121.54)
    objection = record_objection(world)
    assert correct(api_client, world, objection, "casualties", "３").status_code == 200
    record.refresh_from_db()
    assert record.data["casualties"] == 3  # full-width digit, stored as an integer
    assert record.district_code == "310115" and record.data["district"] == "310115"


@pytest.mark.parametrize(
    ("field_name", "value", "message"),
    [
        ("casualties", "not a number", "不是整数：'not a number'"),
        ("casualties", -1, "'-1' 小于最小值 0"),
        ("incident_type", "地震", "不是允许的取值：'地震'（可选：火灾、抢险救援、社会救助、其他）"),
        ("district", "火星区", "无法识别的行政区：'火星区'"),
        ("latitude", 40, "'40' 大于最大值 31.9"),
        ("reported_at", "yesterday", "无法识别的日期时间：'yesterday'"),
        ("reported_at", "", "必填项为空"),
        ("caller_phone", "1" * 100_000, "更正值超过最大长度 4000 个字符。"),
    ],
)
def test_an_invalid_value_is_a_400_naming_value_and_nothing_changes(
    world, api_client, field_name, value, message
):
    objection = record_objection(world)
    before = Record.objects.get(resource=world["resource"], key="F3")
    response = correct(api_client, world, objection, field_name, value)
    assert response.status_code == 400
    assert response.json() == {"value": [message]}
    after = Record.objects.get(resource=world["resource"], key="F3")
    assert (after.data, after.district_code, after.observed_at, after.latitude) == (
        before.data,
        before.district_code,
        before.observed_at,
        before.latitude,
    )
    objection.refresh_from_db()
    assert objection.status == "open"
    assert not AuditEvent.objects.filter(action="objection_correct").exists()


def test_a_key_field_cannot_be_corrected_in_place(world, api_client):
    objection = record_objection(world)
    response = correct(api_client, world, objection, "incident_id", "F9")
    assert response.status_code == 400
    assert response.json() == {
        "field_name": ["字段 incident_id 属于记录主键，不能就地更正，请以新批次更正。"]
    }
    assert Record.objects.filter(resource=world["resource"], key="F3").exists()
