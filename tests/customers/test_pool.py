"""Public pool (公海): nightly release per tier, one warning per cycle, history with the job,
claim cap, cool-off, concurrent claims, release by the owner or a head, the pool page."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.history import history_for
from apps.customers.models import Customer
from apps.customers.pool import (
    customer_claim,
    customer_pool_release_due,
    customer_release,
    customer_touch_follow_up,
)
from apps.customers.tasks import release_pool_due
from apps.notifications.models import Notification

from .conftest import api, make_customer

DAYS = {"A": 90, "B": 60, "C": 30, "D": 30}


@pytest.fixture(autouse=True)
def _pool_settings(settings):
    settings.CUSTOMER_POOL_DAYS = DAYS
    settings.CUSTOMER_POOL_WARNING_DAYS = 7
    settings.CUSTOMER_POOL_CLAIM_CAP = 2
    settings.CUSTOMER_POOL_COOLOFF_DAYS = 30


def idle(owner, tier: str, days: float, name: str = "Idle Co") -> Customer:
    """A customer of `owner` whose last follow-up was `days` ago."""
    return make_customer(
        owner, name, tier=tier, last_follow_up_at=timezone.now() - timedelta(days=days)
    )


def released_entries(customer: Customer) -> list:
    """The history entries in which the customer lost its owner."""
    return [
        e
        for e in history_for(customer)
        if e.action == "update" and any(c.field == "owner" and c.new is None for c in e.changes)
    ]


def in_pool(name: str = "Pool Co", **kwargs) -> Customer:
    return Customer.objects.create(name=name, owner=None, **kwargs)


@pytest.mark.parametrize(("tier", "days"), DAYS.items())
def test_released_after_the_tiers_days_and_not_before(org, tier, days):
    # given one customer just past the tier's days and one a day short of it
    due = idle(org.rep1a, tier, days + 0.01, "Due")
    kept = idle(org.rep1a, tier, days - 1, "Kept")
    # when the nightly job runs
    run = customer_pool_release_due()
    # then only the first is in the pool, remembering its owner
    due, kept = Customer.objects.get(pk=due.pk), Customer.objects.get(pk=kept.pk)
    assert due.owner_id is None and due.previous_owner_id == org.rep1a.pk
    assert due.released_at is not None
    assert kept.owner_id == org.rep1a.pk
    assert run.released == 1


def test_without_follow_up_the_claim_or_creation_starts_the_clock(org):
    claimed = make_customer(org.rep1a, "Claimed", tier="C")
    Customer.objects.filter(pk=claimed.pk).update(claimed_at=timezone.now() - timedelta(days=31))
    fresh = make_customer(org.rep1a, "Fresh", tier="C")  # created now, no follow-up
    customer_pool_release_due()
    assert Customer.objects.get(pk=claimed.pk).owner_id is None
    assert Customer.objects.get(pk=fresh.pk).owner_id == org.rep1a.pk


def test_owner_is_warned_once_per_cycle_with_the_count(org):
    # given two B customers of rep1a due within the warning days, one of rep1b not yet
    idle(org.rep1a, "B", 55, "One")
    idle(org.rep1a, "B", 54, "Two")
    idle(org.rep1b, "B", 40, "Later")
    # when the job runs twice
    first = customer_pool_release_due()
    second = customer_pool_release_due()
    # then rep1a got one notification counting 2, and nothing more the second time
    assert (first.warned, second.warned) == (2, 0)
    [note] = Notification.objects.filter(recipient=org.rep1a)
    assert "2" in note.body
    assert not Notification.objects.filter(recipient=org.rep1b).exists()


def test_a_follow_up_starts_a_new_cycle(org):
    customer = idle(org.rep1a, "C", 25)
    customer_pool_release_due()
    assert Customer.objects.get(pk=customer.pk).pool_warning_at is not None
    touched = customer_touch_follow_up(customer_ids=[customer.pk], at=timezone.now())
    customer = Customer.objects.get(pk=customer.pk)
    assert touched == 1 and customer.pool_warning_at is None
    assert customer_pool_release_due().released == 0


def test_running_twice_releases_nothing_new(org):
    idle(org.rep1a, "D", 31)
    assert customer_pool_release_due().released == 1
    assert customer_pool_release_due() == customer_pool_release_due()
    assert customer_pool_release_due().released == 0


def test_the_release_is_in_the_history_with_the_job(org):
    customer = idle(org.rep1a, "C", 31)
    release_pool_due()  # the Celery task's body
    [entry] = released_entries(customer)
    assert entry.context["job"] == "customer_pool_release"


def test_claim_makes_the_rep_owner_and_restarts_the_clock(org):
    customer = in_pool()
    customer_claim(customer=customer, by=org.rep2a)
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.owner == org.rep2a
    assert customer.claimed_at is not None and customer.last_follow_up_at == customer.claimed_at


def test_claim_cap(org):
    # given rep2a already holds 2 claimed customers (the cap)
    for name in ("P1", "P2"):
        customer_claim(customer=in_pool(name), by=org.rep2a)
    third = in_pool("P3")
    # when they claim a third, it is refused with the cap in the message
    with pytest.raises(Conflict) as exc:
        customer_claim(customer=third, by=org.rep2a)
    assert exc.value.code == "claim_cap" and "2" in exc.value.message
    assert Customer.objects.get(pk=third.pk).owner_id is None
    # and releasing one frees a place
    customer_release(customer=Customer.objects.get(name="P1"), by=org.rep2a, reason="No fit")
    customer_claim(customer=third, by=org.rep2a)


def test_cool_off_refuses_the_previous_owner_only(org):
    customer = idle(org.rep1a, "C", 31)
    customer_pool_release_due()
    with pytest.raises(Conflict) as exc:
        customer_claim(customer=customer, by=org.rep1a)
    assert exc.value.code == "cool_off"
    customer_claim(customer=customer, by=org.rep1b)
    assert Customer.objects.get(pk=customer.pk).owner == org.rep1b


def test_cool_off_ends_after_k_days(org):
    customer = in_pool(
        previous_owner=org.rep1a, released_at=timezone.now() - timedelta(days=30, minutes=1)
    )
    customer_claim(customer=customer, by=org.rep1a)
    assert Customer.objects.get(pk=customer.pk).owner == org.rep1a


def test_claiming_an_owned_customer_is_a_conflict(org, customer):
    with pytest.raises(Conflict):
        customer_claim(customer=customer, by=org.rep2a)


def test_finance_cannot_claim(org):
    with pytest.raises(PermissionDenied):
        customer_claim(customer=in_pool(), by=org.finance)


@pytest.mark.django_db(transaction=True)
def test_two_reps_claiming_at_once_exactly_one_wins():
    from tests.org import build_org

    org = build_org()
    customer = in_pool()
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def claim(user) -> None:
        try:
            barrier.wait()
            customer_claim(customer=customer, by=user)
            outcomes[user.username] = "won"
        except Conflict:
            outcomes[user.username] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=claim, args=(u,)) for u in (org.rep1a, org.rep2a)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes.values()) == ["refused", "won"]
    winner = next(name for name, outcome in outcomes.items() if outcome == "won")
    assert Customer.objects.get(pk=customer.pk).owner.username == winner


def test_release_by_the_owner_or_a_head_with_a_reason(org, customer):
    with pytest.raises(ValidationError) as exc:
        customer_release(customer=customer, by=org.rep1a, reason=" ")
    assert "reason" in exc.value.error_dict
    with pytest.raises(PermissionDenied):
        customer_release(customer=customer, by=org.rep1b, reason="x")
    with pytest.raises(PermissionDenied):
        customer_release(customer=customer, by=org.sup2, reason="x")
    customer_release(customer=customer, by=org.sup1, reason="Rep left the territory")
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.owner_id is None and customer.previous_owner == org.rep1a
    assert Notification.objects.filter(recipient=org.rep1a, body="Rep left the territory").exists()
    [entry] = released_entries(customer)
    assert entry.context["reason"] == "Rep left the territory"


# --- API and page -------------------------------------------------------------------------


def test_claim_and_release_over_the_api(org):
    customer = in_pool()
    claimed = api(org.rep3a).post(f"/api/v1/customers/{customer.pk}/claim/", {})
    assert claimed.status_code == 200, claimed.json()
    assert claimed.json()["owner"]["id"] == org.rep3a.pk
    assert api(org.rep1a).post(f"/api/v1/customers/{customer.pk}/claim/", {}).status_code == 404
    refused = api(org.rep3a).post(f"/api/v1/customers/{customer.pk}/release/", {})
    assert refused.status_code == 400
    released = api(org.rep3a).post(f"/api/v1/customers/{customer.pk}/release/", {"reason": "x"})
    assert released.status_code == 200 and released.json()["in_pool"] is True
    again = api(org.rep3a).post(f"/api/v1/customers/{customer.pk}/claim/", {})
    assert again.status_code == 409


def _login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_pool_page_lists_only_unowned_customers_for_every_rep(org, customer):
    in_pool("公海客户甲")
    in_pool("Other pool customer")
    for user in (org.rep1a, org.rep3a):
        html = _login(user).get("/customers/pool/").content.decode()
        assert "公海客户甲" in html and "Other pool customer" in html
        assert customer.name not in html  # owned: not in the pool
    found = _login(org.rep3a).get("/customers/pool/?q=甲", HTTP_HX_REQUEST="true")
    assert "公海客户甲" in found.content.decode() and "Other pool" not in found.content.decode()
    assert "<html" not in found.content.decode()


def test_pool_page_pages_by_50_within_a_query_budget(org, django_assert_max_num_queries):
    Customer.objects.bulk_create(
        Customer(owner=None, name=f"Pool {i:03}", name_key=f"pool{i}") for i in range(60)
    )
    client = _login(org.rep1a)
    with django_assert_max_num_queries(12):
        first = client.get("/customers/pool/").content.decode()
    assert first.count("data-pool-customer=") == 50
    second = client.get("/customers/pool/?page=2").content.decode()
    assert second.count("data-pool-customer=") == 10


def test_claim_button_over_htmx_returns_the_row(org):
    customer = in_pool()
    client = _login(org.rep2a)
    response = client.post(f"/customers/{customer.pk}/claim/", HTTP_HX_REQUEST="true")
    assert "data-claimed" in response.content.decode()
    refused = _login(org.rep1a).post(f"/customers/{customer.pk}/claim/", HTTP_HX_REQUEST="true")
    # owned by rep2a now: out of rep1a's sight
    assert refused.status_code == 404
