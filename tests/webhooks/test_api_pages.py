"""Subscriptions over the API and in the pages: administrators and integration users only
(everyone else: 404 on an object, 403 on create), bad input a 400 naming the field."""

from __future__ import annotations

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.webhooks import services
from apps.webhooks.models import WebhookDelivery, WebhookSubscription


@pytest.fixture
def api_as():
    def make(user) -> APIClient:
        client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
        client.force_authenticate(user)
        return client

    return make


def _sub(org) -> WebhookSubscription:
    return services.subscription_create(
        by=org.admin,
        data={"name": "ERP", "url": "https://erp.example.com/hook", "event_types": ["ping"]},
    )


def test_the_integration_user_subscribes_and_gets_the_secret_once(org, api_as):
    client = api_as(org.erp)

    created = client.post(
        "/api/v1/webhooks/",
        {"name": "Kingdee", "url": "https://erp.example.com/hook",
         "event_types": ["payment.allocated", "contract.signed"]},
        format="json",
    )  # fmt: skip

    assert created.status_code == 201, created.content
    assert created.json()["secret"].startswith("whsec_")
    assert created.json()["event_types"] == ["contract.signed", "payment.allocated"]
    detail = client.get(f"/api/v1/webhooks/{created.json()['id']}/")
    assert detail.status_code == 200 and "secret" not in detail.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "url": "not a url", "event_types": ["ping"]}, "url"),
        ({"name": "x", "url": "ftp://erp.example.com/", "event_types": ["ping"]}, "url"),
        ({"name": "x", "url": "https://erp.example.com/", "event_types": ["nope"]}, "event_types"),
        ({"name": "x", "url": "https://erp.example.com/", "event_types": []}, "event_types"),
        ({"name": "", "url": "https://erp.example.com/", "event_types": ["ping"]}, "name"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(org, api_as, body, field):
    response = api_as(org.admin).post("/api/v1/webhooks/", body, format="json")

    assert response.status_code == 400, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert any(e["field"].split(".")[0] == field for e in response.json()["errors"])
    assert not WebhookSubscription.objects.exists()


def test_a_rep_or_a_manager_sees_no_subscription_and_may_create_none(org, api_as):
    sub = _sub(org)
    for user in (org.rep1a, org.manager1, org.finance):
        client = api_as(user)
        assert client.get(f"/api/v1/webhooks/{sub.pk}/").status_code == 404
        assert client.get("/api/v1/webhooks/").json()["results"] == []
        response = client.post(
            "/api/v1/webhooks/",
            {"name": "x", "url": "https://a.example.com/", "event_types": ["ping"]},
            format="json",
        )
        assert response.status_code == 403
        assert client.post(f"/api/v1/webhooks/{sub.pk}/ping/").status_code == 404
    assert WebhookSubscription.objects.count() == 1


def test_patch_rotate_and_delete(org, api_as):
    sub = _sub(org)
    client = api_as(org.admin)

    patched = client.patch(f"/api/v1/webhooks/{sub.pk}/", {"is_active": False}, format="json")
    rotated = client.post(f"/api/v1/webhooks/{sub.pk}/rotate-secret/")

    assert patched.status_code == 200 and patched.json()["is_active"] is False
    assert rotated.status_code == 200 and rotated.json()["secret"] != sub.secret
    assert client.delete(f"/api/v1/webhooks/{sub.pk}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_ping_queues_a_delivery_and_the_log_lists_it(
    org, api_as, django_capture_on_commit_callbacks
):
    sub = _sub(org)
    client = api_as(org.admin)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/api/v1/webhooks/{sub.pk}/ping/")

    assert response.status_code == 202
    assert response.json()["event_type"] == "ping" and response.json()["status"] == "pending"
    assert len(callbacks) == 1
    log = client.get("/api/v1/webhook-deliveries/", {"subscription": sub.pk, "status": "pending"})
    assert [d["id"] for d in log.json()["results"]] == [response.json()["id"]]
    assert (
        api_as(org.rep1a).get(f"/api/v1/webhook-deliveries/{response.json()['id']}/").status_code
        == 404
    )


def test_the_delivery_log_is_a_fixed_number_of_queries(org, api_as, django_assert_max_num_queries):
    sub = _sub(org)
    for _ in range(30):
        services.subscription_ping(subscription=sub, by=org.admin)
    client = api_as(org.admin)

    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/webhook-deliveries/")

    assert response.status_code == 200 and len(response.json()["results"]) == 30


def test_pages_for_the_admin_and_404_for_others(client, org):
    sub = _sub(org)
    WebhookDelivery.objects.create(
        event_id=services.subscription_ping(subscription=sub, by=org.admin).event_id,
        subscription=sub,
    )
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    client.force_login(org.admin)
    listing = client.get("/webhooks/")
    detail = client.get(f"/webhooks/{sub.pk}/")
    assert listing.status_code == 200 and b"ERP" in listing.content
    assert detail.status_code == 200 and sub.secret.encode() in detail.content

    created = client.post(
        "/webhooks/",
        {
            "name": "Second",
            "url": "https://b.example.com/h",
            "event_types": ["contract.signed"],
            "is_active": "on",
        },
    )
    assert created.status_code == 302
    bad = client.post("/webhooks/", {"name": "Third", "url": "nope", "event_types": ["ping"]})
    assert bad.status_code == 200 and b"Enter a valid URL" in bad.content
    assert WebhookSubscription.objects.count() == 2

    client.force_login(org.manager1)
    assert client.get("/webhooks/").status_code == 404
    assert client.get(f"/webhooks/{sub.pk}/").status_code == 404
    assert client.post(f"/webhooks/{sub.pk}/delete/").status_code == 404
    assert WebhookSubscription.objects.filter(pk=sub.pk).exists()
