"""The world of the door matrix: one conditional resource with rows in and out of a
district grant, a masked field, a batch with row errors and an error report, an access
request, operations objects in both districts, and the seven kinds of caller.

Every value a caller may or may not see is a marker (a string found in no other
fixture), so a response is checked by the markers it carries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.utils import timezone
from openpyxl import Workbook

from tests.permissions.conftest import make_record

CALLERS = [
    "anonymous",
    "nogrant",
    "district",
    "masked",
    "provider_staff",
    "provider_steward",
    "superuser",
]
RESOURCE = "fire-incidents"  # 有条件共享, provider fire, caller_phone masked (phone)
NONE_RESOURCE = "public-security-incidents"  # 不予共享, provider police
IN, OUT = "310101", "310104"  # the district grantee's district, and one outside it
# Markers: record keys, clear and masked phones of the row in and the row out.
KEY_IN, KEY_OUT = "DOORKEYIN", "DOORKEYOUT"
PHONE_IN, PHONE_OUT = "13812340001", "13912340002"
MASKED_IN, MASKED_OUT = "138****0001", "139****0002"
NONE_MARK = "DOORNONE不予共享"  # in the name of the 不予共享 resource
BATCH_MARK = "DOORBATCH"  # in the uploaded file's name
ERROR_MARK = "DOORERRVALUE"  # a source value quoted in a row error and the error report
RULE_MARK = "DOORRULE"  # the name of the rule on the conditional resource
REQUEST_MARK = "DOORPURPOSE"  # the purpose of the access request
NONE_RULE_MARK = "DOORHIDDENRULE"  # a rule on the 不予共享 resource

# Which rows and values each kind of caller reads in the records of RESOURCE.
READS = {
    "anonymous": None,
    "nogrant": None,
    "district": {"rows": [KEY_IN], "phones": {KEY_IN: PHONE_IN}},
    "masked": {"rows": [KEY_IN, KEY_OUT], "phones": {KEY_IN: MASKED_IN, KEY_OUT: MASKED_OUT}},
    "provider_staff": {"rows": [KEY_IN, KEY_OUT], "phones": {KEY_IN: PHONE_IN, KEY_OUT: PHONE_OUT}},
    "provider_steward": {
        "rows": [KEY_IN, KEY_OUT],
        "phones": {KEY_IN: PHONE_IN, KEY_OUT: PHONE_OUT},
    },
    "superuser": {"rows": [KEY_IN, KEY_OUT], "phones": {KEY_IN: PHONE_IN, KEY_OUT: PHONE_OUT}},
}


@dataclass
class World:
    users: dict
    ids: dict = field(default_factory=dict)


def incident(key: str, district: str, phone: str) -> dict:
    return {
        "incident_id": key,
        "reported_at": "2026-07-01T14:30:00+08:00",
        "district": district,
        "incident_type": "火灾",
        "address": "门廊路1号",
        "casualties": 1,
        "caller_phone": phone,
        "latitude": 31.23,
        "longitude": 121.48,
    }


def error_report() -> ContentFile:
    import io

    book = Workbook()
    book.active.append(["行号", "字段", "值", "错误"])
    book.active.append([2, "caller_phone", f"{ERROR_MARK} {PHONE_OUT}", "格式错误"])
    buffer = io.BytesIO()
    book.save(buffer)
    return ContentFile(buffer.getvalue(), name="door-errors.xlsx")


def build(catalog, make_user, grant) -> World:
    from operations.models import Alert, Event, MonitoringPoint, Reading, Rule, WorkOrder
    from operations.services.mappings import ensure_default_mappings
    from permissions.models import AccessRequest

    resources, departments = catalog["resources"], catalog["departments"]
    fire, none = resources[RESOURCE], resources[NONE_RESOURCE]
    none.name = NONE_MARK
    none.save(update_fields=["name"])
    ensure_default_mappings()
    from operations.demo import grant_role_permissions

    users = {
        "nogrant": make_user("water"),
        "district": make_user("transport"),
        "masked": make_user("bigdata"),
        "provider_staff": make_user("fire"),
        "provider_steward": make_user("fire", steward=True),
        "superuser": get_user_model().objects.create_superuser("door-root", password="pw-x"),
    }
    grant_role_permissions()  # make_user resets the role groups to the hub's
    district_grant = grant(fire, "transport", districts=[IN], clear_fields=["caller_phone"])
    grant(fire, "bigdata")
    records = {
        KEY_IN: make_record(fire, KEY_IN, incident(KEY_IN, IN, PHONE_IN), district=IN),
        KEY_OUT: make_record(fire, KEY_OUT, incident(KEY_OUT, OUT, PHONE_OUT), district=OUT),
    }
    from hub.records.models import UploadBatch

    batch = UploadBatch.objects.create(
        resource=fire,
        department=departments["fire"],
        source="csv",
        sha256="d" * 64,
        original_filename=f"{BATCH_MARK}.csv",
        status="rejected",
        rejected=1,
        errors=[
            {"row": 2, "column": "caller_phone", "message": f"{ERROR_MARK} {PHONE_OUT} 格式错误"}
        ],
        error_report=error_report(),
    )
    request = AccessRequest.objects.create(
        resource=fire,
        requester=departments["water"],
        purpose=REQUEST_MARK,
        due_at=timezone.now() + dt.timedelta(days=14),
    )
    now = timezone.now()
    rule = Rule.objects.create(
        name=RULE_MARK, kind="threshold", hazard="火灾", metric="casualties", red=1, resource=fire
    )
    none_rule = Rule.objects.create(
        name=NONE_RULE_MARK,
        kind="threshold",
        hazard="治安",
        metric="casualties",
        red=1,
        resource=none,
    )
    from operations.models import ResourceMapping

    ids = {
        "batch": batch.pk,
        "request": request.pk,
        "rule": rule.pk,
        "none_rule": none_rule.pk,
        "resource": fire.pk,
        "none": none.pk,
        "department": departments["fire"].pk,
        "group": departments["fire"].group_id,
        "grant": district_grant.pk,
        "mapping": ResourceMapping.objects.get(resource=fire).pk,
        "user": users["nogrant"].pk,
    }
    for side, key, district in (("in", KEY_IN, IN), ("out", KEY_OUT, OUT)):
        point = MonitoringPoint.objects.create(
            resource=fire,
            external_id=f"{key}-P",
            name=f"{key}-P",
            domain="fire",
            department=departments["fire"],
            district_code=district,
        )
        Reading.objects.create(
            resource=fire,
            record_key=key,
            metric="casualties",
            point=point,
            value=1,
            unit=key,  # a marker where readings are shown
            observed_at=now,
        )
        event = Event.objects.create(
            resource=fire,
            record_key=key,
            event_type=f"火灾{key}",
            level=3,
            district_code=district,
            occurred_at=now,
        )
        alert = Alert.objects.create(
            rule=rule,
            scope=f"point:{point.pk}",
            hazard=f"火灾{key}",
            domain="fire",
            resource=fire,
            point=point,
            district_code=district,
            level=4,
            value=1,
            message=f"{key} 有人员伤亡",
            opened_at=now,
        )
        order = WorkOrder.objects.create(
            code=f"WO-{key}",
            alert=alert,
            department=departments["fire"],
            dispatched_at=now,
            accept_by=now + dt.timedelta(hours=1),
            resolve_by=now + dt.timedelta(hours=24),
        )
        ids |= {
            f"record_{side}": records[key].pk,
            f"point_{side}": point.pk,
            f"event_{side}": event.pk,
            f"alert_{side}": alert.pk,
            f"order_{side}": order.pk,
        }
    users = {name: type(user).objects.get(pk=user.pk) for name, user in users.items()}
    return World(users={"anonymous": None, **users}, ids=ids)
