"""The five built-in indicators of the 考核, computed from raw rows for one period.

Each reads its models through the ``assess`` door (``Model.objects.restrict(user,
"assess")``: the sharing authority's staff and superusers count every department's rows)
and attributes a row to the department providing its resource. Definitions and formulas:
docs/GOVERNANCE.md (考核).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import defaultdict

from django.db.models import Count, F, Q, Sum
from django.utils.translation import gettext_lazy as _

from governance.assessment.periods import midnight
from governance.assessment.registry import RATE, Column, Figures, ratio, register
from governance.models import Objection, ObjectionStatus
from hub.catalog.models import DataResource, ResourceStatus
from hub.catalog.models.resources import UPDATE_CYCLE_SECONDS
from hub.records.models import BatchStatus, UploadBatch
from permissions.models import AccessRequest, AuditEvent, RequestStatus
from permissions.policies import ASSESS

# A batch whose good rows reached the store: a load in the sense of the update cycle.
LOADED = (BatchStatus.LOADED, BatchStatus.PARTIAL, BatchStatus.CORRECTED)


def _empty(departments: list[int], keys: tuple[str, ...]) -> dict[int, Figures]:
    return {pk: Figures(values=dict.fromkeys(keys, 0)) for pk in departments}


class CatalogIndicator:
    """资源编目: resources catalogued, published and withdrawn (停用) in the period; the
    share of the catalogue published at its end is the sub-score."""

    code = "catalog"
    label = _("资源编目与发布")
    columns = (
        Column("catalogued", _("本期编目")),
        Column("published", _("本期发布")),
        Column("withdrawn", _("本期停用")),
        Column("total", _("期末在册资源")),
        Column("published_total", _("期末已发布资源")),
        Column("published_share", _("发布率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        keys = tuple(c.key for c in self.columns if c.kind != RATE)
        result = _empty(departments, keys)
        resources = DataResource.objects.restrict(user, ASSESS).filter(provider_id__in=departments)
        start, end = period.start, period.end
        rows = resources.values("provider_id").annotate(
            catalogued=Count("pk", filter=Q(created_at__gte=start, created_at__lt=end)),
            published=Count(
                "pk",
                filter=Q(published_at__gte=period.start_date, published_at__lt=period.end_date),
            ),
            total=Count("pk", filter=Q(created_at__lt=end)),
            published_total=Count(
                "pk", filter=Q(created_at__lt=end, published_at__lt=period.end_date)
            ),
        )
        for row in rows:
            values = result[row.pop("provider_id")].values
            values.update(row)
        provider_of = dict(resources.values_list("code", "provider_id"))
        # Withdrawals are status changes to 已停用, read from the catalog's audit events.
        withdrawals = AuditEvent.objects.restrict(user, ASSESS).filter(
            created_at__gte=start,
            created_at__lt=end,
            outcome="ok",
            detail__object="resource",
            detail__changes__status__new=ResourceStatus.RETIRED.value,
        )
        for code in withdrawals.values_list("resource_code", flat=True):
            if code in provider_of:
                result[provider_of[code]].values["withdrawn"] += 1
        for figures in result.values():
            v = figures.values
            v["published_share"] = ratio(v["published_total"], v["total"])
            figures.score = v["published_share"]
        return result


def checkpoints(start: dt.datetime, end: dt.datetime, cycle: dt.timedelta) -> list[dt.datetime]:
    """One checkpoint per update cycle from ``start``, the last one clipped to ``end``."""
    count = math.ceil((end - start) / cycle)
    return [min(start + k * cycle, end) for k in range(1, count + 1)]


def on_time(loads: list[dt.datetime], points: list[dt.datetime], cycle: dt.timedelta) -> int:
    """Checkpoints with a load in the cycle before them (``loads`` sorted)."""
    hits = 0
    for point in points:
        index = bisect.bisect_right(loads, point)
        if index and loads[index - 1] > point - cycle:
            hits += 1
    return hits


class FreshnessIndicator:
    """按时更新: each published resource is checked once per update cycle; it is on time
    when a load finished in the cycle before the checkpoint. Sub-score: the mean over the
    department's resources of their on-time share."""

    code = "freshness"
    label = _("数据按时更新")
    columns = (
        Column("resources", _("考核资源数")),
        Column("checkpoints", _("应更新次数")),
        Column("on_time", _("按时更新次数")),
        Column("mean_rate", _("平均按时率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        result = _empty(departments, ("resources", "checkpoints", "on_time"))
        end = min(period.end, now)
        resources = (
            DataResource.objects.restrict(user, ASSESS)
            .filter(
                provider_id__in=departments,
                status=ResourceStatus.PUBLISHED,
                published_at__isnull=False,
                published_at__lt=period.end_date,
            )
            .values_list("pk", "provider_id", "update_cycle", "published_at", "created_at")
        )
        plans = {}
        for pk, provider, cycle_code, published_at, created_at in resources:
            seconds = UPDATE_CYCLE_SECONDS.get(cycle_code)
            begin = max(period.start, created_at, midnight(published_at))
            if seconds and begin < end:
                plans[pk] = (provider, dt.timedelta(seconds=seconds), begin)
        loads = defaultdict(list)
        if plans:
            earliest = min(begin - cycle for _p, cycle, begin in plans.values())
            batches = UploadBatch.objects.restrict(user, ASSESS).filter(
                resource_id__in=list(plans),
                status__in=LOADED,
                finished_at__gt=earliest,
                finished_at__lte=end,
            )
            for resource_id, finished_at in batches.values_list("resource_id", "finished_at"):
                loads[resource_id].append(finished_at)
        rates = defaultdict(list)
        for pk, (provider, cycle, begin) in sorted(plans.items()):
            points = checkpoints(begin, end, cycle)
            hits = on_time(sorted(loads[pk]), points, cycle)
            values = result[provider].values
            values["resources"] += 1
            values["checkpoints"] += len(points)
            values["on_time"] += hits
            rates[provider].append(hits / len(points))
        for provider, figures in result.items():
            shares = rates.get(provider)
            mean = round(sum(shares) / len(shares), 4) if shares else None
            figures.values["mean_rate"] = mean
            figures.score = mean
        return result


def _deadline_counts(rows, *, now: dt.datetime, answered: set[str], reason: bool) -> dict:
    """Counts of answers against their deadline: in time, late, overdue and still open,
    not yet due; refusals with and without a reason (requests only)."""
    counts = defaultdict(lambda: defaultdict(int))
    for provider, status, due_at, answered_at, refusal_reason, escalated_at in rows:
        c = counts[provider]
        c["received"] += 1
        if status in answered and answered_at is not None:
            c["in_time" if answered_at <= due_at else "late"] += 1
        elif due_at < now:
            c["overdue_open"] += 1
        else:
            c["pending"] += 1
        if escalated_at is not None:
            c["escalated"] += 1
        refused = reason and status == RequestStatus.REFUSED
        has_reason = bool((refusal_reason or "").strip())
        if refused:
            c["refused" if has_reason else "refused_no_reason"] += 1
        # Compliant: answered in time and, for a refusal, with its reason (条例: 说明理由).
        if status in answered and answered_at is not None and answered_at <= due_at:
            c["compliant"] += 0 if refused and not has_reason else 1
    return counts


class RequestsIndicator:
    """共享申请答复: requests filed in the period to the department's resources; answered by
    the working-day deadline (``due_at``), late, overdue and unanswered, not yet due;
    refusals with a reason. Sub-score: compliant answers / requests due (a refusal without
    a reason is not compliant)."""

    code = "requests"
    label = _("共享申请按时答复")
    columns = (
        Column("received", _("收到申请")),
        Column("in_time", _("按时答复")),
        Column("late", _("逾期答复")),
        Column("overdue_open", _("超期未答复")),
        Column("pending", _("未到期")),
        Column("refused", _("拒绝（附理由）")),
        Column("refused_no_reason", _("拒绝（未附理由）")),
        Column("in_time_rate", _("按时答复率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        keys = tuple(c.key for c in self.columns if c.kind != RATE)
        result = _empty(departments, keys)
        rows = (
            AccessRequest.objects.restrict(user, ASSESS)
            .filter(
                resource__provider_id__in=departments,
                created_at__gte=period.start,
                created_at__lt=period.end,
            )
            .exclude(status=RequestStatus.WITHDRAWN)
            # A provider's request for its own resource (refused since, but stored before)
            # would be an answer it gave itself.
            .exclude(requester_id=F("resource__provider_id"))
            .values_list(
                "resource__provider_id",
                "status",
                "due_at",
                "decided_at",
                "refusal_reason",
                "escalated_at",
            )
        )
        answered = {RequestStatus.APPROVED, RequestStatus.REFUSED}
        counts = _deadline_counts(rows, now=now, answered=answered, reason=True)
        compliant = {provider: c["compliant"] for provider, c in counts.items()}
        for provider, c in counts.items():
            result[provider].values.update({k: c[k] for k in keys})
        for provider, figures in result.items():
            v = figures.values
            due = v["in_time"] + v["late"] + v["overdue_open"]
            v["in_time_rate"] = ratio(v["in_time"], due)
            # A refusal by the deadline but without a reason does not comply (条例: 说明理由).
            figures.score = ratio(compliant.get(provider, 0), due) if due else None
        return result


class ObjectionsIndicator:
    """数据异议处理: objections filed in the period to the department's resources; closed
    (corrected or rejected) by the deadline, late, overdue and open, not yet due,
    escalated. Sub-score: closed in time / objections due."""

    code = "objections"
    label = _("数据异议按时办结")
    columns = (
        Column("received", _("收到异议")),
        Column("in_time", _("按时办结")),
        Column("late", _("逾期办结")),
        Column("overdue_open", _("超期未办结")),
        Column("pending", _("未到期")),
        Column("escalated", _("提请督办")),
        Column("in_time_rate", _("按时办结率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        keys = tuple(c.key for c in self.columns if c.kind != RATE)
        result = _empty(departments, keys)
        rows = (
            Objection.objects.restrict(user, ASSESS)
            .filter(
                resource__provider_id__in=departments,
                created_at__gte=period.start,
                created_at__lt=period.end,
            )
            .values_list(
                "resource__provider_id", "status", "due_at", "answered_at", "answer", "escalated_at"
            )
        )
        answered = {ObjectionStatus.CORRECTED, ObjectionStatus.REJECTED}
        counts = _deadline_counts(rows, now=now, answered=answered, reason=False)
        for provider, c in counts.items():
            result[provider].values.update({k: c[k] for k in keys})
        for figures in result.values():
            v = figures.values
            due = v["in_time"] + v["late"] + v["overdue_open"]
            v["in_time_rate"] = ratio(v["in_time"], due)
            figures.score = v["in_time_rate"]
        return result


class QualityIndicator:
    """数据质量: uploads (batches) received in the period for the department's resources;
    rows read and rows rejected by validation. Sub-score: 1 − rejected / read."""

    code = "quality"
    label = _("上传数据质量")
    columns = (
        Column("batches", _("上传批次")),
        Column("rows", _("读取行数")),
        Column("rejected", _("拒绝行数")),
        Column("rejection_rate", _("行级拒绝率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        result = _empty(departments, ("batches", "rows", "rejected"))
        rows = (
            UploadBatch.objects.restrict(user, ASSESS)
            .filter(
                resource__provider_id__in=departments,
                created_at__gte=period.start,
                created_at__lt=period.end,
                rows_read__gt=0,
            )
            .values("resource__provider_id")
            .annotate(batches=Count("pk"), rows=Sum("rows_read"), rejected=Sum("rejected"))
        )
        for row in rows:
            result[row.pop("resource__provider_id")].values.update(row)
        for figures in result.values():
            v = figures.values
            v["rejection_rate"] = ratio(v["rejected"], v["rows"])
            rate = v["rejection_rate"]
            figures.score = None if rate is None else round(1 - rate, 4)
        return result


def register_builtin() -> None:
    from governance.assessment.needs import NeedsIndicator

    for indicator in (
        CatalogIndicator(),
        FreshnessIndicator(),
        RequestsIndicator(),
        ObjectionsIndicator(),
        QualityIndicator(),
        NeedsIndicator(),
    ):
        register(indicator)
