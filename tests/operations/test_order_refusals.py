"""Refusals of work-order moves: the role is checked before the state (403, not 409), a
malformed 派单 department is a 400 form error (not a 500), and the summary's time is
sent in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from operations.models import WorkOrderState
from tests.operations.test_ops_centre import (
    bridge_order,
    client_for,
    demo,
    messages_of,
    move,
    users,
)

__all__ = ["demo", "users"]  # the fixtures, re-used

pytestmark = pytest.mark.django_db


def in_progress(users):
    order = bridge_order()
    housing = client_for(users["housing"])
    move(housing, order, "accept")
    move(housing, order, "start")
    order.refresh_from_db()
    assert order.state == WorkOrderState.IN_PROGRESS
    return order


def test_api_refuses_a_move_outside_the_role_before_its_state(users, api_client):
    order = in_progress(users)
    url = f"/api/v1/ops/work-orders/{order.pk}/transition/"
    api_client.force_authenticate(users["cityops"])
    # Accepting an order in progress is also an invalid move: the role answers first.
    refused = api_client.post(url, {"to": "accepted"}, format="json")
    assert refused.status_code == 403
    assert refused.json() == {"detail": "只有处置部门可以签收、处置和办结工单。"}
    closing = api_client.post(url, {"to": "closed"}, format="json")
    assert closing.status_code == 409  # the ops centre may close, not an order in progress
    api_client.force_authenticate(users["housing"])
    same_role = api_client.post(url, {"to": "accepted"}, format="json")
    assert same_role.status_code == 409
    assert same_role.json() == {"detail": ["工单不能从“处置中”变为“已签收”。"]}
    verify = api_client.post(url, {"to": "verified"}, format="json")
    assert verify.status_code == 403  # the working department never checks its own order
    order.refresh_from_db()
    assert order.state == WorkOrderState.IN_PROGRESS


def test_page_refuses_a_move_outside_the_role_before_its_state(users):
    order = in_progress(users)
    response = move(client_for(users["cityops"]), order, "accept")
    assert messages_of(response) == ["签收：只有处置部门可以签收、处置和办结工单。"]
    response = move(client_for(users["housing"]), order, "close")
    assert messages_of(response) == ["归档：办结工单的部门不能核查或归档该工单。"]


@pytest.mark.parametrize("value", ["²", "١", "", "x", "999999"])
def test_malformed_dispatch_department_is_a_400_form_error(users, value):
    order = bridge_order()
    url = reverse("operations:order-move", args=[order.pk])
    response = client_for(users["cityops"]).post(url, {"move": "dispatch", "department": value})
    assert response.status_code == 400
    assert messages_of(response) == ["派单：请选择处置部门。"]
    assert response.context["order"] == order  # the order page again
    order.refresh_from_db()
    assert (order.department.code, len(order.history)) == ("housing", 1)


def test_dispatch_outside_the_ops_centre_is_refused_before_the_department(users):
    response = move(client_for(users["housing"]), bridge_order(), "dispatch", department="²")
    assert messages_of(response) == ["派单：只有城运中心可以派单。"]


def test_dispatch_with_an_ascii_department_id(users, demo):
    water = demo["departments"]["water"]
    order = bridge_order()
    response = move(client_for(users["cityops"]), order, "dispatch", department=str(water.pk))
    assert response.status_code == 200
    order.refresh_from_db()
    assert order.department == water


def test_summary_time_is_sent_in_shanghai(users, api_client, time_machine):
    time_machine.move_to(dt.datetime(2026, 3, 7, 10, 0, 5, tzinfo=dt.UTC), tick=False)
    api_client.force_authenticate(users["cityops"])
    stamp = api_client.get("/api/v1/ops/summary/").json()["generated_at"]
    assert stamp == "2026-03-07T18:00:05+08:00"
