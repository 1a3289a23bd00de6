"""The access-request pages (/access/): request with pickers, the provider's queue, partial
approval, the requester's list, and who may act (others get 404)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from permissions import services
from permissions.models import AccessGrant, AccessRequest, RequestStatus

RESOURCE = "gas-leak-alarms"


@pytest.fixture
def people(catalog, make_user):
    return {
        "requester": make_user("cityops", username="ops-staff"),
        "provider": make_user("housing", username="housing-staff"),
        "other": make_user("water", username="water-staff"),
    }


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def file_request(people, catalog, **kwargs) -> AccessRequest:
    return services.request_access(
        user=people["requester"],
        requester=catalog["departments"]["cityops"],
        resource=catalog["resources"][RESOURCE],
        purpose="联动处置",
        **kwargs,
    )


def test_request_form_offers_field_labels_and_district_names(people):
    response = client_for(people["requester"]).get(f"/access/request/{RESOURCE}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "联系电话 (phone)" in html
    assert 'value="310101"' in html and "黄浦区" in html
    assert 'value="310115"' in html and "浦东新区" in html


def test_request_stores_codes_and_redirects_to_my_list(people, catalog):
    client = client_for(people["requester"])
    response = client.post(
        f"/access/request/{RESOURCE}/",
        {
            "requester": str(catalog["departments"]["cityops"].pk),
            "fields": ["alarm_id", "district", "concentration"],
            "districts": ["310101", "310115"],
            "purpose": "燃气泄漏联动处置",
            "duration_days": "90",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/access/"
    request = AccessRequest.objects.get()
    assert request.fields == ["alarm_id", "district", "concentration"]
    assert request.districts == ["310101", "310115"]
    assert (request.duration_days, request.requested_by) == (90, people["requester"])
    mine = client.get("/access/").content.decode()
    assert "黄浦区、浦东新区" in mine and "待审批" in mine


@pytest.mark.parametrize(
    ("districts", "purpose", "error_field"),
    [
        (["黄浦区"], "用途", "districts"),
        (["310101"], "   ", "purpose"),
        (["999999"], "x", "districts"),
    ],
)
def test_request_form_refuses_names_unknown_codes_and_blank_purpose(
    people, catalog, districts, purpose, error_field
):
    response = client_for(people["requester"]).post(
        f"/access/request/{RESOURCE}/",
        {
            "requester": str(catalog["departments"]["cityops"].pk),
            "districts": districts,
            "purpose": purpose,
            "duration_days": "365",
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors[error_field]
    assert not AccessRequest.objects.exists()


def test_service_refuses_district_names(people, catalog):
    with pytest.raises(ValidationError) as error:
        file_request(people, catalog, districts=["黄浦区"])
    assert "districts" in error.value.message_dict
    assert not AccessRequest.objects.exists()


def test_not_shared_and_unknown_resources_are_404(people):
    client = client_for(people["requester"])
    assert client.get("/access/request/police-incidents/").status_code == 404
    assert client.get("/access/request/no-such-thing/").status_code == 404


def test_queue_lists_pending_for_the_provider_only(people, catalog):
    pending = file_request(people, catalog, districts=["310101"])
    provider_page = client_for(people["provider"]).get("/access/queue/").content.decode()
    assert f'href="/access/queue/{pending.pk}/"' in provider_page
    for who in ("requester", "other"):
        page = client_for(people[who]).get("/access/queue/").content.decode()
        assert f"/access/queue/{pending.pk}/" not in page
        assert client_for(people[who]).get(f"/access/queue/{pending.pk}/").status_code == 404
        response = client_for(people[who]).post(
            f"/access/queue/{pending.pk}/", {"decision": "approve", "districts": ["310101"]}
        )
        assert response.status_code == 404
    assert AccessRequest.objects.get().status == RequestStatus.PENDING


def test_partial_approval_grants_fewer_fields_and_districts(people, catalog):
    pending = file_request(
        people, catalog, fields=["alarm_id", "district", "phone"], districts=["310101", "310115"]
    )
    response = client_for(people["provider"]).post(
        f"/access/queue/{pending.pk}/",
        {"decision": "approve", "fields": ["alarm_id", "district"], "districts": ["310101"]},
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get(request=pending)
    assert (grant.fields, grant.districts) == (["alarm_id", "district"], ["310101"])
    pending.refresh_from_db()
    assert pending.status == RequestStatus.APPROVED
    mine = client_for(people["requester"]).get("/access/").content.decode()
    assert "批准：黄浦区" in mine
    assert 'class="button data-link"' in mine


def test_approval_cannot_widen_the_scope(people, catalog):
    pending = file_request(people, catalog, fields=["alarm_id"], districts=["310101"])
    for extra in ({"fields": ["alarm_id", "phone"]}, {"districts": ["310101", "310115"]}):
        with pytest.raises(ValidationError):
            services.approve_request(user=people["provider"], access_request=pending, **extra)
    with pytest.raises(ValidationError):
        services.approve_request(user=people["provider"], access_request=pending, districts=[])
    response = client_for(people["provider"]).post(
        f"/access/queue/{pending.pk}/",
        {"decision": "approve", "fields": ["alarm_id"], "districts": ["310115"]},
    )
    assert response.status_code == 200 and response.context["form"].errors["districts"]
    assert not AccessGrant.objects.exists()


def test_full_approval_of_a_city_wide_request_grants_all(people, catalog):
    pending = file_request(people, catalog)
    form = client_for(people["provider"]).get(f"/access/queue/{pending.pk}/").context["form"]
    response = client_for(people["provider"]).post(
        f"/access/queue/{pending.pk}/",
        {
            "decision": "approve",
            "fields": [value for value, _ in form.fields["fields"].choices],
            "districts": [value for value, _ in form.fields["districts"].choices],
        },
    )
    assert response.status_code == 302
    grant = AccessGrant.objects.get()
    assert (grant.fields, grant.districts) == ([], [])


def test_refusal_needs_a_reason(people, catalog):
    pending = file_request(people, catalog)
    client = client_for(people["provider"])
    response = client.post(f"/access/queue/{pending.pk}/", {"decision": "refuse", "reason": " "})
    assert response.status_code == 200 and response.context["form"].errors["reason"]
    response = client.post(
        f"/access/queue/{pending.pk}/", {"decision": "refuse", "reason": "不符合共享条件"}
    )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert (pending.status, pending.refusal_reason) == (RequestStatus.REFUSED, "不符合共享条件")
    assert "不符合共享条件" in client_for(people["requester"]).get("/access/").content.decode()


def test_data_link_falls_back_to_the_records_api(monkeypatch):
    from django.urls import NoReverseMatch

    from permissions import views

    real_reverse = views.reverse

    def no_explorer(name, *args, **kwargs):
        if name.startswith("explorer:"):
            raise NoReverseMatch(name)
        return real_reverse(name, *args, **kwargs)

    monkeypatch.setattr(views, "reverse", no_explorer)
    assert views.data_url(RESOURCE) == f"/api/v1/resources/{RESOURCE}/records/"


def test_pages_need_a_login(db):
    for url in ("/access/", "/access/queue/", f"/access/request/{RESOURCE}/"):
        response = Client().get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_admin_offers_decisions_only_to_the_provider(people, catalog):
    pending = file_request(people, catalog)
    changelist = "/admin/permissions/accessrequest/"
    requester_actions = client_for(people["requester"]).get(changelist).context["action_form"]
    provider_actions = client_for(people["provider"]).get(changelist).context["action_form"]

    def names(form) -> set[str]:
        # No action at all: the admin renders no action form.
        return {value for value, _ in form.fields["action"].choices} if form else set()

    assert not {"approve", "refuse"} & names(requester_actions)
    assert {"approve", "refuse"} <= names(provider_actions)
    change = f"{changelist}{pending.pk}/change/"
    provider_page = client_for(people["provider"]).get(change).content.decode()
    assert f'href="/access/queue/{pending.pk}/"' in provider_page
    requester_page = client_for(people["requester"]).get(change).content.decode()
    assert f"/access/queue/{pending.pk}/" not in requester_page


def test_admin_add_with_a_resource_opens_the_request_page(people, catalog):
    resource = catalog["resources"][RESOURCE]
    response = client_for(people["requester"]).get(
        f"/admin/permissions/accessrequest/add/?resource={resource.pk}"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/access/request/{RESOURCE}/"


def test_admin_add_form_refuses_district_names(people, catalog):
    response = client_for(people["requester"]).post(
        "/admin/permissions/accessrequest/add/",
        {
            "resource": catalog["resources"][RESOURCE].pk,
            "requester": catalog["departments"]["cityops"].pk,
            "purpose": "联动",
            "fields": "[]",
            "districts": '["黄浦区"]',
            "duration_days": "30",
        },
    )
    assert response.status_code == 200
    assert "黄浦区" in str(response.context["adminform"].form.errors["districts"])
    assert not AccessRequest.objects.exists()


def test_resource_page_offers_request_button_only_without_access(people, catalog):
    resource = catalog["resources"][RESOURCE]
    page = f"/admin/catalog/dataresource/{resource.pk}/change/"
    button = f'href="/access/request/{RESOURCE}/"'
    assert button in client_for(people["requester"]).get(page).content.decode()
    # The provider reads the records already: no button.
    assert button not in client_for(people["provider"]).get(page).content.decode()
    grant = file_request(people, catalog)
    services.approve_request(user=people["provider"], access_request=grant)
    assert button not in client_for(people["requester"]).get(page).content.decode()


def test_api_approves_in_part(people, catalog, api_client):
    pending = file_request(people, catalog, districts=["310101", "310104"])
    api_client.force_authenticate(people["provider"])
    url = f"/api/v1/access-requests/{pending.pk}/approve/"
    wider = api_client.post(url, {"districts": ["310115"]}, format="json")
    assert wider.status_code == 400 and "districts" in wider.json()
    response = api_client.post(url, {"districts": ["310104"]}, format="json")
    assert response.status_code == 200, response.json()
    assert AccessGrant.objects.get(request=pending).districts == ["310104"]
