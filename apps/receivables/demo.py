"""Demo payments for `manage.py seed_demo`, after the contracts demo created installments:
some installments paid in full, some in part, one over-payment that leaves a credit balance
(预收款), and one payment reversed (冲销). Idempotent: payments are keyed by their bank
reference (DEMO-…), so a second run finds them and changes nothing. Without installments (the
contracts demo did not run) it does nothing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import User

from .choices import OPEN_STATUSES
from .models import Installment, Payment
from .services import payment_allocate, payment_record, payment_reverse

HALF = Decimal("0.5")


@transaction.atomic
def load(stdout=None) -> int:
    finance = (
        User.objects.filter(role=Role.FINANCE, is_active=True).order_by("username").first()
        or User.objects.filter(role=Role.ADMIN, is_active=True).order_by("username").first()
    )
    if finance is None:
        return 0
    if Payment.objects.filter(bank_reference__startswith="DEMO-").exists():
        return 0
    installments = list(
        Installment.objects.filter(status__in=OPEN_STATUSES)
        .select_related("customer")
        .order_by("due_date", "id")[:12]
    )
    if not installments:
        if stdout:
            stdout.write("receivables: no installments yet, no demo payments\n")
        return 0
    today = timezone.localdate()
    created = 0
    for n, installment in enumerate(installments):
        kind = n % 6
        if kind in (4, 5):
            continue  # left open: some of these are the overdue ones
        open_amount = installment.open_amount
        if kind == 0:
            amount = open_amount  # paid in full
        elif kind == 1:
            amount = (open_amount * HALF).quantize(Decimal("0.01"))  # paid in part
        elif kind == 2:
            amount = open_amount + Decimal("5000.00")  # over-paid: a credit balance stays
        else:
            amount = open_amount  # recorded, allocated, then found wrong and reversed
        if amount <= 0:
            continue
        received_on = min(today, max(installment.due_date - timedelta(days=3),
                                     today - timedelta(days=60)))  # fmt: skip
        result = payment_record(
            by=finance,
            customer=installment.customer,
            amount=amount,
            received_on=received_on,
            bank_reference=f"DEMO-{today:%Y%m%d}-{n:03d}",
            payer_name=installment.customer.name,
        )
        created += 1
        payment_allocate(payment=result.payment, by=finance,
                         lines=[(installment, min(amount, open_amount))])  # fmt: skip
        if kind == 3:
            payment_reverse(payment=result.payment, by=finance,
                            reason="到账金额与银行回单不符，退回重录")  # fmt: skip
    if stdout:
        stdout.write(f"receivables: {created} demo payments\n")
    return created
