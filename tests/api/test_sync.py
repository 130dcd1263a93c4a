"""Incremental sync while records change (API.md "ERP integration": "even while records change
during the pull, without missing or repeating a record").

A version of a record is (id, updated_at). A sync must deliver the latest version of every
record, and never the same version twice. The rule that makes it hold under concurrent writes
is the sync horizon (`apps.api.filters.sync_horizon`): a change is served only once its
transaction has surely committed.
"""

from __future__ import annotations

import random
import threading
import time
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.customers.models import Customer
from apps.customers.services import customer_create, customer_update

CUSTOMERS = "/api/v1/customers/"
EVERYTHING = "1970-01-01T00:00:00Z"


class Mirror:
    """An ERP's copy of the customers, kept by pulling the sync like an ERP would: from the
    last `resume` link, following `next` to the last page, again and again."""

    def __init__(self, client, page_size: int) -> None:
        self.client = client
        self.url = f"{CUSTOMERS}?updated_since={EVERYTHING}&page_size={page_size}"
        self.rows: dict[int, tuple[datetime, str]] = {}
        self.versions: list[tuple[int, datetime]] = []
        self.pages = 0

    def pull(self) -> int:
        """One run: every page from the last resume point; the rows it got."""
        got, url = 0, self.url
        while url:
            response = self.client.get(url)
            assert response.status_code == 200, response.content
            page = response.json()
            self.pages += 1
            for row in page["results"]:
                updated_at = parse_datetime(row["updated_at"])
                self.versions.append((row["id"], updated_at))
                self.rows[row["id"]] = (updated_at, row["address"])
            got += len(page["results"])
            self.url = page["resume"]
            url = page["next"]
        return got


def _database() -> dict[int, tuple[datetime, str]]:
    return {pk: (at, address) for pk, at, address in Customer.objects.values_list(
        "pk", "updated_at", "address")}  # fmt: skip


def _writer(org, count: int, slow: bool, seed: int, errors: list, done: threading.Event) -> None:
    """Creates customers and changes their address, each in its own committed transaction.
    A slow writer holds each transaction open for a while after writing, as a long service
    or a big job would; it keeps to its own customers, so a change it makes is not hidden by
    a later one from the other writer."""
    rng = random.Random(seed)
    mine: list[Customer] = []
    try:
        for n in range(count):
            with transaction.atomic():
                if not mine or rng.random() < 0.4:
                    name = f"{'slow' if slow else 'fast'} {seed}-{n}"
                    mine.append(
                        customer_create(
                            by=org.admin, data={"name": name, "address": "v0"}, owner=org.rep1a
                        )
                    )
                else:
                    customer = rng.choice(mine)
                    customer_update(customer=customer, by=org.admin, data={"address": f"v{n}"})
                time.sleep(rng.uniform(0.15, 0.3) if slow else rng.uniform(0.0, 0.01))
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(exc)
    finally:
        done.set()
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_sync_during_writes_mirrors_every_latest_version_once(org, bearer, settings):
    # given a settle time shorter than the slow writer's transactions (the rule must also hold
    # for a transaction longer than it), a fast and a slow writer, and an ERP pulling small
    # pages from the start of the writes
    settings.API_SYNC_SETTLE_SECONDS = 0.05
    mirror = Mirror(bearer(org.erp), page_size=3)
    errors: list[Exception] = []
    fast_done, slow_done = threading.Event(), threading.Event()
    writers = [
        threading.Thread(target=_writer, args=(org, 120, False, 1, errors, fast_done)),
        threading.Thread(target=_writer, args=(org, 12, True, 2, errors, slow_done)),
    ]
    # when the ERP syncs again and again while they write, and once more after they stopped
    for thread in writers:
        thread.start()
    while not (fast_done.is_set() and slow_done.is_set()):
        mirror.pull()
    for thread in writers:
        thread.join(timeout=30)
    time.sleep(0.1)  # past the settle time: everything written is servable
    mirror.pull()
    # then its copy is the database's: every customer, in its latest version
    assert errors == []
    database = _database()
    assert len(database) > 40
    missing = {pk: row for pk, row in database.items() if mirror.rows.get(pk) != row}
    assert missing == {}
    assert set(mirror.rows) == set(database)
    # and no version was delivered twice (a record changed during the pull comes again, newer)
    assert len(mirror.versions) == len(set(mirror.versions))
    assert mirror.pages > 20
    assert mirror.pull() == 0  # caught up: a further pull has nothing new


@pytest.mark.django_db(transaction=True)
def test_an_open_transaction_holds_the_sync_back_until_it_commits(org, bearer, settings):
    # given a transaction that wrote customer A and has not committed yet
    settings.API_SYNC_SETTLE_SECONDS = 0
    written, release, finished = threading.Event(), threading.Event(), threading.Event()

    def long_writer() -> None:
        try:
            with transaction.atomic():
                customer_create(by=org.admin, data={"name": "A (long)"}, owner=org.rep1a)
                written.set()
                release.wait(timeout=10)
        finally:
            finished.set()
            connection.close()

    thread = threading.Thread(target=long_writer)
    thread.start()
    assert written.wait(timeout=10)
    # and customer B, written and committed after A was stamped
    customer_create(by=org.admin, data={"name": "B (quick)"}, owner=org.rep1a)
    mirror = Mirror(bearer(org.erp), page_size=10)
    # when the ERP syncs before A commits
    mirror.pull()
    before = set(Customer.objects.filter(pk__in=mirror.rows).values_list("name", flat=True))
    # then B is not served yet: serving it would move the ERP past A's time for good
    assert "B (quick)" not in before
    # when A commits and the ERP pulls from where it stopped
    release.set()
    thread.join(timeout=10)
    mirror.pull()
    # then both come, A first
    names = dict(Customer.objects.values_list("pk", "name"))
    assert [names[pk] for pk, _at in mirror.versions] == ["A (long)", "B (quick)"]


def test_a_fresh_change_is_served_after_the_settle_time(org, bearer, settings, time_machine):
    # given a settle time of 60 s and a customer changed just now
    settings.API_SYNC_SETTLE_SECONDS = 60
    now = timezone.now()
    time_machine.move_to(now, tick=False)
    customer = customer_create(by=org.admin, data={"name": "Fresh"}, owner=org.rep1a)
    mirror = Mirror(bearer(org.erp), page_size=10)
    # when the ERP syncs now
    mirror.pull()
    # then the change is not served yet
    assert customer.pk not in mirror.rows
    # when it pulls from its resume link a minute later
    time_machine.move_to(now + timedelta(seconds=61), tick=False)
    mirror.pull()
    # then it is served, once
    assert [pk for pk, _at in mirror.versions] == [customer.pk]
    assert mirror.rows[customer.pk][0] == customer.updated_at


def test_a_resume_link_serves_nothing_twice(org, bearer, settings):
    # given a sync that has pulled everything
    settings.API_SYNC_SETTLE_SECONDS = 0
    first = customer_create(by=org.admin, data={"name": "One"}, owner=org.rep1a)
    mirror = Mirror(bearer(org.erp), page_size=10)
    mirror.pull()
    # when one customer changes and the ERP pulls again from its resume link
    customer_update(customer=first, by=org.admin, data={"address": "moved"})
    second = customer_create(by=org.admin, data={"name": "Two"}, owner=org.rep1a)
    mirror.pull()
    # then it gets the two changes only, not the first version again
    assert [pk for pk, _at in mirror.versions] == [first.pk, first.pk, second.pk]
    assert mirror.rows[first.pk][1] == "moved"
    assert len(set(mirror.versions)) == 3
