"""`Idempotency-Key` on POST (API.md "ERP integration"), through the real token endpoint."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from apps.api.idempotency import advisory_lock_id
from apps.api.models import ApiToken, IdempotencyKey
from apps.api.services import token_issue
from apps.api.tasks import purge_idempotency_keys

from .conftest import assert_problem

TOKENS = "/api/v1/tokens/"
JSON = "application/json"


def _post(client, body, key, path=TOKENS):
    return client.post(path, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_retry_with_same_key_replays_the_first_response(org, bearer):
    # given an integration that issued a token with an Idempotency-Key
    client = bearer(org.erp)
    first = _post(client, {"name": "sync"}, "key-1")
    assert first.status_code == 201
    # when it retries the same request with the same key
    second = _post(client, {"name": "sync"}, "key-1")
    # then the first answer is replayed byte for byte (the same raw token), marked as a replay
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Content-Type"] == first["Content-Type"]
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first


def test_retry_with_same_key_does_not_do_the_work_again(org, bearer):
    # given a token issued with an Idempotency-Key
    client = bearer(org.erp)
    _post(client, {"name": "sync"}, "key-1")
    # when the request is retried twice
    _post(client, {"name": "sync"}, "key-1")
    _post(client, {"name": "sync"}, "key-1")
    # then only one token was issued
    assert ApiToken.objects.filter(user=org.erp, name="sync").count() == 1


def test_same_body_with_other_spacing_is_still_a_retry(org, bearer):
    # given a request sent with a key
    client = bearer(org.erp)
    first = client.post(
        TOKENS, '{"name": "sync", "days": 5}', content_type=JSON, HTTP_IDEMPOTENCY_KEY="k"
    )
    # when the client re-serialises the same payload differently
    second = client.post(
        TOKENS, '{"days":5,"name":"sync"}', content_type=JSON, HTTP_IDEMPOTENCY_KEY="k"
    )
    # then it is recognised as the same request
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"


def test_same_key_with_different_body_is_422(org, bearer):
    # given a key used for one request
    client = bearer(org.erp)
    _post(client, {"name": "sync"}, "key-1")
    # when it is sent with another body
    response = _post(client, {"name": "other"}, "key-1")
    # then 422 problem, and no second token
    assert_problem(response, 422, "idempotency-key-reused")
    assert ApiToken.objects.filter(user=org.erp).count() == 2  # bearer's own + "sync"


def test_same_key_on_another_path_is_422(org, bearer):
    # given a key used to issue a token
    client = bearer(org.erp)
    created = _post(client, {"name": "sync"}, "key-1").json()
    # when the same key is sent to revoke it
    response = _post(client, {}, "key-1", path=f"{TOKENS}{created['id']}/revoke/")
    # then 422, and the token is not revoked
    assert_problem(response, 422, "idempotency-key-reused")
    assert ApiToken.objects.get(pk=created["id"]).revoked_at is None


def test_keys_are_per_user(org, bearer):
    # given a key used by one user
    _post(bearer(org.erp), {"name": "sync"}, "shared-key")
    # when another user sends the same key with the same body
    response = _post(bearer(org.admin), {"name": "sync"}, "shared-key")
    # then it is a new request of that user, not a replay of someone else's answer
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert response.json()["user"]["id"] == org.admin.pk


def test_error_answer_is_replayed_too(org, bearer):
    # given a request that was refused as invalid
    client = bearer(org.erp)
    first = _post(client, {"days": 3}, "key-bad")
    assert first.status_code == 400
    # when it is retried unchanged
    second = _post(client, {"days": 3}, "key-bad")
    # then the same refusal is replayed
    assert second.status_code == 400
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"


def test_key_longer_than_255_characters_is_400_naming_the_header(org, bearer):
    # given / when a key of 256 characters is sent
    response = _post(bearer(org.erp), {"name": "sync"}, "k" * 256)
    # then 400 naming the header, and nothing is done
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "Idempotency-Key"
    assert not ApiToken.objects.filter(name="sync").exists()


def test_post_without_key_is_not_remembered(org, bearer):
    # given / when two identical POSTs are sent without a key
    client = bearer(org.erp)
    client.post(TOKENS, {"name": "sync"}, format="json")
    client.post(TOKENS, {"name": "sync"}, format="json")
    # then both are done (the key is opt-in), and nothing is stored
    assert ApiToken.objects.filter(name="sync").count() == 2
    assert not IdempotencyKey.objects.exists()


def test_expired_key_can_be_used_again(org, bearer, settings):
    # given a key used 49 hours ago (the TTL is 48 h) and not purged yet
    client = bearer(org.erp)
    _post(client, {"name": "sync"}, "old-key")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=49))
    # when it is sent again, even with another body
    response = _post(client, {"name": "again"}, "old-key")
    # then it is a new request
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response


# --- purge job ------------------------------------------------------------------------------


def test_purge_deletes_expired_keys_and_keeps_fresh_ones(org, django_assert_num_queries):
    # given one key older than the 48 h TTL and one from an hour ago
    now = timezone.now()
    common = {"user": org.erp, "method": "POST", "path": "/x/", "request_hash": "0" * 64}
    IdempotencyKey.objects.create(key="old", created_at=now - timedelta(hours=49), **common)
    IdempotencyKey.objects.create(key="fresh", created_at=now - timedelta(hours=1), **common)
    # when the hourly job runs (one set-based DELETE)
    with django_assert_num_queries(1):
        deleted = purge_idempotency_keys()
    # then only the old key is gone
    assert deleted == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]


# --- concurrency ----------------------------------------------------------------------------


def _waiting_locks(kind: str) -> int:
    with connection.cursor() as cursor:
        if kind == "advisory":
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            )
        else:
            cursor.execute(
                "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                "WHERE c.relname = 'api_apitoken' AND NOT l.granted"
            )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_do_the_work_once_and_answer_the_same(org):
    # given an integration token (already marked used, so authenticating writes nothing)
    token, raw = token_issue(user=org.erp, name="auth", days=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    responses = []

    def send() -> None:
        try:
            client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            responses.append(_post(client, {"name": "sync"}, "same-key"))
        finally:
            connection.close()

    # when two identical requests arrive together, while the first one is still working
    # (token inserts are held up by a table lock, so the first request is mid-flight)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE api_apitoken IN SHARE ROW EXCLUSIVE MODE")
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 15
        while not (_waiting_locks("table") == 1 and _waiting_locks("advisory") == 1):
            assert time.monotonic() < deadline, "the two requests never overlapped"
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=30)

    # then the second waited for the first and replayed its answer: one token, same bodies
    assert len(responses) == 2
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].content == responses[1].content
    assert sorted(r.get("Idempotent-Replayed", "") for r in responses) == ["", "true"]
    assert ApiToken.objects.filter(user=org.erp, name="sync").count() == 1
    assert IdempotencyKey.objects.filter(key="same-key", completed=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_request_waiting_too_long_for_its_duplicate_is_409(org, settings):
    # given a request with key "slow" still running (its lock held elsewhere), and a wait of 0.2 s
    settings.IDEMPOTENCY_LOCK_TIMEOUT_SECONDS = 0.2
    _token, raw = token_issue(user=org.erp, name="auth", days=30)
    responses = []

    def send() -> None:
        try:
            client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
            responses.append(_post(client, {"name": "sync"}, "slow"))
        finally:
            connection.close()

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_lock_id(org.erp.pk, "slow")])
        try:
            # when a duplicate arrives
            thread = threading.Thread(target=send)
            thread.start()
            thread.join(timeout=30)
        finally:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [advisory_lock_id(org.erp.pk, "slow")])

    # then it is told to retry later, and did nothing
    assert_problem(responses[0], 409, "idempotency-key-in-use")
    assert responses[0]["Retry-After"] == "1"
    assert not ApiToken.objects.filter(name="sync").exists()
