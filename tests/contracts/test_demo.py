"""The contracts demo of `manage.py seed_demo`: every kind of contract, made through the
services (signed ones have their installments), and a second run adds nothing."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from apps.contracts.models import Contract
from apps.receivables.models import Installment


def test_demo_contracts_cover_the_states_and_are_idempotent(db):
    call_command("seed_demo", stdout=StringIO())
    statuses = set(Contract.objects.values_list("status", flat=True))
    assert {"executing", "signed", "approved", "draft", "terminated"} <= statuses
    signed = Contract.objects.filter(status__in=["signed", "executing"])
    assert all(c.installments.count() == c.terms.count() == 3 for c in signed)
    counts = (Contract.objects.count(), Installment.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (Contract.objects.count(), Installment.objects.count()) == counts
