"""Credit exposure (占用额度) from contracts and receivables, plugged into the customers app's
`credit_exposure_sources` (apps.customers.credit) in ReceivablesConfig.ready:

- **receivables**: the open amount of every open installment (amount − paid − written off);
- **contracts approved but not signed**: their credit portion (signing turns it into
  installments, so it is never counted twice).

`reserved_credit` adds the contracts pending approval: the contract credit check counts them
too, so that two contracts submitted at once cannot both consume the same available credit.
Each source is one grouped query over the customers asked for.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from django.db.models import DecimalField, F, Sum
from django.db.models.functions import Coalesce

from apps.contracts.choices import ContractStatus
from apps.contracts.models import Contract

from .choices import OPEN_STATUSES
from .models import Installment

ZERO = Decimal("0.00")
_MONEY = DecimalField(max_digits=16, decimal_places=2)


def open_receivables(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    rows = (
        Installment.objects.filter(customer_id__in=list(customer_ids), status__in=OPEN_STATUSES)
        .values("customer_id")
        .annotate(
            open=Coalesce(
                Sum(F("amount") - F("paid_amount") - F("written_off_amount"), output_field=_MONEY),
                ZERO,
                output_field=_MONEY,
            )
        )
    )
    return {row["customer_id"]: row["open"] for row in rows}


def _contracts_credit(customer_ids: Iterable[int], statuses: list[str]) -> dict[int, Decimal]:
    rows = (
        Contract.objects.filter(customer_id__in=list(customer_ids), status__in=statuses)
        .values("customer_id")
        .annotate(credit=Coalesce(Sum("credit_portion"), ZERO, output_field=_MONEY))
    )
    return {row["customer_id"]: row["credit"] for row in rows}


def approved_unsigned_contracts(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    return _contracts_credit(customer_ids, [ContractStatus.APPROVED])


def pending_contracts(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """Credit portions of contracts pending approval: reserved, not yet exposure."""
    return _contracts_credit(customer_ids, [ContractStatus.PENDING])
