"""Receivables pages: workbench figures, payment recording and allocation, my overdue, the
installment and write-off pages, scope 404s, query budgets."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from apps.receivables.models import Installment, Payment

from .conftest import make_contract, make_customer, make_installment

pytestmark = pytest.mark.usefixtures("today")


@pytest.fixture
def as_user(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def test_workbench_shows_due_this_week_buckets_and_unallocated(org, customer, contract, as_user):
    # given (today Mon 15 June): due Thu 18 June; overdue 10, 45, 75 and 120 days; a payment
    make_installment(contract, 1, "1000.00", date(2026, 6, 18), status="scheduled")
    make_installment(contract, 2, "200.00", date(2026, 6, 5))
    make_installment(contract, 3, "300.00", date(2026, 5, 1))
    make_installment(contract, 4, "400.00", date(2026, 4, 1))
    make_installment(contract, 5, "500.00", date(2026, 2, 15), status="partially_paid",
                     paid_amount=Decimal("100.00"))  # fmt: skip
    Payment.objects.create(
        customer=customer,
        owner=org.rep1a,
        amount=Decimal("777.00"),
        received_on=date(2026, 6, 1),
        bank_reference="BR-60",
    )
    # when
    response = as_user(org.finance).get(reverse("receivables:workbench"))
    # then
    bench = response.context["bench"]
    assert [i.sequence for i in bench.due_this_week] == [1]
    assert [(b.bucket, b.count, b.amount) for b in bench.buckets] == [
        (1, 1, Decimal("200.00")), (2, 1, Decimal("300.00")), (3, 1, Decimal("400.00")),
        (4, 1, Decimal("400.00")),
    ]  # fmt: skip
    assert bench.unallocated_amount == Decimal("777.00")
    assert b"data-payment" in response.content


@pytest.mark.parametrize("who", ["rep1a", "sup1"])
def test_workbench_is_404_for_sales(org, as_user, who):
    assert as_user(getattr(org, who)).get(reverse("receivables:workbench")).status_code == 404


def test_workbench_query_budget(org, customer, contract, as_user, django_assert_max_num_queries):
    for n in range(10):
        make_installment(contract, n + 1, "100.00", date(2026, 6, 16))
    client = as_user(org.finance)
    with django_assert_max_num_queries(20):
        assert client.get(reverse("receivables:workbench")).status_code == 200


def test_finance_records_and_allocates_from_the_pages(org, customer, schedule, as_user):
    first = schedule[0]
    client = as_user(org.finance)
    # when the form is posted
    response = client.post(reverse("receivables:payment_create"), {
        "customer": customer.pk, "amount": "30000.00", "received_on": "2026-06-12",
        "method": "bank_transfer", "bank_reference": "BR-61", "payer_name": "华星",
    })  # fmt: skip
    payment = Payment.objects.get(bank_reference="BR-61")
    assert response.status_code == 302 and response.url == payment.get_absolute_url()
    # then the detail previews oldest due first, and allocating pays the first installment
    page = client.get(payment.get_absolute_url())
    assert [line.installment.pk for line in page.context["preview"]] == [first.pk]
    client.post(reverse("receivables:payment_allocate", args=[payment.pk]), {"mode": "fifo"})
    assert Installment.objects.get(pk=first.pk).status == "paid"


def test_same_reference_again_from_the_form_opens_the_existing_payment(org, customer, as_user):
    client = as_user(org.finance)
    data = {"customer": customer.pk, "amount": "10.00", "received_on": "2026-06-12",
            "method": "bank_transfer", "bank_reference": "BR-62"}  # fmt: skip
    client.post(reverse("receivables:payment_create"), data)
    again = client.post(reverse("receivables:payment_create"), data)
    assert again.status_code == 302 and Payment.objects.count() == 1
    other = client.post(reverse("receivables:payment_create"), {**data, "amount": "11.00"},
                        HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert other.status_code == 400 and "bank_reference" in other.context["form"].errors


def test_chosen_amount_over_the_open_amount_shows_the_error_by_the_line(
    org, customer, schedule, as_user
):
    first = schedule[0]
    payment = Payment.objects.create(
        customer=customer,
        owner=org.rep1a,
        amount=Decimal("90000"),
        received_on=date(2026, 6, 1),
        bank_reference="BR-63",
    )
    response = as_user(org.finance).post(
        reverse("receivables:payment_allocate", args=[payment.pk]),
        {"mode": "lines", f"amount-{first.pk}": "30000.01"},
    )
    assert response.status_code == 400
    row = next(r for r in response.context["line_rows"] if r["installment"].pk == first.pk)
    assert row["error"] and row["typed"] == "30000.01"


def test_my_overdue_lists_own_oldest_first_and_team_for_the_supervisor(
    org, customer, schedule, as_user
):
    first, second, _third = schedule
    other = make_installment(make_contract(make_customer(org.rep1b, "乙公司")), 1, "50.00",
                             date(2026, 6, 1))  # fmt: skip
    far = make_installment(make_contract(make_customer(org.rep2a, "丙公司")), 1, "50.00",
                           date(2026, 6, 1))  # fmt: skip
    rep = as_user(org.rep1a).get(reverse("receivables:my_overdue"))
    assert [i.pk for i in rep.context["installments"]] == [first.pk, second.pk]
    assert rep.context["installments"][0].days_overdue == 106
    sup = as_user(org.sup1).get(reverse("receivables:my_overdue"))
    assert {i.pk for i in sup.context["installments"]} == {first.pk, second.pk, other.pk}
    assert far.pk not in {i.pk for i in sup.context["installments"]}


def test_pages_out_of_scope_are_404(org, customer, schedule, as_user):
    first = schedule[0]
    payment = Payment.objects.create(
        customer=customer,
        owner=org.rep1a,
        amount=Decimal("5"),
        received_on=date(2026, 6, 1),
        bank_reference="BR-64",
    )
    client = as_user(org.rep2a)
    assert client.get(reverse("receivables:payment_detail", args=[payment.pk])).status_code == 404
    assert client.get(reverse("receivables:installment_detail", args=[first.pk])).status_code == 404
    assert client.get(reverse("receivables:payment_list")).context["payments"] == []
    own = as_user(org.rep1a)
    assert own.get(reverse("receivables:installment_detail", args=[first.pk])).status_code == 200
    assert own.get(reverse("receivables:payment_detail", args=[payment.pk])).status_code == 200


def test_rep_cannot_open_the_payment_form(org, as_user):
    assert as_user(org.rep1a).get(reverse("receivables:payment_create")).status_code == 403


def test_list_pages_query_budget(org, customer, contract, as_user, django_assert_max_num_queries):
    for n in range(15):
        make_installment(contract, n + 1, "100.00", date(2026, 5, 1))
        Payment.objects.create(customer=customer, owner=org.rep1a, amount=Decimal("5"),
                               received_on=date(2026, 6, 1), bank_reference=f"V-{n}")  # fmt: skip
    client = as_user(org.finance)
    for name, rows in (("payment_list", "payments"), ("installment_list", "installments")):
        with django_assert_max_num_queries(15):
            response = client.get(reverse(f"receivables:{name}"))
        assert len(response.context[rows]) == 15
    rep = as_user(org.rep1a)
    with django_assert_max_num_queries(15):
        assert rep.get(reverse("receivables:my_overdue")).status_code == 200


def test_installment_page_drafts_a_write_off(org, customer, schedule, as_user):
    first = schedule[0]
    client = as_user(org.finance)
    response = client.post(reverse("receivables:writeoff_create", args=[first.pk]),
                           {"amount": "30000.00", "reason": "客户破产"})  # fmt: skip
    writeoff = first.write_offs.get()
    assert response.status_code == 302 and response.url == writeoff.get_absolute_url()
    page = client.get(writeoff.get_absolute_url())
    assert page.status_code == 200
    assert as_user(org.rep2a).get(writeoff.get_absolute_url()).status_code == 404
