"""A small world for the permission matrix: one provider, three resources (one per
sharing type) with masked fields, records in three districts, and one caller of each kind.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm

from hub.catalog.models import DataResource, FieldSpec, ResourceStatus, SharingType
from hub.catalog.seed import upsert_department
from permissions.models import AccessGrant
from tests.permissions.conftest import make_record

SHARING = {
    "open": SharingType.UNCONDITIONAL,
    "cond": SharingType.CONDITIONAL,
    "none": SharingType.NONE,
}
FIELDS = [
    # name, grade, masking
    ("rid", 1, "none"),
    ("district", 1, "none"),
    ("name", 3, "person_name"),
    ("phone", 3, "phone"),
    ("idno", 4, "id_number"),
    ("note", 1, "none"),
]
ALL_FIELDS = [name for name, _, _ in FIELDS]
ROWS = [("1", "310101"), ("2", "310104"), ("3", "310115")]
CLEAR = {"name": "张三丰", "phone": "13812345678", "idno": "310101199001011234"}
MASKED = {"name": "张**", "phone": "138****5678", "idno": "310101********1234"}
GRANT_FIELDS = ["rid", "district", "name", "phone"]
GRANT_DISTRICTS = ["310101", "310115"]
CALLERS = [
    "provider",
    "other",
    "granted",
    "expired",
    "key_granted",
    "revoked_key",
    "anonymous",
    "superuser",
]


def code(sharing: str) -> str:
    return f"mx-{sharing}"


def record_key(sharing: str, row: str) -> str:
    return f"KEY-{sharing}-{row}"


def build_world(make_user, key_client, grant):
    """Create the world; returns {"callers": {name: (kind, client_or_user)}, "resources"}."""
    departments = {
        dep: upsert_department(code=dep, name=f"{dep} 部门", short_name=dep)
        for dep in ("fire", "water", "cityops", "health", "bigdata", "transport")
    }
    resources = {}
    for sharing, sharing_type in SHARING.items():
        resource = DataResource.objects.create(
            code=code(sharing),
            name=f"矩阵资源 {sharing}",
            summary="permission matrix",
            provider=departments["fire"],
            domain="fire",
            update_cycle="daily",
            sharing_type=sharing_type,
            sharing_conditions="审批",
            legal_basis="依法",
            status=ResourceStatus.PUBLISHED,
            key_fields=["rid"],
            district_field="district",
        )
        for order, (name, grade, masking) in enumerate(FIELDS):
            FieldSpec.objects.create(
                resource=resource,
                name=name,
                label=name,
                field_type="string",
                grade=grade,
                masking=masking,
                order=order,
            )
        for row, district in ROWS:
            data = {
                "rid": row,
                "district": district,
                **CLEAR,
                "note": "=1+1" if row == "1" else "ok",
            }
            make_record(resource, record_key(sharing, row), data, district=district)
        resources[sharing] = resource
    scope = {"fields": GRANT_FIELDS, "districts": GRANT_DISTRICTS, "clear_fields": ["name"]}
    for sharing in ("open", "cond"):
        grant(resources[sharing], "cityops", **scope)
        grant(resources[sharing], "bigdata", **scope)
        grant(resources[sharing], "health", **scope)
    # 不予共享: a grant slipped in behind the service's back must still open nothing.
    for dep in ("cityops", "bigdata", "health"):
        AccessGrant.objects.create(
            resource=resources["none"],
            department=departments[dep],
            expires_at=timezone.now() + dt.timedelta(days=30),
        )
        assign_perm("view_records", departments[dep].group, resources["none"])
        assign_perm("view_metadata", departments[dep].group, resources["none"])
    # Expired but not yet tidied by the beat task: guardian rows still present.
    AccessGrant.objects.filter(department=departments["health"]).update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    key_granted, _ = key_client("bigdata")
    revoked, revoked_key = key_client("transport")
    revoked_key.revoked = True
    revoked_key.save()
    callers = {
        "provider": make_user("fire"),
        "other": make_user("water"),
        "granted": make_user("cityops"),
        "expired": make_user("health"),
        "superuser": get_user_model().objects.create_superuser("root", password="pw-x"),
        "key_granted": key_granted,
        "revoked_key": revoked,
        "anonymous": None,
    }
    return callers, resources


def metadata_visible(caller: str, sharing: str) -> bool | None:
    """Whether the caller sees the resource's metadata; None: not authenticated (401)."""
    if caller in ("anonymous", "revoked_key"):
        return None
    if caller in ("provider", "superuser"):
        return True
    return sharing != "none"


def expected_records(caller: str, sharing: str):
    """(row ids, field names, {field: value}) the caller receives, or None for 404."""
    if metadata_visible(caller, sharing) is None:
        return None
    if caller in ("provider", "superuser"):
        return ["1", "2", "3"], ALL_FIELDS, CLEAR
    if caller in ("other", "expired"):
        return (["1", "2", "3"], ALL_FIELDS, MASKED) if sharing == "open" else None
    # granted, key_granted: the grant combines with 无条件共享 by union.
    if sharing == "open":
        return ["1", "2", "3"], ALL_FIELDS, {**MASKED, "name": CLEAR["name"]}
    if sharing == "cond":
        return ["1", "3"], GRANT_FIELDS, {"name": CLEAR["name"], "phone": MASKED["phone"]}
    return None
