"""Demo sharing data: a scoped grant, a pending request and one partner API key."""

from __future__ import annotations

import datetime as dt
from typing import TextIO

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from hub.catalog.models import DataResource, Department
from permissions import api_key_services, services
from permissions.models import AccessGrant, AccessRequest, PartnerApiKey, RequestStatus


@transaction.atomic
def load(stdout: TextIO) -> None:
    """Idempotent: re-running leaves existing grants, requests and keys alone."""
    resources = {r.code: r for r in DataResource.objects.all()}
    departments = {d.code: d for d in Department.objects.all()}
    if "fire-incidents" not in resources or "cityops" not in departments:
        return
    admin = get_user_model().objects.filter(username="admin").first()
    fire, cityops = resources["fire-incidents"], departments["cityops"]
    if not AccessGrant.objects.filter(resource=fire, department=cityops).exists():
        # 浦东新区 and 黄浦区 only; caller phone stays masked, the address is clear.
        services.grant_access(
            user=admin,
            resource=fire,
            department=cityops,
            districts=["310115", "310101"],
            clear_fields=["address"],
            expires_at=timezone.now() + dt.timedelta(days=180),
        )
    alarms = resources.get("gas-leak-alarms")
    emergency = departments.get("emergency")
    if alarms and emergency and admin:
        pending = AccessRequest.objects.filter(
            resource=alarms, requester=emergency, status=RequestStatus.PENDING
        )
        if not pending.exists():
            services.request_access(
                user=admin,
                requester=emergency,
                resource=alarms,
                purpose="燃气泄漏报警联动处置（演示）",
                fields=["alarm_id", "occurred_at", "district", "address", "concentration"],
                districts=["310104"],
                duration_days=90,
            )
    bigdata = departments.get("bigdata")
    if bigdata and not PartnerApiKey.objects.filter(department=bigdata).exists():
        _api_key, key = api_key_services.create_api_key(
            department=bigdata,
            name="大数据中心大屏",
            expires_at=timezone.now() + dt.timedelta(days=365),
        )
        stdout.write(f"partner API key for bigdata (shown once): {key}\n")
    stdout.write("permissions: demo grant, access request and API key ready\n")
