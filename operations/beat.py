"""Periodic tasks registered in django-celery-beat's database scheduler.

Created after ``migrate`` (post_migrate) when missing; existing rows are left alone so
intervals edited in the admin (周期任务) survive later migrations. Tasks of other apps
are registered by name, so the schedule exists before their code is merged; where a
task's name is not settled, the first candidate the Celery app knows is used (else the
first, the agreed contract name).
"""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

# (candidate task names, every N seconds, human name)
SCHEDULE: list[tuple[tuple[str, ...], int, str]] = [
    (("operations.tasks.check_freshness",), 300, "数据新鲜度检查"),
    (("operations.tasks.check_staleness",), 300, "监测点数据中断检查"),
    (("operations.tasks.mark_overdue_work_orders",), 300, "工单超时检查"),
    (("operations.tasks.sweep_syncs",), 600, "运行视图同步补偿"),
    (("permissions.tasks.revoke_expired_grants",), 3600, "过期授权回收"),
    (
        ("permissions.tasks.escalate_overdue_requests", "permissions.tasks.flag_overdue_requests"),
        3600,
        "逾期申请催办",
    ),
]


def _known_tasks() -> set[str]:
    from hub.celery import app

    app.loader.import_default_modules()
    return set(app.tasks)


def pick_task(candidates: tuple[str, ...], known: set[str]) -> str:
    """The first candidate the Celery app has registered, else the first candidate."""
    return next((name for name in candidates if name in known), candidates[0])


def register_periodic_tasks(**kwargs) -> None:
    """post_migrate handler: create the interval schedules and periodic tasks once."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    known = _known_tasks()
    for candidates, seconds, name in SCHEDULE:
        if PeriodicTask.objects.filter(task__in=candidates).exists():
            continue
        task = pick_task(candidates, known)
        if task not in known:
            logger.info("periodic task %s registered before its code is installed", task)
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
