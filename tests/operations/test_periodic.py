"""Periodic tasks: freshness governance alerts and the beat schedule."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from hub.catalog.models import DataResource
from hub.records.models import UploadBatch
from operations.models import Alert, AlertState
from operations.services.periodic import check_freshness

pytestmark = pytest.mark.django_db


def test_stale_resource_raises_governance_alert_then_closes(ops):
    now = timezone.now()
    DataResource.objects.filter(code="road-ponding").update(last_loaded_at=now - timedelta(hours=1))
    DataResource.objects.filter(code="air-quality").update(last_loaded_at=now - timedelta(hours=5))
    DataResource.objects.filter(code="rainfall-stations").update(
        last_loaded_at=now - timedelta(minutes=5)
    )
    counts = check_freshness(now=now)
    assert counts["opened"] == 2
    alerts = {a.scope: a for a in Alert.objects.all()}
    ponding = alerts["resource:road-ponding"]  # realtime: 15 min allowed, 60 late (> 3x)
    assert ponding.level == 2 and ponding.domain == "governance"
    assert ponding.work_order.department.code == "water"
    assert alerts["resource:air-quality"].level == 2  # hourly, 5 h late
    assert check_freshness(now=now) == {"opened": 0, "escalated": 0, "deescalated": 0, "closed": 0}
    DataResource.objects.filter(code="road-ponding").update(last_loaded_at=now)
    assert check_freshness(now=now)["closed"] == 1
    assert Alert.objects.get(scope="resource:road-ponding").state == AlertState.CLOSED


def test_beat_schedule_registered_after_migrate(db):
    from django_celery_beat.models import PeriodicTask

    from hub.beat import SCHEDULE, register_periodic_tasks
    from hub.celery import app

    register_periodic_tasks()
    register_periodic_tasks()  # idempotent
    tasks = list(PeriodicTask.objects.values_list("task", flat=True))
    assert sorted(tasks) == sorted(task for task, _, _ in SCHEDULE)  # each exactly once
    assert {
        "connectors.tasks.sweep_stuck_batches",
        "permissions.tasks.revoke_expired_grants",
        "permissions.tasks.flag_overdue_requests",
        "operations.tasks.check_freshness",
    } <= set(tasks)
    app.loader.import_default_modules()
    assert set(tasks) <= set(app.tasks)  # every scheduled name is a registered task


def test_periodic_tasks_run_in_process(ops):
    from operations import tasks

    assert tasks.check_freshness.delay().get()["opened"] == 0
    assert tasks.mark_overdue_work_orders.delay().get() == 0
    assert tasks.check_staleness.delay().get()["opened"] == 0


def test_sweeper_finds_stuck_and_lost_syncs(ops):
    from operations.models import SyncRun
    from operations.services.periodic import sweep_syncs
    from tests.operations.conftest import gas

    done, _ = ops.load("gas-pipeline-pressure", [gas("GP000001", 0, 0.3)])
    lost, _ = ops.load("gas-pipeline-pressure", [gas("GP000001", 5, 0.3)], sync=False)
    stuck, _ = ops.load("gas-pipeline-pressure", [gas("GP000001", 10, 0.3)], sync=False)
    now = timezone.now()
    SyncRun.objects.create(batch=stuck, state="running", attempts=1, started_at=now)
    assert sweep_syncs(now=now) == []  # too recent for either
    later = now + timedelta(minutes=31)
    assert sweep_syncs(now=later) == [lost.pk, stuck.pk]
    assert done.pk not in sweep_syncs(now=later)
    from operations.tasks import sweep_syncs as sweep_task

    SyncRun.objects.filter(batch=stuck).update(started_at=now - timedelta(hours=1))
    UploadBatch.objects.filter(pk=lost.pk).update(finished_at=now - timedelta(minutes=10))
    assert sweep_task.delay().get() == [lost.pk, stuck.pk]
    assert set(SyncRun.objects.values_list("state", flat=True)) == {"done"}


def test_a_lateness_alert_is_named_in_the_viewers_language(ops, make_user, api_client):
    now = timezone.now()
    DataResource.objects.filter(code="air-quality").update(last_loaded_at=now - timedelta(hours=5))
    check_freshness(now=now)
    alert = Alert.objects.get(scope="resource:air-quality")
    resource = DataResource.objects.get(code="air-quality")
    api_client.force_authenticate(make_user(resource.provider.code))
    chinese = api_client.get(f"/api/v1/ops/alerts/{alert.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert chinese.json()["message"] == f"{resource.name}（每小时）"
    english = api_client.get(f"/api/v1/ops/alerts/{alert.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert english.json()["message"] == f"{resource.name} (Hourly)"
