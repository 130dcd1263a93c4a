"""The daily receivables job: due and overdue, aging buckets, escalation once per bucket,
credit hold and its release, broken promises, idempotence and two runs at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from pghistory.models import Events

from apps.accounts.choices import Role
from apps.customers.models import Customer
from apps.notifications.models import Notification
from apps.receivables.jobs import AUTO_HOLD_PREFIX, escalation_chain, receivables_daily_run
from apps.receivables.models import CollectionRecord, CollectionTask, Installment, PenaltyAccrual
from tests.factories import UserFactory

from .conftest_jobs import customer_of, installment, on, payment, reload, signed_contract

pytestmark = pytest.mark.django_db

TODAY = date(2026, 5, 20)


@pytest.fixture
def contract(org):
    return signed_contract(customer_of(org.rep1a), grace=0)


def notes_of(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("body", flat=True))


# --- due, overdue, aging ----------------------------------------------------------------


def test_scheduled_installments_fall_due_on_their_date_and_later_ones_stay(contract, time_machine):
    # given installments due yesterday, today and tomorrow, all scheduled
    yesterday = installment(contract, TODAY - timedelta(days=1), sequence=1)
    today = installment(contract, TODAY, sequence=2)
    tomorrow = installment(contract, TODAY + timedelta(days=1), sequence=3)

    # when the job runs today
    on(time_machine, TODAY)
    run = receivables_daily_run()

    # then the first two are due, the last one still scheduled
    assert [reload(i).status for i in (yesterday, today, tomorrow)] == ["due", "due", "scheduled"]
    assert run.became_due == 1  # the one due today; the other was overdue already
    assert (reload(yesterday).overdue_days, reload(today).overdue_days) == (1, 0)


@pytest.mark.parametrize(
    ("days", "bucket"), [(0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3), (90, 3), (91, 4)]
)
def test_overdue_days_and_aging_bucket(contract, time_machine, days, bucket):
    # given an open installment due `days` ago
    item = installment(contract, TODAY - timedelta(days=days), status="due")

    # when the job runs
    on(time_machine, TODAY)
    receivables_daily_run()

    # then its days overdue and bucket (0 current, 1–30, 31–60, 61–90, 90+)
    item = reload(item)
    assert (item.overdue_days, item.aging_bucket) == (days, bucket)


def test_paid_installment_goes_back_to_zero_days_overdue(contract, time_machine):
    # given an installment 10 days overdue after yesterday's run, fully paid since
    item = installment(contract, TODAY - timedelta(days=10), status="due")
    on(time_machine, TODAY - timedelta(days=1))
    receivables_daily_run()
    Installment.objects.filter(pk=item.pk).update(status="paid", paid_amount=Decimal("10000.00"))

    # when the job runs today
    on(time_machine, TODAY)
    run = receivables_daily_run()

    # then it is current again
    item = reload(item)
    assert (item.overdue_days, item.aging_bucket, run.reset) == (0, 0, 1)


def test_second_run_the_same_day_changes_nothing(org, contract, time_machine):
    # given a mix: overdue in each bucket, one due today, a promise past its date
    for n, days in enumerate((5, 40, 70, 100), start=1):
        installment(contract, TODAY - timedelta(days=days), sequence=n, status="due")
    installment(contract, TODAY, sequence=9)
    CollectionRecord.objects.create(
        customer=contract.customer, owner=org.rep1a, method="phone", notes="答应付款",
        promised_on=TODAY - timedelta(days=1), promised_amount=Decimal("100.00"),
        promise_status="pending",
    )  # fmt: skip
    on(time_machine, TODAY)
    first = receivables_daily_run()
    state = list(Installment.objects.order_by("pk").values())
    counts = (PenaltyAccrual.objects.count(), CollectionTask.objects.count(),
              Notification.objects.count(), Events.objects.count())  # fmt: skip

    # when it runs again the same day
    second = receivables_daily_run()

    # then the first run did things, the second nothing: no new accrual, task, notification
    # or history event, no row changed
    assert first.changes > 0 and first.notified > 0
    assert second.changes == 0 and second.notified == 0 and not second.skipped
    assert list(Installment.objects.order_by("pk").values()) == state
    assert (PenaltyAccrual.objects.count(), CollectionTask.objects.count(),
            Notification.objects.count(), Events.objects.count()) == counts  # fmt: skip


def test_job_changes_are_in_the_history_with_the_job_named(contract, time_machine):
    # given an installment falling due today
    item = installment(contract, TODAY)

    # when the job runs
    on(time_machine, TODAY)
    receivables_daily_run()

    # then its history has the update, made by the job
    events = list(Events.objects.tracks(item).filter(pgh_label="update"))
    assert len(events) == 1
    assert events[0].pgh_data["status"] == "due"
    assert events[0].pgh_context["job"] == "receivables_daily"


# --- escalation ---------------------------------------------------------------------------


def test_escalation_chain_follows_the_org_tree(org):
    chain = escalation_chain()
    assert chain[org.rep1a.pk] == (org.sup1.pk, org.manager1.pk)
    assert chain[org.rep3a.pk] == (org.sup3.pk, org.manager2.pk)
    assert chain[org.sup1.pk] == (org.manager1.pk, None)


def test_each_bucket_escalates_once_to_its_person(org, contract, time_machine):
    # given an installment of rep1a's customer due 1 Feb, and the job running every day
    item = installment(contract, date(2026, 2, 1))
    finance2 = UserFactory(username="finance2", role=Role.FINANCE, org_unit=org.company)
    day = date(2026, 2, 1)
    while day <= date(2026, 5, 10):  # 98 days overdue at the end
        on(time_machine, day)
        receivables_daily_run()
        day += timedelta(days=1)

    # then one task per bucket 1–3, to the rep, the supervisor and the manager
    tasks = list(CollectionTask.objects.filter(installment=item).order_by("bucket"))
    assert [(t.bucket, t.owner_id) for t in tasks] == [
        (1, org.rep1a.pk), (2, org.sup1.pk), (3, org.manager1.pk)
    ]  # fmt: skip
    assert tasks[0].due_on == date(2026, 2, 2) + timedelta(days=3)
    assert reload(item).escalated_bucket == 4
    # and one notification each, on the day the bucket was entered
    assert len(notes_of(org.rep1a)) == 2  # overdue reminder, then the credit hold
    assert len(notes_of(org.sup1)) == 1 and len(notes_of(org.manager1)) == 1
    assert len(notes_of(org.finance)) == 1 and len(notes_of(finance2)) == 1
    assert "90" in notes_of(org.finance)[0]
    assert not notes_of(org.rep1b) and not notes_of(org.sup2)


def test_a_jump_straight_to_bucket_3_escalates_3_only(org, contract, time_machine):
    # given an installment first seen by the job 70 days overdue
    item = installment(contract, TODAY - timedelta(days=70), status="due")

    # when the job runs
    on(time_machine, TODAY)
    run = receivables_daily_run()

    # then only bucket 3: the manager's task and notification, the credit hold
    assert run.escalated == {3: 1}
    assert list(CollectionTask.objects.values_list("bucket", "owner_id")) == [(3, org.manager1.pk)]
    assert not notes_of(org.sup1)
    assert len(notes_of(org.manager1)) == 1
    assert reload(item).escalated_bucket == 3


def test_notifications_are_aggregated_one_per_recipient_per_run(org, time_machine):
    # given rep1a has three newly overdue installments over two customers
    c1 = signed_contract(customer_of(org.rep1a, "客户甲"))
    c2 = signed_contract(customer_of(org.rep1a, "客户乙"))
    installment(c1, TODAY - timedelta(days=2), sequence=1, status="due")
    installment(c1, TODAY - timedelta(days=3), sequence=2, status="due")
    installment(c2, TODAY - timedelta(days=4), sequence=1, status="due")

    # when the job runs
    on(time_machine, TODAY)
    receivables_daily_run()

    # then rep1a gets one notification counting 3, and three tasks
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
    assert "3" in notes_of(org.rep1a)[0]
    assert CollectionTask.objects.filter(owner=org.rep1a, bucket=1).count() == 3


# --- credit hold ----------------------------------------------------------------------------


def test_bucket_3_puts_the_customer_on_hold_and_the_job_releases_it_when_paid(
    org, contract, time_machine
):
    # given an installment 61 days overdue
    item = installment(contract, TODAY - timedelta(days=61), status="due")
    on(time_machine, TODAY)
    receivables_daily_run()
    customer = Customer.objects.get(pk=contract.customer_id)
    assert customer.on_credit_hold
    assert customer.credit_hold_reason.startswith(AUTO_HOLD_PREFIX)

    # when it is paid and the job runs the next day
    Installment.objects.filter(pk=item.pk).update(status="paid", paid_amount=Decimal("10000.00"))
    on(time_machine, TODAY + timedelta(days=1))
    run = receivables_daily_run()

    # then the hold is released, and the owner told
    customer = Customer.objects.get(pk=contract.customer_id)
    assert (customer.on_credit_hold, customer.credit_hold_reason, run.holds_released) == (
        False, "", 1
    )  # fmt: skip
    assert len(notes_of(org.rep1a)) == 2  # held, then released
    assert Events.objects.tracks(customer).filter(pgh_label="update").count() == 2


def test_hold_stays_while_something_is_still_overdue_beyond_the_limit(org, time_machine):
    # given two installments 65 and 80 days overdue; the customer was put on hold
    contract = signed_contract(customer_of(org.rep1a))
    a = installment(contract, TODAY - timedelta(days=65), sequence=1, status="due")
    installment(contract, TODAY - timedelta(days=80), sequence=2, status="due")
    on(time_machine, TODAY)
    receivables_daily_run()

    # when only one is paid
    Installment.objects.filter(pk=a.pk).update(status="paid", paid_amount=Decimal("10000.00"))
    on(time_machine, TODAY + timedelta(days=1))
    receivables_daily_run()

    # then the hold stays
    assert Customer.objects.get(pk=contract.customer_id).on_credit_hold


def test_a_hold_set_by_finance_by_hand_is_never_released_by_the_job(org, contract, time_machine):
    # given finance put the customer on hold by hand; nothing is overdue
    Customer.objects.filter(pk=contract.customer_id).update(
        on_credit_hold=True, credit_hold_reason="经营异常"
    )
    installment(contract, TODAY + timedelta(days=30))

    # when the job runs
    on(time_machine, TODAY)
    run = receivables_daily_run()

    # then the hold and its reason stay
    customer = Customer.objects.get(pk=contract.customer_id)
    assert (customer.on_credit_hold, customer.credit_hold_reason) == (True, "经营异常")
    assert run.holds_released == 0


def test_the_job_keeps_the_reason_of_a_hand_hold_when_bucket_3_comes(org, contract, time_machine):
    # given a hand hold, and an installment entering bucket 3
    Customer.objects.filter(pk=contract.customer_id).update(
        on_credit_hold=True, credit_hold_reason="经营异常"
    )
    installment(contract, TODAY - timedelta(days=61), status="due")

    # when the job runs
    on(time_machine, TODAY)
    run = receivables_daily_run()

    # then the hold is finance's still (the job will not release it)
    assert run.holds_set == 0
    assert Customer.objects.get(pk=contract.customer_id).credit_hold_reason == "经营异常"


# --- promises to pay ------------------------------------------------------------------------


def promise(org, customer, on_day: date, amount: str) -> CollectionRecord:
    return CollectionRecord.objects.create(
        customer=customer, owner=org.rep1a, method="phone", notes="客户承诺付款",
        promised_on=on_day, promised_amount=Decimal(amount), promise_status="pending",
    )  # fmt: skip


def test_promise_is_kept_when_payments_by_its_date_reach_the_amount(org, contract, time_machine):
    # given a promise of 5,000.00 by 18 May, made on 20 May's clock … (created today)
    on(time_machine, date(2026, 5, 15), hour=10)
    record = promise(org, contract.customer, date(2026, 5, 18), "5000.00")
    payment(contract.customer, "3000.00", date(2026, 5, 16))
    payment(contract.customer, "2000.00", date(2026, 5, 18))
    payment(contract.customer, "9000.00", date(2026, 5, 19))  # too late: does not count

    # when the job runs on 19 May and again on 20 May
    on(time_machine, date(2026, 5, 19))
    run = receivables_daily_run()
    on(time_machine, date(2026, 5, 20))
    later = receivables_daily_run()

    # then it is kept (3,000 + 2,000), once
    assert reload(record).promise_status == "kept"
    assert (run.promises_kept, later.promises_kept) == (1, 0)


def test_promise_is_broken_when_short_and_the_recorder_is_told_once(org, contract, time_machine):
    # given a promise of 5,000.00 by 18 May; 4,999.99 came, and a reversed payment
    on(time_machine, date(2026, 5, 15), hour=10)
    record = promise(org, contract.customer, date(2026, 5, 18), "5000.00")
    payment(contract.customer, "4999.99", date(2026, 5, 17))
    payment(contract.customer, "100.00", date(2026, 5, 17), status="reversed",
            reversal_reason="错账")  # fmt: skip
    payment(contract.customer, "800.00", date(2026, 5, 14))  # before the promise

    # when the job runs on 19 May, then the day after
    on(time_machine, date(2026, 5, 18))
    not_yet = receivables_daily_run()
    on(time_machine, date(2026, 5, 19))
    run = receivables_daily_run()
    on(time_machine, date(2026, 5, 20))
    receivables_daily_run()

    # then it was pending on its own date, broken after; the recorder was told once
    assert not_yet.promises_broken == 0
    assert reload(record).promise_status == "broken" and run.promises_broken == 1
    broken = [n for n in notes_of(org.rep1a) if "promise" in n or "承诺" in n]
    assert len(broken) == 1


# --- two workers ----------------------------------------------------------------------------


def _state():
    return (
        PenaltyAccrual.objects.count(),
        CollectionTask.objects.count(),
        Notification.objects.count(),
        sorted(Installment.objects.values_list("pk", "overdue_days", "escalated_bucket",
                                               "penalty_accrued")),
    )  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_produce_one_set_of_effects(org, time_machine):
    # given overdue installments in every bucket
    contract = signed_contract(customer_of(org.rep1a), grace=0)
    for n, days in enumerate((3, 35, 65, 95), start=1):
        installment(contract, TODAY - timedelta(days=days), sequence=n, status="due")
    on(time_machine, TODAY)

    # when two workers run the job at the same moment
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = receivables_daily_run()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    # then both finished; together they made exactly one run's effects
    assert not any(isinstance(r, Exception) for r in results), results
    after_both = _state()
    assert sum(r.changes > 0 for r in results) == 1
    assert sum(r.accruals for r in results) == 3 + 35 + 65 + 95
    assert CollectionTask.objects.count() == 3
    assert Notification.objects.filter(recipient=org.rep1a).count() == 1
    # and a third run changes nothing
    assert receivables_daily_run().changes == 0
    assert _state() == after_both


@pytest.mark.django_db(transaction=True)
def test_a_run_while_another_holds_the_lock_skips(org, time_machine):
    # given a run of today in progress (its transaction holds the day's lock)
    contract = signed_contract(customer_of(org.rep1a), grace=0)
    installment(contract, TODAY - timedelta(days=5), status="due")
    on(time_machine, TODAY)
    started, finish = threading.Event(), threading.Event()
    outcome: list[object] = []

    def first() -> None:
        try:
            with transaction.atomic():
                outcome.append(receivables_daily_run())
                started.set()
                finish.wait(30)
        finally:
            connection.close()

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(30)

    # when a second run of the same day starts meanwhile
    second = receivables_daily_run()
    finish.set()
    thread.join(30)

    # then it skips, and the first one's effects are there once
    assert second.skipped and second.changes == 0
    assert outcome[0].accruals == 5
    assert PenaltyAccrual.objects.count() == 5
