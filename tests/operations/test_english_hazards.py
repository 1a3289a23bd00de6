"""Hazard names the hub writes or seeds are shown in the viewer's language."""

from __future__ import annotations

import pytest
from django.utils import translation

pytestmark = pytest.mark.django_db


def test_hazard_names_follow_the_viewer_language(ops, make_user, client):
    from operations.hazards import hazard_label
    from operations.models import Alert
    from tests.operations.conftest import gas
    from tests.operations.test_rules import gas_rule

    gas_rule(ops)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 5, 0.46)])
    alert = Alert.objects.get()
    assert alert.hazard == "燃气管网超压"
    with translation.override("en"):
        assert hazard_label(alert.hazard) == "Gas network overpressure"
        assert hazard_label("自定义风险") == "自定义风险"
        assert "Gas network overpressure" in str(alert)
    client.force_login(make_user(superuser=True))
    body = client.get("/api/v1/ops/alerts/", HTTP_ACCEPT_LANGUAGE="en").json()
    row = next(item for item in body["results"] if item["id"] == alert.pk)
    assert (row["hazard"], row["hazard_display"]) == ("燃气管网超压", "Gas network overpressure")
    page = client.get("/admin/operations/alert/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Gas network overpressure" in page
    page = client.get("/admin/operations/alert/").content.decode()
    assert "燃气管网超压" in page


def test_work_order_states_follow_the_viewer_language(ops, make_user, client):
    from operations.models import WorkOrder, WorkOrderState
    from tests.operations.conftest import gas
    from tests.operations.test_rules import gas_rule

    gas_rule(ops)
    ops.load("gas-pipeline-pressure", [gas("GP000001", 5, 0.46)])
    order = WorkOrder.objects.get()
    assert order.state == WorkOrderState.DISPATCHED
    client.force_login(make_user(superuser=True))
    english = client.get("/admin/operations/workorder/", HTTP_ACCEPT_LANGUAGE="en")
    html = english.content.decode()
    assert "Dispatched" in html and "已派单" not in html
    body = client.get("/api/v1/ops/work-orders/", HTTP_ACCEPT_LANGUAGE="en").json()
    row = next(item for item in body["results"] if item["id"] == order.pk)
    assert (row["state"], row["hazard_display"]) == ("dispatched", "Gas network overpressure")
    chinese = client.get("/admin/operations/workorder/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已派单" in chinese.content.decode()
