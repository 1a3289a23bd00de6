"""Admin pages of rules, mappings and work orders; the demo loader."""

from __future__ import annotations

import io

import pytest

from operations.models import Alert, AlertState, Reading, Rule, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(catalog):
    from operations import demo

    demo.load(io.StringIO())
    return demo


def test_demo_opens_alerts_in_several_districts_and_is_idempotent(demo):
    open_alerts = Alert.objects.filter(state=AlertState.OPEN)
    districts = set(open_alerts.values_list("district_code", flat=True))
    assert len(districts) >= 4
    assert set(open_alerts.values_list("level", flat=True)) == {1, 2, 3, 4}
    assert open_alerts.filter(rule__kind="compound", district_code="310115").exists()
    before = (Reading.objects.count(), Alert.objects.count(), WorkOrder.objects.count())
    assert WorkOrder.objects.count() == open_alerts.count()
    out = io.StringIO()
    demo.load(out)
    assert (Reading.objects.count(), Alert.objects.count(), WorkOrder.objects.count()) == before
    assert "operations:" in out.getvalue()


def test_steward_edits_own_rules_only(client, demo, make_user):
    client.force_login(make_user("water", steward=True))
    demo.grant_role_permissions()  # make_user resets the role groups to the hub's
    listing = client.get("/admin/operations/rule/")
    assert listing.status_code == 200
    ponding = Rule.objects.get(name="道路积水深度连续超限")
    gas = Rule.objects.get(name="燃气管网压力分级阈值")
    bridge = Rule.objects.get(name="桥梁挠度超限")
    page = listing.content.decode()
    assert ponding.name in page and gas.name in page  # records of both are open to all
    assert bridge.name not in page  # conditional resource of another department
    change = client.get(f"/admin/operations/rule/{ponding.pk}/change/").content.decode()
    assert 'name="_save"' in change
    view_only = client.get(f"/admin/operations/rule/{gas.pk}/change/").content.decode()
    assert 'name="_save"' not in view_only
    assert client.get(f"/admin/operations/rule/{bridge.pk}/change/").status_code in (302, 404)


def test_work_order_admin_action_only_for_own_department(client, demo, make_user):
    gas_order = WorkOrder.objects.filter(department__code="housing", state="dispatched").first()
    water_order = WorkOrder.objects.filter(department__code="water", state="dispatched").first()
    client.force_login(make_user("water"))
    demo.grant_role_permissions()
    response = client.post(
        "/admin/operations/workorder/",
        {"action": "accept", "_selected_action": [gas_order.pk, water_order.pk]},
    )
    assert response.status_code == 302
    gas_order.refresh_from_db()
    water_order.refresh_from_db()
    assert (gas_order.state, water_order.state) == ("dispatched", "accepted")


def test_sync_run_pages_open_read_only_for_a_superuser(client, demo, make_user):
    """The sync-run door answers ``view`` only: the superuser's change page asked it for
    ``change`` and crashed (500); the run's pages are read-only."""
    from operations.models import SyncRun

    client.force_login(make_user(superuser=True, username="root"))
    run = SyncRun.objects.order_by("pk").last()
    page = client.get(f"/admin/operations/syncrun/{run.pk}/change/")
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    assert client.get(f"/admin/operations/syncrun/{run.pk}/delete/").status_code == 403
    assert client.get("/admin/operations/syncrun/").status_code == 200
