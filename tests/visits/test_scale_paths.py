"""The paths the visit pages take at scale (issue 10) give the same answers as the plain
queries they replace: the page of customers not visited in N days (`NotVisitedPages`: read in
the order of an index a page at a time, or sorted) against `not_visited_customers`, the
not-visited counts against the definition (last visit before the cutoff, or none), and the
record search by the customers' and leads' ids against the search by the join."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone

from apps.customers.models import Customer
from apps.leads.models import Lead
from apps.visits import figures, selectors
from apps.visits.choices import VisitPurpose
from apps.visits.models import VisitRecord

pytestmark = pytest.mark.django_db

DAYS = 30


def visit(owner, started: datetime, *, customer=None, lead=None) -> VisitRecord:
    return VisitRecord.objects.create(
        owner=owner, customer=customer, lead=lead, started_at=started,
        purpose=VisitPurpose.SERVICE,
    )  # fmt: skip


@pytest.fixture
def now() -> datetime:
    return timezone.now().replace(microsecond=0)


@pytest.fixture
def book(org, now) -> dict[str, Customer]:
    """Customers of team1 (and others) with every case of "not visited in 30 days":

    - never visited: three of rep1a's, one of rep1b's;
    - visited long ago only: 40 days (and 45) ago; two customers whose last visits are at the
      same instant 50 days ago; one visited twice at the same instant 60 days ago; one
      visited only by another team's rep 70 days ago; one of rep1b's 35 days ago;
    - visited since the cutoff: 5 days ago (and 90), exactly at the cutoff, and one of rep1a's
      visited recently by rep1b;
    - outside: rep2a's (another team, never visited) and an unowned customer (the pool)."""
    made = {}

    def customer(key: str, owner) -> Customer:
        made[key] = Customer.objects.create(name=f"Customer {key}", owner=owner)
        return made[key]

    for key in ("never1", "never2", "never3"):
        customer(key, org.rep1a)
    customer("b_never", org.rep1b)
    visit(org.rep1a, now - timedelta(days=40), customer=customer("lapsed40", org.rep1a))
    visit(org.rep1a, now - timedelta(days=45), customer=made["lapsed40"])
    tie = now - timedelta(days=50)
    visit(org.rep1a, tie, customer=customer("tie_a", org.rep1a))
    visit(org.rep1a, tie, customer=customer("tie_b", org.rep1a))
    double = now - timedelta(days=60)
    visit(org.rep1a, double, customer=customer("double", org.rep1a))
    visit(org.rep1a, double, customer=made["double"])
    visit(org.rep2a, now - timedelta(days=70), customer=customer("by_other", org.rep1a))
    visit(org.rep1b, now - timedelta(days=35), customer=customer("b_lapsed", org.rep1b))
    visit(org.rep1a, now - timedelta(days=5), customer=customer("recent", org.rep1a))
    visit(org.rep1a, now - timedelta(days=90), customer=made["recent"])
    visit(org.rep1a, now - timedelta(days=DAYS), customer=customer("at_cutoff", org.rep1a))
    visit(org.rep1b, now - timedelta(days=2), customer=customer("seen_by_b", org.rep1a))
    customer("other_team", org.rep2a)
    made["pool"] = Customer.objects.create(name="Customer pool", owner=None)
    visit(org.rep1a, now - timedelta(days=3), lead=Lead.objects.create(company_name="A lead"))
    return made


def _team1(org) -> list[int]:
    return [org.sup1.pk, org.rep1a.pk, org.rep1b.pk]


def test_not_visited_are_the_customers_without_a_visit_since_the_cutoff(org, book, now):
    # when sup1 lists team1's customers not visited in 30 days, most days first
    rows = list(
        figures.not_visited_customers(user=org.sup1, days=DAYS, owner_ids=_team1(org), now=now)
    )

    # then the never-visited by id, then the oldest last visit first (ties by id); a visit
    # exactly at the cutoff, a recent one by another rep, the other team and the pool are out
    names = [c.name.removeprefix("Customer ") for c in rows]
    assert names == ["never1", "never2", "never3", "b_never", "by_other", "double", "tie_a",
                     "tie_b", "lapsed40", "b_lapsed"]  # fmt: skip
    assert [figures.days_since(c.last_visit, now=now) for c in rows][4:] == [70, 60, 50, 50,
                                                                             40, 35]  # fmt: skip
    counts = figures.not_visited_counts(user=org.sup1, days=DAYS, owner_ids=_team1(org), now=now)
    assert counts == {org.rep1a.pk: 8, org.rep1b.pk: 2}


def test_not_visited_counts_follow_the_last_visit_definition(org, book, now):
    # given the customers' last visits computed one by one
    cutoff = now - timedelta(days=DAYS)
    expected: dict[int, int] = {}
    for c in Customer.objects.filter(owner__isnull=False):
        last = VisitRecord.objects.filter(customer=c).order_by("-started_at").first()
        if last is None or last.started_at < cutoff:
            expected[c.owner_id] = expected.get(c.owner_id, 0) + 1

    # then the anti-join counts the same, for the admin (everyone) and per scope
    assert figures.not_visited_counts(user=org.admin, days=DAYS, now=now) == expected
    assert figures.not_visited_counts(user=org.rep2a, days=DAYS, now=now) == {
        org.rep2a.pk: expected[org.rep2a.pk]
    }


@pytest.mark.parametrize("order", ["days", "-days", "name"])
@pytest.mark.parametrize("stream_from", [0, 1, 3, 7, 1000])
@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 25])
def test_not_visited_pages_are_the_pages_of_the_sorted_list(
    org, book, now, order, stream_from, per_page
):
    # given the list sorted in one query, and its count
    ids = _team1(org)
    expected = list(
        figures.not_visited_customers(user=org.sup1, days=DAYS, owner_ids=ids, order=order, now=now)
    )
    count = sum(
        figures.not_visited_counts(user=org.sup1, days=DAYS, owner_ids=ids, now=now).values()
    )
    assert count == len(expected) == 10

    # when the page reads it a page at a time (read in index order from row 0 up to
    # `stream_from`, sorted beyond, and always sorted when the list is not longer than it)
    pages = figures.NotVisitedPages(
        user=org.sup1, count=count, days=DAYS, owner_ids=ids, order=order, now=now,
        stream_from=stream_from,
    )  # fmt: skip
    paginator = Paginator(pages, per_page)
    got = [c for number in paginator.page_range for c in paginator.page(number).object_list]

    # then the same customers in the same order, with their owner and last visit
    assert [c.pk for c in got] == [c.pk for c in expected]
    assert [c.last_visit for c in got] == [c.last_visit for c in expected]
    assert all(c.owner.pk in ids for c in got)


def test_not_visited_pages_past_the_end_and_of_an_empty_scope(org, book, now):
    pages = figures.NotVisitedPages(
        user=org.sup1, count=10, days=DAYS, owner_ids=_team1(org), now=now, stream_from=7
    )
    assert pages[10:20] == [] and pages[25:50] == []
    assert [c.name for c in pages[9:12]] == ["Customer b_lapsed"]
    # read in index order: a slice past the 4 never-visited counts them to find its place
    assert [c.name for c in pages[5:7]] == ["Customer double", "Customer tie_a"]
    assert [c.name for c in pages[3:5]] == ["Customer b_never", "Customer by_other"]
    nobody = figures.NotVisitedPages(user=org.rep3a, count=0, days=DAYS, now=now)
    assert Paginator(nobody, 25).get_page(1).object_list == []


def test_figures_page_lists_the_not_visited_in_the_chosen_order(org, book, client):
    client.force_login(org.sup1)

    # when sup1 opens the figures, most days first, then fewest days first
    body = client.get(reverse("visits:figures"), {"days": DAYS}).content.decode()
    fewest = client.get(reverse("visits:figures"), {"days": DAYS, "order": "-days"})

    # then the never-visited lead, and the latest lapsed lead the other way
    shown = [book[k].pk for k in ("never1", "never2", "never3", "b_never", "by_other")]
    positions = [body.index(f'data-customer="{pk}"') for pk in shown]
    assert positions == sorted(positions)
    assert f'data-customer="{book["recent"].pk}"' not in body
    fewest_body = fewest.content.decode()
    assert fewest_body.index(f'data-customer="{book["b_lapsed"].pk}"') < fewest_body.index(
        f'data-customer="{book["lapsed40"].pk}"'
    )


@pytest.mark.parametrize(
    "term", ["Alpha", "alpha", "Beta", "Gamma", "Customer", "ACME", "zz", "%", "_"]
)
def test_record_search_by_ids_matches_the_search_by_join(org, now, term):
    # given visits to customers and leads with names that share words
    alpha = Customer.objects.create(name="Alpha Trading", owner=org.rep1a)
    beta = Customer.objects.create(name="Beta 100% Co", owner=org.rep1a)
    other = Customer.objects.create(name="Customer_Gamma", owner=org.rep1b)
    lead = Lead.objects.create(company_name="Alpha Lead acme", owner=org.rep1a)
    for i, target in enumerate([alpha, beta, other, alpha]):
        visit(org.rep1a, now - timedelta(hours=i), customer=target)
    visit(org.rep1b, now - timedelta(hours=9), lead=lead)

    # when sup1 searches: by the names' ids (the list's way for a rare name), and by the join
    # (a search naming more than `limit` customers or leads)
    by_ids = list(selectors.visit_record_list(user=org.sup1, search=term))
    records = VisitRecord.objects.visible_to(org.sup1).order_by("-started_at", "-id")
    by_join = list(records.filter(selectors._search_q(term, limit=0)))

    # then the same records, newest first
    assert [r.pk for r in by_ids] == [r.pk for r in by_join]
    assert len(by_ids) == {"Alpha": 3, "alpha": 3, "Beta": 1, "Gamma": 1, "Customer": 1,
                           "ACME": 1, "zz": 0, "%": 1, "_": 1}[term]  # fmt: skip
