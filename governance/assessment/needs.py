"""数据需求响应 (``needs``): the 需求清单's indicator of the 考核.

Needs routed to the department (it is the provider asked) in the period: answered by
the working-day deadline (``due_at``), late, overdue and unanswered, not yet due; and how
they were answered. A need closed by its filer before any answer is not counted.
Sub-score: answered in time / needs due.
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_lazy as _

from governance.assessment.registry import RATE, Column, Figures, ratio
from governance.needs.models import DataNeed, NeedAnswer, NeedStatus
from permissions.policies import ASSESS


class NeedsIndicator:
    code = "needs"
    label = _("数据需求按时响应")
    columns = (
        Column("received", _("分派需求")),
        Column("in_time", _("按时答复")),
        Column("late", _("逾期答复")),
        Column("overdue_open", _("超期未答复")),
        Column("pending", _("未到期")),
        Column("linked", _("关联已有资源")),
        Column("committed", _("承诺发布")),
        Column("refused", _("不予提供")),
        Column("in_time_rate", _("按时答复率"), RATE),
    )

    def compute(self, *, user, period, departments, now):
        keys = tuple(c.key for c in self.columns if c.kind != RATE)
        result = {pk: Figures(values=dict.fromkeys(keys, 0)) for pk in departments}
        rows = (
            DataNeed.objects.restrict(user, ASSESS)
            .filter(
                provider_id__in=departments,
                routed_at__gte=period.start,
                routed_at__lt=period.end,
                due_at__isnull=False,
            )
            .exclude(status=NeedStatus.CLOSED, answered_at__isnull=True)
            .values_list("provider_id", "due_at", "answered_at", "answer")
        )
        answers = {
            NeedAnswer.LINKED: "linked",
            NeedAnswer.COMMITTED: "committed",
            NeedAnswer.REFUSED: "refused",
        }
        counts = defaultdict(lambda: defaultdict(int))
        for provider, due_at, answered_at, answer in rows:
            c = counts[provider]
            c["received"] += 1
            if answered_at is not None:
                c["in_time" if answered_at <= due_at else "late"] += 1
                if answer in answers:
                    c[answers[answer]] += 1
            elif due_at < now:
                c["overdue_open"] += 1
            else:
                c["pending"] += 1
        for provider, c in counts.items():
            result[provider].values.update({k: c[k] for k in keys})
        for figures in result.values():
            v = figures.values
            v["in_time_rate"] = ratio(v["in_time"], v["in_time"] + v["late"] + v["overdue_open"])
            figures.score = v["in_time_rate"]
        return result
