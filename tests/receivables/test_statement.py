"""The statement of account (对账单): opening balance, each kind of line, running and closing
balance to the cent, reversed and partial payments, penalty interest, write-offs, period
boundaries (also in the business time zone), the summary, the Excel file, the API, scope 404s,
bad periods and a query count that does not grow with the lines.

The ledger (today is Monday 15 June 2026; the period 1 March – 31 May 2026), by hand:

    before 1 March                                 debit      credit
      I1 due 10 Feb                             10,000.00
      penalty on I1, 26–28 Feb (3 × 3.50)          10.50
      P0 received 20 Feb                                    3,000.00
      P9 received 21 Feb, reversed 25 Feb          500.00     500.00
      P8 received 27 Feb (reversed 1 Mar 00:10)               400.00
      W0 approved 28 Feb                                      100.00
      opening balance                                       = 6,510.50

    in the period                                  debit      credit     balance
      1 Mar  I2 due (on the first day)          20,000.00                26,510.50
      1 Mar  P8 reversed 00:10 local               400.00                26,910.50
      10 Mar penalty I1 March (10 × 3.50)           35.00                26,945.50
      15 Mar P1                                             6,910.50     20,035.00
      2 Apr  penalty I1 April (2 × 1.00)             2.00                20,037.00
      10 Apr P2 (pays I2 in part)                           8,000.00     12,037.00
      20 Apr P3                                             1,200.00     10,837.00
      5 May  P3 reversed                         1,200.00                12,037.00
      10 May W1                                             1,000.00     11,037.00
      21 May penalty I2 May (2 × 10.00)             20.00                11,057.00
      25 May P4 (reversed 2 June, after the end)              300.00     10,757.00
      31 May I3 due (on the last day)            5,000.00                15,757.00
      31 May W2 approved 23:30 local                          250.25     15,506.75
      totals                                    26,657.00  17,660.75
      closing balance                                                    15,506.75

    not on it: I4 due 1 June, P5 received 5 June, W3 pending, another customer's installment.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from apps.receivables.models import Installment, Payment, PenaltyAccrual, WriteOff
from apps.receivables.statement import statement_of

from .conftest import api, make_contract, make_customer, make_installment

pytestmark = pytest.mark.usefixtures("today")

SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 3, 1), date(2026, 5, 31)
D = Decimal


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def pay(customer, ref: str, amount: str, received: date, allocated: str = "0.00") -> Payment:
    return Payment.objects.create(
        customer=customer, owner=customer.owner, amount=D(amount), received_on=received,
        bank_reference=ref, allocated_amount=D(allocated),
    )  # fmt: skip


def reverse_payment(payment: Payment, at: datetime) -> None:
    Payment.objects.filter(pk=payment.pk).update(
        status="reversed", reversal_reason="wrong customer", reversed_at=at, allocated_amount=0
    )


def accrue(installment: Installment, days: list[date], principal: str, amount: str) -> None:
    PenaltyAccrual.objects.bulk_create(
        PenaltyAccrual(installment=installment, accrual_date=day, principal=D(principal),
                       rate_per_day=D("0.0500"), amount=D(amount))
        for day in days
    )  # fmt: skip


def write_off(installment, by, amount: str, approved_at: datetime | None) -> WriteOff:
    writeoff = WriteOff.objects.create(
        installment=installment, owner=by, amount=D(amount), reason="bankrupt"
    )
    if approved_at is not None:
        WriteOff.objects.filter(pk=writeoff.pk).update(status="approved", approved_at=approved_at)
    else:
        WriteOff.objects.filter(pk=writeoff.pk).update(status="pending")
    return writeoff


@pytest.fixture
def ledger(org, customer, contract):
    """The movements of the module docstring; the installments' current state matches them
    (I1 paid and partly written off, I2 partly paid, I3, I4 open, I5 not due yet)."""
    c = customer
    i1 = make_installment(contract, 1, "10000.00", date(2026, 2, 10), status="paid",
                          paid_amount=D("8649.75"), written_off_amount=D("1350.25"))  # fmt: skip
    i2 = make_installment(contract, 2, "20000.00", date(2026, 3, 1), status="partially_paid",
                          paid_amount=D("9260.75"))  # fmt: skip
    i3 = make_installment(contract, 3, "5000.00", date(2026, 5, 31))
    i4 = make_installment(contract, 4, "7777.00", date(2026, 6, 1))
    i5 = make_installment(contract, 5, "1000.00", date(2026, 7, 1), status="scheduled")
    # before the period
    pay(c, "BR-P0", "3000.00", date(2026, 2, 20), allocated="3000.00")
    reverse_payment(pay(c, "BR-P9", "500.00", date(2026, 2, 21)), local(2026, 2, 25, 9, 0))
    accrue(i1, [date(2026, 2, d) for d in (26, 27, 28)], "7000.00", "3.50")
    write_off(i1, org.finance, "100.00", local(2026, 2, 28, 15, 0))
    # reversed ten minutes into the first day, local time (28 Feb 16:10 UTC)
    reverse_payment(pay(c, "BR-P8", "400.00", date(2026, 2, 27)), local(2026, 3, 1, 0, 10))
    # in the period
    accrue(i1, [date(2026, 3, d) for d in range(1, 11)], "7000.00", "3.50")
    pay(c, "BR-P1", "6910.50", date(2026, 3, 15), allocated="6910.50")
    accrue(i1, [date(2026, 4, 1), date(2026, 4, 2)], "2000.00", "1.00")
    pay(c, "BR-P2", "8000.00", date(2026, 4, 10), allocated="8000.00")
    reverse_payment(pay(c, "BR-P3", "1200.00", date(2026, 4, 20)), local(2026, 5, 5, 11, 0))
    write_off(i1, org.finance, "1000.00", local(2026, 5, 10, 9, 30))
    accrue(i2, [date(2026, 5, 20), date(2026, 5, 21)], "20000.00", "10.00")
    reverse_payment(pay(c, "BR-P4", "300.00", date(2026, 5, 25)), local(2026, 6, 2, 10, 0))
    # approved at 23:30 on the last day, local time (15:30 UTC)
    write_off(i1, org.finance, "250.25", local(2026, 5, 31, 23, 30))
    # after the period, or not a movement
    pay(c, "BR-P5", "999.00", date(2026, 6, 5))
    write_off(i3, org.finance, "50.00", None)
    other = make_contract(make_customer(org.rep2a, name="广州蓝海贸易有限公司"))
    make_installment(other, 1, "4444.00", date(2026, 4, 1))
    return {"i1": i1, "i2": i2, "i3": i3, "i4": i4, "i5": i5}


def _rows(statement) -> list[tuple]:
    return [(line.date, str(line.kind), line.debit, line.credit, line.balance)
            for line in statement.lines]  # fmt: skip


# --- the ledger ----------------------------------------------------------------------------


def test_opening_balance_counts_the_movements_before_the_start(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    # 10,000 + 10.50 + 500 − 3,000 − 500 − 400 − 100
    assert statement.opening_balance == D("6510.50")


def test_lines_carry_a_running_balance_to_the_closing_balance(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    assert _rows(statement) == [
        (date(2026, 3, 1), "installment", D("20000.00"), D("0.00"), D("26510.50")),
        (date(2026, 3, 1), "reversal", D("400.00"), D("0.00"), D("26910.50")),
        (date(2026, 3, 10), "penalty", D("35.00"), D("0.00"), D("26945.50")),
        (date(2026, 3, 15), "payment", D("0.00"), D("6910.50"), D("20035.00")),
        (date(2026, 4, 2), "penalty", D("2.00"), D("0.00"), D("20037.00")),
        (date(2026, 4, 10), "payment", D("0.00"), D("8000.00"), D("12037.00")),
        (date(2026, 4, 20), "payment", D("0.00"), D("1200.00"), D("10837.00")),
        (date(2026, 5, 5), "reversal", D("1200.00"), D("0.00"), D("12037.00")),
        (date(2026, 5, 10), "write_off", D("0.00"), D("1000.00"), D("11037.00")),
        (date(2026, 5, 21), "penalty", D("20.00"), D("0.00"), D("11057.00")),
        (date(2026, 5, 25), "payment", D("0.00"), D("300.00"), D("10757.00")),
        (date(2026, 5, 31), "installment", D("5000.00"), D("0.00"), D("15757.00")),
        (date(2026, 5, 31), "write_off", D("0.00"), D("250.25"), D("15506.75")),
    ]
    assert (statement.total_debit, statement.total_credit) == (D("26657.00"), D("17660.75"))
    assert statement.closing_balance == D("15506.75")


def test_installment_line_names_contract_kind_and_due_date(org, customer, contract, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    line = statement.lines[0]
    assert (line.contract_number, line.installment_sequence, line.installment_kind) == (
        contract.number,
        2,
        "on_delivery",
    )
    assert line.reference == f"{contract.number} / 2"
    assert line.installment_id == ledger["i2"].pk


def test_reversed_payment_is_a_credit_then_a_reversing_debit(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    p3 = [(str(line.kind), line.date, line.debit, line.credit)
          for line in statement.lines if line.bank_reference == "BR-P3"]  # fmt: skip
    assert p3 == [
        ("payment", date(2026, 4, 20), D("0.00"), D("1200.00")),
        ("reversal", date(2026, 5, 5), D("1200.00"), D("0.00")),
    ]


def test_payment_reversed_after_the_end_keeps_its_credit_only(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    assert [str(line.kind) for line in statement.lines if line.bank_reference == "BR-P4"] == [
        "payment"
    ]
    # and a statement running past the reversal shows both, netting to nothing
    june = statement_of(
        user=org.finance, customer_id=customer.pk, start=date(2026, 5, 25), end=date(2026, 6, 2)
    )
    p4 = [(str(line.kind), line.debit - line.credit)
          for line in june.lines if line.bank_reference == "BR-P4"]  # fmt: skip
    assert p4 == [("payment", D("-300.00")), ("reversal", D("300.00"))]


def test_partial_payment_is_credited_in_full_and_the_rest_stays_open(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    p2 = [line for line in statement.lines if line.bank_reference == "BR-P2"]
    assert [(line.credit, line.reference) for line in p2] == [(D("8000.00"), "BR-P2")]
    open_i2 = [i for i in statement.open_installments if i.pk == ledger["i2"].pk]
    assert [i.open_value for i in open_i2] == [D("10739.25")]


def test_penalty_interest_is_one_line_per_installment_and_month(org, customer, contract, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    penalties = [(line.date, line.reference, line.debit, line.description)
                 for line in statement.lines if line.kind == "penalty"]  # fmt: skip
    n = contract.number
    assert [(day, ref, amount) for day, ref, amount, _text in penalties] == [
        (date(2026, 3, 10), f"{n} / 1", D("35.00")),
        (date(2026, 4, 2), f"{n} / 1", D("2.00")),
        (date(2026, 5, 21), f"{n} / 2", D("20.00")),
    ]
    assert "2026-03" in penalties[0][3] and "10" in penalties[0][3]


def test_only_approved_write_offs_are_credited_on_their_approval_day(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    assert [(line.date, line.credit) for line in statement.lines if line.kind == "write_off"] == [
        (date(2026, 5, 10), D("1000.00")),
        (date(2026, 5, 31), D("250.25")),  # 23:30 local is still 31 May
    ]


def test_period_boundaries_are_inclusive_and_in_local_time(org, customer, ledger):
    # a statement of the last day only: I3 due that day and the 23:30 write-off, not I4
    last_day = statement_of(user=org.finance, customer_id=customer.pk, start=END, end=END)
    assert [(str(line.kind), line.debit + line.credit) for line in last_day.lines] == [
        ("installment", D("5000.00")),
        ("write_off", D("250.25")),
    ]
    # the day after: I4 falls due, the write-off of the evening before is in the opening
    next_day = statement_of(
        user=org.finance, customer_id=customer.pk, start=date(2026, 6, 1), end=date(2026, 6, 1)
    )
    assert [str(line.kind) for line in next_day.lines] == ["installment"]
    assert next_day.opening_balance == D("15506.75")
    # a period ending the day before the start holds neither I2 nor the 00:10 reversal
    feb = statement_of(
        user=org.finance, customer_id=customer.pk, start=date(2026, 2, 1), end=date(2026, 2, 28)
    )
    assert feb.closing_balance == D("6510.50")
    assert date(2026, 3, 1) not in [line.date for line in feb.lines]


def test_consecutive_periods_chain_closing_to_opening(org, customer, ledger):
    first = statement_of(
        user=org.finance, customer_id=customer.pk, start=date(2026, 1, 1), end=date(2026, 3, 31)
    )
    second = statement_of(
        user=org.finance, customer_id=customer.pk, start=date(2026, 4, 1), end=date(2026, 6, 15)
    )
    assert first.opening_balance == D("0.00")
    assert second.opening_balance == first.closing_balance
    # everything to today: 15,506.75 + I4 7,777 − P5 999 + P4's reversal 300
    assert second.closing_balance == D("22584.75")


def test_summary_lists_open_installments_aging_and_credit_balance(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk, start=START, end=END)
    assert [(i.sequence, i.open_value, i.days_overdue) for i in statement.open_installments] == [
        (2, D("10739.25"), 106),
        (3, D("5000.00"), 15),
        (4, D("7777.00"), 14),
        (5, D("1000.00"), 0),
    ]
    assert (statement.open_total, statement.overdue_total) == (D("24516.25"), D("23516.25"))
    assert [(b.bucket, b.count, b.amount) for b in statement.aging] == [
        (0, 1, D("1000.00")), (1, 2, D("12777.00")), (2, 0, D("0.00")), (3, 0, D("0.00")),
        (4, 1, D("10739.25")),
    ]  # fmt: skip
    assert statement.credit_balance == D("999.00")  # P5, not allocated yet


def test_default_period_is_this_year_to_today(org, customer, ledger):
    statement = statement_of(user=org.finance, customer_id=customer.pk)
    assert (statement.start, statement.end) == (date(2026, 1, 1), date(2026, 6, 15))


# --- the page and the Excel file -----------------------------------------------------------


def _url(customer, **params) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return reverse("receivables:statement", args=[customer.pk]) + (f"?{query}" if query else "")


def test_page_shows_the_statement_with_print_and_confirmation(client, org, customer, ledger):
    client.force_login(org.rep1a)
    response = client.get(_url(customer, start="2026-03-01", end="2026-05-31"),
                          HTTP_ACCEPT_LANGUAGE="en")  # fmt: skip
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-testid="opening-balance">6,510.50<' in body
    assert 'data-testid="closing-balance">15,506.75<' in body
    assert body.count('data-line="reversal"') == 2
    assert "window.print()" in body and "@media print" in body
    assert "within 10 days" in body
    assert "format=xlsx" in body


def test_excel_file_opens_and_holds_the_same_closing_balance(client, org, customer, ledger):
    client.force_login(org.finance)
    response = client.get(_url(customer, start="2026-03-01", end="2026-05-31", format="xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;") and "20260301-20260531.xlsx" in disposition
    workbook = load_workbook(BytesIO(response.content))
    ((title, ref),) = workbook.defined_names["closing_balance"].destinations
    cell = workbook[title][ref.replace("$", "")]
    assert D(str(cell.value)).quantize(D("0.01")) == D("15506.75")
    assert cell.number_format == "#,##0.00;-#,##0.00"
    sheet = workbook[title]
    assert sheet["A1"].value  # the title row
    dates = [c for c in sheet["A"] if isinstance(c.value, datetime)]
    assert dates and all(c.number_format == "yyyy-mm-dd" for c in dates)
    assert sheet.column_dimensions["D"].width == 40


def test_customer_page_links_to_the_statement(client, org, customer):
    client.force_login(org.rep1a)
    response = client.get(reverse("customers:detail", args=[customer.pk]))
    assert reverse("receivables:statement", args=[customer.pk]).encode() in response.content


# --- the API -------------------------------------------------------------------------------


def test_api_answers_the_same_statement(org, customer, ledger):
    response = api(org.erp).get(
        "/api/v1/reports/statement/",
        {"customer": customer.pk, "start": "2026-03-01", "end": "2026-05-31"},
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["opening_balance"], body["closing_balance"]) == ("6510.50", "15506.75")
    assert [(x["kind"], x["balance"]) for x in body["lines"]][-2:] == [
        ("installment", "15757.00"), ("write_off", "15506.75"),
    ]  # fmt: skip
    assert body["lines"][0]["installment_kind"] == "on_delivery"
    assert body["credit_balance"] == "999.00"
    assert [x["id"] for x in body["open_installments"]] == [
        ledger[k].pk for k in ("i2", "i3", "i4", "i5")
    ]


# --- scope ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep1a", "sup1", "manager1", "finance", "admin"])
def test_owner_heads_and_finance_may_read_it(client, org, customer, ledger, who):
    client.force_login(getattr(org, who))
    assert client.get(_url(customer)).status_code == 200
    assert (
        api(getattr(org, who))
        .get("/api/v1/reports/statement/", {"customer": customer.pk})
        .status_code
        == 200
    )


@pytest.mark.parametrize("who", ["rep1b", "rep2a", "sup2", "manager2"])
def test_outside_the_scope_is_404_for_page_excel_and_api(client, org, customer, ledger, who):
    user = getattr(org, who)
    client.force_login(user)
    assert client.get(_url(customer)).status_code == 404
    assert client.get(_url(customer, format="xlsx")).status_code == 404
    # bad dates do not tell an outsider the customer exists either
    assert client.get(_url(customer, start="2026-05-01", end="2026-04-01")).status_code == 404
    response = api(user).get("/api/v1/reports/statement/", {"customer": customer.pk})
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/problem+json")


def test_public_pool_customer_is_404_for_a_rep_but_not_for_finance(client, org):
    pooled = make_customer(None, name="无主客户有限公司")
    client.force_login(org.rep1a)
    assert client.get(_url(pooled)).status_code == 404
    client.force_login(org.finance)
    assert client.get(_url(pooled)).status_code == 200


def test_unknown_customer_is_404(org):
    response = api(org.finance).get("/api/v1/reports/statement/", {"customer": 999999})
    assert response.status_code == 404


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01"}, "start"),
        ({"start": "2026-05-01", "end": "2026-04-30"}, "end"),
        ({"end": "2026-06-16"}, "end"),
        ({"start": "2020-01-01", "end": "2026-06-15"}, "start"),
    ],
)
def test_bad_period_is_a_form_error_on_the_page(client, org, customer, params, field):
    client.force_login(org.finance)
    response = client.get(_url(customer, **params), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert list(response.context["form"].errors) == [field]
    assert response.context["statement"] is None
    # the Excel download answers the page with the error, not a file
    response = client.get(_url(customer, format="xlsx", **params))
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "customer"),
        ({"customer": "abc"}, "customer"),
        ({"customer": "{pk}", "start": "01/03/2026"}, "start"),
        ({"customer": "{pk}", "start": "2026-05-01", "end": "2026-04-30"}, "end"),
        ({"customer": "{pk}", "end": "2026-06-16"}, "end"),
    ],
)
def test_bad_parameters_are_400_naming_the_field(org, customer, params, field):
    query = {k: v.format(pk=customer.pk) for k, v in params.items()}
    response = api(org.finance).get("/api/v1/reports/statement/", query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == [field]


# --- queries -------------------------------------------------------------------------------


def _count_queries(client, customer) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(_url(customer, start="2026-01-01", end="2026-06-15"))
    assert response.status_code == 200
    return len(queries)


def test_query_count_does_not_grow_with_the_lines(client, org, customer, contract):
    # given a statement with a line of each kind
    client.force_login(org.sup1)  # a head: the scope subquery is the costliest
    first = make_installment(contract, 1, "100.00", date(2026, 2, 1))
    pay(customer, "BR-Q0", "10.00", date(2026, 2, 2))
    reverse_payment(pay(customer, "BR-Q1", "10.00", date(2026, 2, 3)), local(2026, 2, 4, 9))
    accrue(first, [date(2026, 2, 5)], "100.00", "0.05")
    write_off(first, org.finance, "1.00", local(2026, 2, 6, 9))
    few = _count_queries(client, customer)
    # when there are ten times as many of each
    for n in range(2, 12):
        inst = make_installment(contract, n, "100.00", date(2026, 3, n))
        pay(customer, f"BR-Q{n * 2}", "10.00", date(2026, 3, n))
        reverse_payment(pay(customer, f"BR-Q{n * 2 + 1}", "10.00", date(2026, 3, n)),
                        local(2026, 4, n, 9))  # fmt: skip
        accrue(inst, [date(2026, 4, n)], "100.00", "0.05")
        write_off(inst, org.finance, "1.00", local(2026, 5, n, 9))
    many = _count_queries(client, customer)
    # then the page issues as many queries, and few of them
    assert many == few
    assert few <= 12
