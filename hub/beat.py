"""The hub's periodic tasks, registered in django-celery-beat's database scheduler.

One list for the whole project. Rows are created after ``migrate`` (post_migrate) when
missing and never overwritten, so intervals edited in the admin (周期任务) survive later
migrations and restarts of beat.
"""

from __future__ import annotations

# (task name, every N seconds, name shown in the admin)
SCHEDULE: list[tuple[str, int, str]] = [
    ("connectors.tasks.sweep_stuck_batches", 300, "上传批次补偿"),
    ("operations.tasks.check_freshness", 300, "数据新鲜度检查"),
    ("operations.tasks.check_staleness", 300, "监测点数据中断检查"),
    ("operations.tasks.mark_overdue_work_orders", 300, "工单超时检查"),
    ("operations.tasks.sweep_syncs", 600, "运行视图同步补偿"),
    ("operations.tasks.maintain_readings", 21600, "读数分区与保留期维护"),
    ("streaming.tasks.sweep_push_receipts", 30, "推送回执补偿"),
    ("permissions.tasks.revoke_expired_grants", 900, "过期授权回收"),
    ("permissions.tasks.flag_overdue_requests", 3600, "逾期申请催办"),
    ("governance.tasks.escalate_overdue_objections", 3600, "逾期异议督办"),
    ("governance.tasks.flag_overdue_needs", 3600, "逾期数据需求督办"),
    ("permissions.tasks.write_audit_checkpoint", 300, "审计链锚定"),
    ("risk.tasks.compute_risk_index", 900, "区风险指数计算"),
]


def register_periodic_tasks(**kwargs) -> None:
    """post_migrate handler: create the interval schedules and periodic tasks once."""
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    for task, seconds, name in SCHEDULE:
        if PeriodicTask.objects.filter(task=task).exists():
            continue
        interval, _ = IntervalSchedule.objects.get_or_create(
            every=seconds, period=IntervalSchedule.SECONDS
        )
        PeriodicTask.objects.get_or_create(name=name, defaults={"task": task, "interval": interval})
