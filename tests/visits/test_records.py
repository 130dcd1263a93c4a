"""Visit records: from a plan (completes it), unplanned, follow-up clock, effective visits,
time and location validation, 7-day edit window."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from apps.core.errors import Conflict
from apps.customers.models import Customer
from apps.visits.choices import PlanStatus
from apps.visits.models import VisitPlan, VisitRecord
from apps.visits.services import visit_record_create, visit_record_update


def _data(**kw):
    return {"started_at": timezone.now() - timedelta(hours=1), **kw}


def test_record_from_a_plan_completes_it(make_plan, org):
    plan = make_plan(days=0)
    record = visit_record_create(by=org.rep1a, plan=plan, data=_data(outcome="谈妥"))
    assert VisitPlan.objects.get(pk=plan.pk).status == PlanStatus.DONE
    assert (record.plan, record.customer, record.purpose) == (plan, plan.customer, plan.purpose)


def test_second_record_for_a_done_plan_is_a_conflict(make_plan, org):
    plan = make_plan(days=0)
    visit_record_create(by=org.rep1a, plan=plan, data=_data())
    with pytest.raises(Conflict):
        visit_record_create(by=org.rep1a, plan=plan, data=_data())
    assert VisitRecord.objects.count() == 1


def test_another_rep_cannot_log_the_plan(make_plan, org):
    with pytest.raises(PermissionDenied):
        visit_record_create(by=org.rep1b, plan=make_plan(days=0), data=_data())


def test_unplanned_record_of_a_customer_out_of_scope_is_refused(org, customers):
    with pytest.raises(ValidationError) as exc:
        visit_record_create(by=org.rep1a, customer=customers["2a"], data=_data(purpose="order"))
    assert "customer" in exc.value.message_dict
    assert not VisitRecord.objects.exists()


def test_visit_moves_the_pool_clock_and_clears_the_warning(org, customers):
    # given a customer last followed up 20 days ago and warned about the pool
    customer = customers["1a"]
    old = timezone.now() - timedelta(days=20)
    Customer.objects.filter(pk=customer.pk).update(
        last_follow_up_at=old, pool_warning_at=timezone.now()
    )
    started = timezone.now() - timedelta(hours=2)
    # when a visit is logged
    visit_record_create(
        by=org.rep1a, customer=customer, data={"started_at": started, "purpose": "service"}
    )
    # then the clock is the visit's start and the warning is gone
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.last_follow_up_at == started
    assert customer.pool_warning_at is None


def test_older_visit_does_not_move_the_clock_back(org, customers):
    customer = customers["1a"]
    recent = timezone.now() - timedelta(hours=1)
    warned = timezone.now()
    Customer.objects.filter(pk=customer.pk).update(last_follow_up_at=recent, pool_warning_at=warned)
    visit_record_create(
        by=org.rep1a,
        customer=customer,
        data={"started_at": recent - timedelta(days=3), "purpose": "service"},
    )
    customer = Customer.objects.get(pk=customer.pk)
    assert customer.last_follow_up_at == recent
    assert customer.pool_warning_at == warned


@pytest.mark.parametrize(
    ("fields", "effective"),
    [
        ({}, False),
        ({"outcome": "聊了聊"}, False),
        ({"order_amount": Decimal("100.00")}, True),
        ({"payment_collected": Decimal("0.01")}, True),
        ({"next_step": "下周报价"}, True),
        ({"next_step": "   "}, False),
    ],
)
def test_effective_visit(org, customers, fields, effective):
    record = visit_record_create(
        by=org.rep1a, customer=customers["1a"], data=_data(purpose="order", **fields)
    )
    assert record.is_effective is effective
    assert VisitRecord.objects.get(pk=record.pk).is_effective is effective


def test_stage_moved_needs_an_opportunity(org, customers):
    with pytest.raises(ValidationError) as exc:
        visit_record_create(
            by=org.rep1a, customer=customers["1a"], data=_data(purpose="order", stage_moved=True)
        )
    assert "stage_moved" in exc.value.message_dict


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"latitude": Decimal("91"), "longitude": Decimal("121")}, "latitude"),
        ({"latitude": Decimal("31"), "longitude": Decimal("-181")}, "longitude"),
        ({"latitude": Decimal("31")}, "longitude"),
        ({"order_amount": Decimal("-1")}, "order_amount"),
    ],
)
def test_invalid_location_or_amount_names_the_field(org, customers, fields, field):
    with pytest.raises(ValidationError) as exc:
        visit_record_create(
            by=org.rep1a, customer=customers["1a"], data=_data(purpose="order", **fields)
        )
    assert field in exc.value.message_dict
    assert not VisitRecord.objects.exists()


def test_check_in_is_stored_with_accuracy_and_time(org, customers):
    record = visit_record_create(
        by=org.rep1a,
        customer=customers["1a"],
        data=_data(
            purpose="order",
            latitude=Decimal("31.2304161"),
            longitude=Decimal("121.4737"),
            location_accuracy_m=25,
        ),
    )
    assert record.latitude == Decimal("31.230416")
    assert record.location_accuracy_m == 25
    assert record.checked_in_at is not None


def test_times_in_the_future_or_reversed_are_refused(org, customers):
    now = timezone.now()
    with pytest.raises(ValidationError) as exc:
        visit_record_create(
            by=org.rep1a,
            customer=customers["1a"],
            data={"purpose": "order", "started_at": now + timedelta(hours=2)},
        )
    assert "started_at" in exc.value.message_dict
    with pytest.raises(ValidationError) as exc:
        visit_record_create(
            by=org.rep1a,
            customer=customers["1a"],
            data={
                "purpose": "order",
                "started_at": now - timedelta(hours=1),
                "ended_at": now - timedelta(hours=2),
            },
        )
    assert "ended_at" in exc.value.message_dict


def test_record_is_editable_for_seven_days_by_its_rep(org, customers):
    record = visit_record_create(
        by=org.rep1a, customer=customers["1a"], data=_data(purpose="order")
    )
    record = visit_record_update(record=record, by=org.rep1a, data={"next_step": "送样"})
    assert record.is_effective
    with pytest.raises(PermissionDenied):
        visit_record_update(record=record, by=org.sup1, data={"outcome": "x"})
    VisitRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(days=8))
    with pytest.raises(Conflict):
        visit_record_update(record=record, by=org.rep1a, data={"outcome": "x"})
