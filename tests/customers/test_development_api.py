"""`/api/v1/development-applications/` and the development pages."""

from __future__ import annotations

from django.test import Client

from apps.approvals.services import approval_request_for

from .conftest import api


def _create(client, customer, **extra):
    body = {
        "customer": customer.pk,
        "main_business": "Valves",
        "financial_standing": "Sound",
        "development_plan": "Visit",
        **extra,
    }
    return client.post("/api/v1/development-applications/", body)


def test_create_submit_and_edit_lock_over_the_api(org, customer):
    client = api(org.rep1a)
    created = _create(client, customer, registered_capital="1000000.00")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["available_transitions"] == ["submit"]
    submitted = client.post(f"/api/v1/development-applications/{pk}/submit/", {})
    assert submitted.status_code == 200, submitted.json()
    assert submitted.json()["status"] == "pending"
    # editing while pending is a 409 problem
    response = client.patch(f"/api/v1/development-applications/{pk}/", {"development_plan": "x"})
    assert response.status_code == 409
    assert client.post(f"/api/v1/development-applications/{pk}/submit/", {}).status_code == 409


def test_submit_with_empty_plan_is_400_naming_the_field(org, customer):
    client = api(org.rep1a)
    pk = _create(client, customer, development_plan="").json()["id"]
    response = client.post(f"/api/v1/development-applications/{pk}/submit/", {})
    assert response.status_code == 400
    assert "development_plan" in {e["field"] for e in response.json()["errors"]}


def test_out_of_scope_application_is_404(org, customer):
    pk = _create(api(org.rep1a), customer).json()["id"]
    for path in (
        f"/api/v1/development-applications/{pk}/",
        f"/api/v1/development-applications/{pk}/history/",
    ):
        assert api(org.rep2a).get(path).status_code == 404
    assert (
        api(org.rep2a).post(f"/api/v1/development-applications/{pk}/submit/", {}).status_code == 404
    )
    assert api(org.sup1).get(f"/api/v1/development-applications/{pk}/").status_code == 200


def test_someone_else_in_scope_cannot_submit(org, customer):
    pk = _create(api(org.rep1a), customer).json()["id"]
    assert (
        api(org.sup1).post(f"/api/v1/development-applications/{pk}/submit/", {}).status_code == 403
    )


def test_list_query_budget(org, customer, django_assert_max_num_queries):
    from apps.customers.models import Customer

    for i in range(15):
        other = Customer.objects.create(owner=org.rep1a, name=f"C{i}")
        _create(api(org.rep1a), other)
    with django_assert_max_num_queries(6):
        response = api(org.sup1).get("/api/v1/development-applications/")
    assert len(response.json()["results"]) == 15


def test_pages_form_detail_and_panel_submit(org, customer):
    client = Client()
    client.force_login(org.rep1a)
    response = client.post(
        f"/customers/{customer.pk}/development/new/",
        {"main_business": "Valves", "financial_standing": "Sound", "development_plan": "Visit"},
    )
    assert response.status_code == 302
    application = customer.development_applications.get()
    detail = client.get(application.get_absolute_url())
    assert detail.status_code == 200
    assert "approval" in detail.content.decode()
    # the approval panel's generic submit button goes through the same rules
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(type(application))
    client.post(f"/approvals/submit/{ct.pk}/{application.pk}/", {"comment": ""})
    assert approval_request_for(application).status == "pending"
    # the customer page lists the application
    assert (
        f'data-development="{application.pk}"'
        in client.get(f"/customers/{customer.pk}/").content.decode()
    )
    # out of scope: 404
    other = Client()
    other.force_login(org.rep2a)
    assert other.get(application.get_absolute_url()).status_code == 404
