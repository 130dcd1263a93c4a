"""Cursor pages and incremental sync (API.md "ERP integration", "Limits")."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlencode

from django.utils import timezone

from apps.accounts.models import User

from ..factories import UserFactory
from .conftest import assert_problem

USERS = "/api/v1/users/"


def _pull(client, url: str) -> list[dict]:
    """Follow `next` links to the end; return every row."""
    rows = []
    while url:
        page = client.get(url).json()
        rows += page["results"]
        url = page["next"]
    return rows


def test_default_page_is_50_with_a_next_link(org, bearer):
    # given 60 users (12 + 48)
    UserFactory.create_batch(48)
    # when the admin lists users without a page size
    page = bearer(org.admin).get(USERS).json()
    # then 50 come back, with a next link and no previous one
    assert len(page["results"]) == 50
    assert page["next"] and "cursor=" in page["next"]
    assert page["previous"] is None


def test_page_size_is_capped_at_500(org, bearer):
    # given / when a client asks for 10,000 per page
    page = bearer(org.admin).get(USERS, {"page_size": 10000}).json()
    # then it is served (at most 500): here all 12 users, on one page
    assert len(page["results"]) == 12
    assert page["next"] is None


def test_page_size_that_is_not_a_number_is_400(org, bearer):
    # given / when page_size is not a number
    response = bearer(org.admin).get(USERS, {"page_size": "many"})
    # then 400 naming it
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "page_size"


def test_tampered_cursor_is_400(org, bearer):
    # given / when a cursor that was not issued by the API is sent
    response = bearer(org.admin).get(USERS, {"cursor": "not-a-cursor"})
    # then 400 naming it
    body = assert_problem(response, 400, "validation-error")
    assert body["errors"][0]["field"] == "cursor"


def test_cursor_walks_rows_sharing_one_updated_at_without_gaps_or_repeats(org, bearer):
    # given 30 users updated by one bulk statement, so they share one updated_at
    UserFactory.create_batch(18)
    User.objects.update(updated_at=timezone.now())
    client = bearer(org.admin)
    # when they are pulled 7 at a time
    rows = _pull(client, f"{USERS}?page_size=7")
    # then every user comes exactly once
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == User.objects.count() == 30


def test_row_changed_during_the_pull_is_not_missed(org, bearer):
    # given 20 users sharing one updated_at, and a client that read the first page of 5
    UserFactory.create_batch(8)
    User.objects.update(updated_at=timezone.now() - timedelta(hours=1))
    client = bearer(org.admin)
    first = client.get(USERS, {"page_size": 5}).json()
    # when a row not yet read changes before the client reads on
    seen = {r["id"] for r in first["results"]}
    changed = User.objects.exclude(pk__in=seen).order_by("-pk").first()
    changed.phone = "changed"
    changed.save()
    rest = _pull(client, first["next"])
    # then every row is read, the changed one in its new version
    ids = [r["id"] for r in first["results"]] + [r["id"] for r in rest]
    assert set(ids) == set(User.objects.values_list("pk", flat=True))
    assert [r["phone"] for r in rest if r["id"] == changed.pk][-1] == "changed"


def test_previous_link_returns_the_previous_page(org, bearer):
    # given a client on the second page of 5
    client = bearer(org.admin)
    first = client.get(USERS, {"page_size": 5}).json()
    second = client.get(first["next"]).json()
    # when it follows the previous link
    back = client.get(second["previous"]).json()
    # then it is the first page again
    assert [r["id"] for r in back["results"]] == [r["id"] for r in first["results"]]


def test_updated_since_returns_only_rows_changed_since(org, bearer):
    # given every user last changed yesterday, then rep1a changed now
    yesterday = timezone.now() - timedelta(days=1)
    User.objects.update(updated_at=yesterday)
    since = timezone.now()
    org.rep1a.phone = "1"
    org.rep1a.save()
    # when the ERP pulls changes since `since`
    rows = _pull(bearer(org.erp), f"{USERS}?{urlencode({'updated_since': since.isoformat()})}")
    # then only rep1a comes back
    assert [r["username"] for r in rows] == ["rep1a"]


def test_updated_since_accepts_an_unencoded_plus_offset(org, bearer):
    # given every user changed in 2024
    User.objects.update(updated_at=timezone.now().replace(year=2024))
    # when the offset's "+" arrives as a space (an unencoded query string)
    response = bearer(org.erp).get(f"{USERS}?updated_since=2025-01-01T00:00:00+08:00")
    # then it is understood (nothing changed since 2025) instead of refused
    assert response.status_code == 200
    assert response.json()["results"] == []
