"""Bearer tokens and session auth (API.md "Discovery and auth")."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.models import ApiToken
from apps.api.services import token_issue, token_revoke

from .conftest import assert_problem

ME = "/api/v1/users/me/"


def _client(raw: str) -> APIClient:
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def test_bearer_token_authenticates_as_its_user(org):
    # given a token issued for the ERP integration user
    _token, raw = token_issue(user=org.erp, name="erp sync", days=30)
    # when it calls the API
    response = _client(raw).get(ME)
    # then it acts as that user
    assert response.status_code == 200
    assert response.json()["username"] == "erp"


def test_only_the_hash_of_the_token_is_stored(org):
    # given / when a token is issued
    token, raw = token_issue(user=org.erp, name="erp sync", days=30)
    # then the raw secret appears in no column, and the prefix is its first 8 characters
    row = ApiToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in row.values()]
    assert row["prefix"] == raw[:8]
    assert raw.startswith("sct_")


def test_expired_token_is_401(org, api):
    # given a token that expired a minute ago
    token, raw = token_issue(user=org.erp, name="old", days=1)
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    # when it is used
    response = _client(raw).get(ME)
    # then 401 problem with a Bearer challenge naming the token as invalid
    body = assert_problem(response, 401, "authentication-failed")
    assert body["detail"] == "This token has expired."
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert 'error="invalid_token"' in response["WWW-Authenticate"]


def test_revoked_token_is_401(org):
    # given a revoked token
    token, raw = token_issue(user=org.erp, name="erp", days=30)
    token_revoke(token=token, by=org.admin)
    # when it is used
    response = _client(raw).get(ME)
    # then 401
    body = assert_problem(response, 401, "authentication-failed")
    assert body["detail"] == "This token has been revoked."


def test_unknown_token_is_401(org):
    # given a well-formed token that was never issued
    # when it is used
    response = _client("sct_" + "x" * 40).get(ME)
    # then 401, the same as any invalid token
    body = assert_problem(response, 401, "authentication-failed")
    assert body["detail"] == "Invalid token."


def test_token_of_inactive_user_is_401(org):
    # given a token whose user was deactivated after it was issued
    _token, raw = token_issue(user=org.rep1a, name="x", days=30)
    org.rep1a.is_active = False
    org.rep1a.save()
    # when it is used
    response = _client(raw).get(ME)
    # then 401
    assert_problem(response, 401, "authentication-failed")


def test_malformed_bearer_header_is_401_not_a_fallback_to_the_session(org):
    # given a logged-in browser session that also sends a broken Bearer header
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.admin)
    # when it calls the API
    response = client.get(ME, HTTP_AUTHORIZATION="Bearer two parts")
    # then 401: a Bearer header is never silently ignored
    assert_problem(response, 401, "authentication-failed")


def test_no_credentials_is_401_with_bearer_challenge(api, db):
    # given no credentials
    # when the API is called
    response = api.get(ME)
    # then 401 asking for a bearer token
    assert_problem(response, 401, "not-authenticated")
    assert response["WWW-Authenticate"] == 'Bearer realm="api"'


def test_last_used_is_written_at_most_once_a_minute(org):
    # given a token used once (which records last_used_at)
    token, raw = token_issue(user=org.erp, name="erp", days=30)
    client = _client(raw)
    client.get(ME)
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None
    # when it is used again within the minute
    client.get(ME)
    # then last_used_at is unchanged (no write)
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first


def test_last_used_is_refreshed_after_a_minute(org):
    # given a token last used two minutes ago
    token, raw = token_issue(user=org.erp, name="erp", days=30)
    old = timezone.now() - timedelta(minutes=2)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=old)
    # when it is used
    _client(raw).get(ME)
    # then last_used_at moves to now
    assert ApiToken.objects.get(pk=token.pk).last_used_at > old


def test_session_post_without_csrf_token_is_403(org):
    # given a browser session (CSRF checks on, as in a real browser)
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.rep1a)
    # when it POSTs without the CSRF token
    response = client.post("/api/v1/tokens/", {"name": "mine"}, format="json")
    # then 403 problem, and nothing is created
    body = assert_problem(response, 403, "permission-denied")
    assert "CSRF" in body["detail"]
    assert not ApiToken.objects.filter(user=org.rep1a).exists()


def test_session_get_needs_no_csrf_token(org):
    # given a browser session
    client = APIClient(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(org.rep1a)
    # when it reads
    response = client.get(ME)
    # then it is served
    assert response.status_code == 200
    assert response.json()["username"] == "rep1a"


# --- manage.py issue_token --------------------------------------------------------------


def test_issue_token_command_prints_a_working_token_on_its_last_line(org):
    # given the ERP integration user
    out = io.StringIO()
    # when an operator issues a token for it
    call_command("issue_token", "erp", "--days", "7", "--name", "nightly sync", stdout=out)
    # then the last line is the token alone, and it authenticates as erp
    raw = out.getvalue().strip().splitlines()[-1]
    assert raw.startswith("sct_") and " " not in raw
    token = ApiToken.objects.get(user=org.erp)
    assert token.name == "nightly sync"
    assert timedelta(days=6, hours=23) < token.expires_at - timezone.now() <= timedelta(days=7)
    assert _client(raw).get(ME).json()["username"] == "erp"


def test_issue_token_command_days_zero_never_expires(org):
    # given / when a token is issued with --days 0
    call_command("issue_token", "erp", "--days", "0", stdout=io.StringIO())
    # then it has no expiry
    assert ApiToken.objects.get(user=org.erp).expires_at is None


def test_issue_token_command_unknown_user_is_an_error(db):
    # given no user named "ghost"
    # when a token is asked for it
    # then the command fails and nothing is issued
    with pytest.raises(CommandError, match="ghost"):
        call_command("issue_token", "ghost", stdout=io.StringIO())
    assert not ApiToken.objects.exists()
