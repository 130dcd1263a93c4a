"""`/api/v1/tokens/` and the token admin: issue, list, revoke."""

from __future__ import annotations

import re

from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.models import ApiToken
from apps.api.services import token_issue

from ..factories import UserFactory
from .conftest import assert_problem

TOKENS = "/api/v1/tokens/"


def _client(raw: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_user_issues_own_token_and_it_works(org, bearer):
    # given an integration user
    # when it issues itself a token valid 90 days
    response = bearer(org.erp).post(TOKENS, {"name": "nightly", "days": 90}, format="json")
    # then the answer holds the secret once, and the secret authenticates as that user
    assert response.status_code == 201
    body = response.json()
    assert body["user"]["id"] == org.erp.pk
    assert body["prefix"] == body["token"][:8]
    assert 89 <= (ApiToken.objects.get(pk=body["id"]).expires_at - timezone.now()).days <= 90
    assert _client(body["token"]).get("/api/v1/users/me/").json()["username"] == "erp"


def test_token_secret_is_never_listed(org, bearer):
    # given a user with tokens
    client = bearer(org.erp)
    client.post(TOKENS, {"name": "nightly"}, format="json")
    # when they list and open them
    listing = client.get(TOKENS).json()["results"]
    detail = client.get(f"{TOKENS}{listing[0]['id']}/").json()
    # then no secret is shown
    assert all("token" not in t for t in [*listing, detail])


def test_user_sees_only_own_tokens(org, bearer):
    # given tokens of two users
    token_issue(user=org.rep3a, name="other", days=1)
    # when rep1a lists tokens
    names = {t["user"]["id"] for t in bearer(org.rep1a).get(TOKENS).json()["results"]}
    # then only theirs
    assert names == {org.rep1a.pk}


def test_admin_sees_every_token(org, bearer):
    # given a token of a rep
    token, _raw = token_issue(user=org.rep3a, name="other", days=1)
    # when the admin lists tokens
    ids = {t["id"] for t in bearer(org.admin).get(TOKENS).json()["results"]}
    # then the rep's is among them
    assert token.pk in ids


def test_admin_issues_token_for_integration_user(org, bearer):
    # given / when the admin issues a token for the ERP user
    response = bearer(org.admin).post(TOKENS, {"name": "erp", "user": org.erp.pk}, format="json")
    # then the token acts as the ERP user
    assert response.status_code == 201
    assert _client(response.json()["token"]).get("/api/v1/users/me/").json()["id"] == org.erp.pk


def test_naming_a_user_outside_scope_is_400(org, bearer):
    # given / when a rep names a user they cannot see
    response = bearer(org.rep1a).post(TOKENS, {"name": "x", "user": org.rep3a.pk}, format="json")
    # then 400 on the field, as if that user did not exist
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "user"


def test_revoked_token_stops_working_at_once(org, bearer):
    # given a token in use
    client = bearer(org.erp)
    body = client.post(TOKENS, {"name": "nightly"}, format="json").json()
    victim = _client(body["token"])
    assert victim.get("/api/v1/users/me/").status_code == 200
    # when it is revoked
    response = client.post(f"{TOKENS}{body['id']}/revoke/")
    # then the next call with it is refused
    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert_problem(victim.get("/api/v1/users/me/"), 401, "authentication-failed")


def test_revoking_twice_keeps_the_first_revocation(org, bearer):
    # given a revoked token
    client = bearer(org.admin)
    token, _raw = token_issue(user=org.erp, name="x", days=1)
    first = client.post(f"{TOKENS}{token.pk}/revoke/").json()["revoked_at"]
    # when it is revoked again
    second = client.post(f"{TOKENS}{token.pk}/revoke/")
    # then it stays revoked at the first time
    assert second.status_code == 200
    assert second.json()["revoked_at"] == first


def test_revoking_someone_elses_token_is_404(org, bearer):
    # given a token of another rep
    token, _raw = token_issue(user=org.rep3a, name="x", days=1)
    # when rep1a tries to revoke it
    response = bearer(org.rep1a).post(f"{TOKENS}{token.pk}/revoke/")
    # then 404, and it still works
    assert_problem(response, 404, "not-found")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is None


# --- admin ------------------------------------------------------------------------------


def _admin_client(org) -> Client:
    superuser = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser)
    return client


def test_admin_site_issues_a_token_and_shows_it_once(org):
    # given a superuser on the admin site
    client = _admin_client(org)
    # when they add a token for the ERP user
    response = client.post(
        "/admin/api/apitoken/add/",
        {"user": org.erp.pk, "name": "from admin", "days": "30"},
        follow=True,
    )
    # then the page shows the raw token once, and it authenticates as the ERP user
    html = response.content.decode()
    raw = re.search(r"sct_[A-Za-z0-9_-]{40}", html).group(0)
    assert ApiToken.objects.get(name="from admin").user == org.erp
    assert _client(raw).get("/api/v1/users/me/").json()["username"] == "erp"
    assert raw not in client.get("/admin/api/apitoken/").content.decode()


def test_admin_site_revoke_action(org):
    # given two tokens
    client = _admin_client(org)
    one, _ = token_issue(user=org.erp, name="one", days=1)
    two, _ = token_issue(user=org.erp, name="two", days=1)
    # when the admin revokes the first with the list action
    client.post(
        "/admin/api/apitoken/",
        {"action": "revoke_tokens", "_selected_action": [one.pk]},
    )
    # then only that one is revoked, by that admin
    one.refresh_from_db()
    two.refresh_from_db()
    assert one.revoked_at is not None and one.revoked_by.username == "root"
    assert two.revoked_at is None


def test_other_users_token_detail_is_404(org, bearer):
    # given a token of a rep in another department
    token, _raw = token_issue(user=org.rep3a, name="x", days=1)
    # when rep1a opens it
    response = bearer(org.rep1a).get(f"{TOKENS}{token.pk}/")
    # then 404
    assert_problem(response, 404, "not-found")
