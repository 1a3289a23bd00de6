"""Raw events of one 考核 period (March 2026) whose figures are worked out by hand.

Every resource of the demo catalog starts as a draft catalogued on 2025-06-01; then:

water (水务局)
- pump-station-operation: daily, published 2026-02-01; loads at 10:00 on March 1–20:
  31 checkpoints (March 2 … April 1, 00:00), 20 on time -> 20/31.
- road-ponding: weekly, published 2026-03-11 (published in the period); loads on
  March 12 and 30: checkpoints March 18, 25, April 1 -> 2/3.
- water-supply-pressure: catalogued on 2026-03-05, still a draft.
- requests: in time; refused late with a reason; overdue and open; not yet due; refused
  in time without a reason (not compliant); withdrawn (not counted); one of February;
  one water filed for its own resource and approved itself (not counted).
- objections: corrected in time; open past due and escalated; rejected late; not yet due.
- batches: the 22 loads (10 rows each, none rejected), one failed batch (100 rows, 32
  rejected) and an empty refused one (no rows, not counted): 320 rows, 32 rejected.
- data needs routed to it: answered in time (linking a resource); overdue and unanswered;
  closed by its filer before an answer (not counted); one routed in February.

housing (住建委)
- bridge-structural-health: monthly, published 2025-07-01; one load on March 3 (5 rows):
  one checkpoint (April 1), on time -> 1.
- bridge-inventory: published 2025-07-01, withdrawn (停用) on March 15 through the
  catalog service (its audit event); weather-warnings withdrawn in February (not counted).
- one request, answered in time.

Now is 2026-04-10 12:00 (Shanghai).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 4, 10, 12, 0, tzinfo=SHANGHAI)
PERIOD = "2026-03"


def at(month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


# Worked out by hand from the events above (docs/GOVERNANCE.md, 考核 formulas).
EXPECTED = {
    "water": {
        "catalog": {
            "catalogued": 1,
            "published": 1,
            "withdrawn": 0,
            "total": 3,
            "published_total": 2,
            "published_share": 0.6667,
        },
        "freshness": {"resources": 2, "checkpoints": 34, "on_time": 22, "mean_rate": 0.6559},
        "requests": {
            "received": 5,
            "in_time": 2,
            "late": 1,
            "overdue_open": 1,
            "pending": 1,
            "refused": 1,
            "refused_no_reason": 1,
            "in_time_rate": 0.5,
        },
        "objections": {
            "received": 4,
            "in_time": 1,
            "late": 1,
            "overdue_open": 1,
            "pending": 1,
            "escalated": 1,
            "in_time_rate": 0.3333,
        },
        "quality": {"batches": 23, "rows": 320, "rejected": 32, "rejection_rate": 0.1},
        "needs": {
            "received": 2,
            "in_time": 1,
            "late": 0,
            "overdue_open": 1,
            "pending": 0,
            "linked": 1,
            "committed": 0,
            "refused": 0,
            "in_time_rate": 0.5,
        },
    },
    "housing": {
        "catalog": {
            "catalogued": 0,
            "published": 0,
            "withdrawn": 1,
            "total": 4,
            "published_total": 2,
            "published_share": 0.5,
        },
        "freshness": {"resources": 1, "checkpoints": 1, "on_time": 1, "mean_rate": 1.0},
        "requests": {
            "received": 1,
            "in_time": 1,
            "late": 0,
            "overdue_open": 0,
            "pending": 0,
            "refused": 0,
            "refused_no_reason": 0,
            "in_time_rate": 1.0,
        },
        "objections": {
            "received": 0,
            "in_time": 0,
            "late": 0,
            "overdue_open": 0,
            "pending": 0,
            "escalated": 0,
            "in_time_rate": None,
        },
        "quality": {"batches": 1, "rows": 5, "rejected": 0, "rejection_rate": 0.0},
        "needs": {
            "received": 0,
            "in_time": 0,
            "late": 0,
            "overdue_open": 0,
            "pending": 0,
            "linked": 0,
            "committed": 0,
            "refused": 0,
            "in_time_rate": None,
        },
    },
}
# Sub-scores (0–1): catalog = published share, freshness = mean rate, requests =
# compliant / due (water: R1 only, of R1 R2 R3 R5), objections = in-time rate,
# quality = 1 - rejection rate, needs = in-time rate.
SUBSCORES = {
    "water": {
        "catalog": 0.6667,
        "freshness": 0.6559,
        "requests": 0.25,
        "objections": 0.3333,
        "quality": 0.9,
        "needs": 0.5,
    },
    "housing": {
        "catalog": 0.5,
        "freshness": 1.0,
        "requests": 1.0,
        "objections": None,
        "quality": 1.0,
        "needs": None,
    },
}
# Default weights catalog 15, freshness 25, requests 20, objections 15, quality 15, needs 10:
# water   (15·.6667 + 25·.6559 + 20·.25 + 15·.3333 + 15·.9 + 10·.5) / 100 = 54.8975 -> 54.9
# housing (15·.5 + 25·1 + 20·1 + 15·1) / 75 (no objection nor need was due) = 90.0
SCORES = {"water": 54.9, "housing": 90.0}


def _set(model, pk: int, **values) -> None:
    model.objects.filter(pk=pk).update(**values)


def build(time_machine, catalog, make_user) -> dict:
    from governance.models import Objection, ObjectionScope, ObjectionStatus
    from governance.needs.models import DataNeed, NeedAnswer, NeedStatus
    from hub.catalog.models import DataResource
    from hub.catalog.services import update_resource
    from hub.records.models import UploadBatch
    from permissions.models import AccessRequest, RequestStatus

    departments = catalog["departments"]
    DataResource.objects.update(
        created_at=at(1, 1).replace(year=2025, month=6), published_at=None, status="draft"
    )
    res = {r.code: r for r in DataResource.objects.all()}
    root = make_user(superuser=True, username="assessment-root")

    def resource(code: str, **values) -> None:
        _set(DataResource, res[code].pk, **values)

    resource(
        "pump-station-operation",
        update_cycle="daily",
        status="published",
        published_at=dt.date(2026, 2, 1),
    )
    resource(
        "road-ponding", update_cycle="weekly", status="published", published_at=dt.date(2026, 3, 11)
    )
    resource("water-supply-pressure", created_at=at(3, 5, 9))
    resource(
        "bridge-structural-health",
        update_cycle="monthly",
        status="published",
        published_at=dt.date(2025, 7, 1),
    )
    resource("bridge-inventory", status="published", published_at=dt.date(2025, 7, 1))
    resource("weather-warnings", status="published")
    # Withdrawals through the catalog service: its audit events are the raw events.
    time_machine.move_to(at(2, 10, 9), tick=False)
    update_resource(
        user=root,
        resource=DataResource.objects.get(code="weather-warnings"),
        changes={"status": "retired"},
    )
    time_machine.move_to(at(3, 15, 9), tick=False)
    update_resource(
        user=root,
        resource=DataResource.objects.get(code="bridge-inventory"),
        changes={"status": "retired"},
    )
    time_machine.move_to(NOW, tick=False)

    sequence = iter(range(10_000))

    def batch(code: str, finished: dt.datetime, *, status="loaded", rows=10, rejected=0):
        made = UploadBatch.objects.create(
            resource=res[code],
            department=res[code].provider,
            source="api",
            sha256=f"{next(sequence):064x}",
            status=status,
            rows_read=rows,
            rejected=rejected,
        )
        _set(
            UploadBatch,
            made.pk,
            created_at=finished - dt.timedelta(minutes=1),
            finished_at=finished,
        )

    for day in range(1, 21):
        batch("pump-station-operation", at(3, day, 10))
    batch("road-ponding", at(3, 12, 9))
    batch("road-ponding", at(3, 30, 9))
    batch("pump-station-operation", at(3, 15, 14), status="failed", rows=100, rejected=32)
    batch("pump-station-operation", at(3, 16, 14), status="rejected", rows=0)
    batch("bridge-structural-health", at(2, 27, 12), rows=5)
    batch("bridge-structural-health", at(3, 3, 12), rows=5)

    def request(code, requester, filed, due, status, decided=None, reason=""):
        made = AccessRequest.objects.create(
            resource=res[code],
            requester=departments[requester],
            purpose="考核测试",
            due_at=due,
            status=status,
            decided_at=decided,
            refusal_reason=reason,
        )
        _set(AccessRequest, made.pk, created_at=filed)

    approved, refused = RequestStatus.APPROVED, RequestStatus.REFUSED
    pending = RequestStatus.PENDING
    request("pump-station-operation", "cityops", at(3, 2), at(3, 16), approved, at(3, 10))
    request("pump-station-operation", "fire", at(3, 3), at(3, 17), refused, at(3, 20), "涉密")
    request("pump-station-operation", "health", at(3, 4), at(3, 18), pending)
    request("pump-station-operation", "police", at(3, 28), at(4, 20), pending)
    request("road-ponding", "fire", at(3, 5), at(3, 19), refused, at(3, 6), "")
    request("road-ponding", "health", at(3, 6), at(3, 20), RequestStatus.WITHDRAWN)
    request("road-ponding", "cityops", at(2, 20), at(3, 5), approved, at(3, 9))
    # Stored before providers were refused: an answer water gave itself.
    request("pump-station-operation", "water", at(3, 7), at(3, 21), approved, at(3, 7))
    request("gas-leak-alarms", "emergency", at(3, 10), at(3, 24), approved, at(3, 11))

    def objection(code, filed, due, status, answered=None, escalated=None):
        made = Objection.objects.create(
            resource=res[code],
            scope=ObjectionScope.BATCH,
            department=departments["cityops"],
            reason="数值有误",
            due_at=due,
            status=status,
            answered_at=answered,
            escalated_at=escalated,
            overdue=escalated is not None,
        )
        _set(Objection, made.pk, created_at=filed)

    objection("road-ponding", at(3, 9), at(3, 16), ObjectionStatus.CORRECTED, at(3, 12))
    objection("road-ponding", at(3, 10), at(3, 17), ObjectionStatus.OPEN, escalated=at(3, 17, 1))
    objection("pump-station-operation", at(3, 11), at(3, 18), ObjectionStatus.REJECTED, at(3, 25))
    objection("pump-station-operation", at(3, 31), at(4, 15), ObjectionStatus.OPEN)

    def need(filed, due, status, answered=None, answer=""):
        made = DataNeed.objects.create(
            title="泵站运行数据",
            description="各泵站实时运行",
            purpose="防汛调度",
            legal_basis="防汛条例",
            update_cycle="hourly",
            department=departments["cityops"],
            status=status,
            provider=departments["water"],
            routed_at=filed,
            due_at=due,
            answered_at=answered,
            answer=answer,
        )
        return made

    need(at(3, 5), at(3, 19), NeedStatus.ANSWERED, at(3, 12), NeedAnswer.LINKED)
    need(at(3, 6), at(3, 20), NeedStatus.ROUTED)
    need(at(3, 8), at(3, 22), NeedStatus.CLOSED)
    need(at(2, 25), at(3, 11), NeedStatus.ANSWERED, at(3, 20), NeedAnswer.REFUSED)
    assert timezone.now() == NOW
    return {"root": root, "authority": make_user("bigdata"), "water": make_user("water")}
