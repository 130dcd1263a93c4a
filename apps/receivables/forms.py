"""Forms of the receivables pages. They only parse input: the services check the rules
(amounts to the cent and within what is open, the received date, idempotent references) and
their field errors are put back on the form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import PaymentMethod, PaymentStatus


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs) -> None:
        super().__init__(format="%Y-%m-%d", **kwargs)


class PaymentForm(forms.Form):
    """Record a payment (回款). The customer is chosen with the search-as-you-type picker and
    arrives as its id."""

    customer = forms.IntegerField(widget=forms.HiddenInput)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    received_on = forms.DateField(label=_("Received on"), widget=DateInput())
    method = forms.ChoiceField(
        label=_("Method"), choices=PaymentMethod.choices, initial=PaymentMethod.BANK_TRANSFER
    )
    bank_reference = forms.CharField(
        label=_("Bank reference"), max_length=100, required=False,
        help_text=_("The bank's transaction number: the same number twice is one payment."),
    )  # fmt: skip
    external_id = forms.CharField(label=_("External id"), max_length=100, required=False)
    payer_name = forms.CharField(label=_("Payer"), max_length=200, required=False)
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)


class WriteOffForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount to write off"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )  # fmt: skip
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why the money cannot be collected (bankruptcy, lawsuit lost, …)."),
    )  # fmt: skip


class PaymentFilterForm(forms.Form):
    """The payment list's search and filters (GET)."""

    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(
        required=False, choices=[("", _("All statuses")), *PaymentStatus.choices]
    )
    unallocated = forms.BooleanField(required=False)
    date_from = forms.DateField(required=False, widget=DateInput())
    date_to = forms.DateField(required=False, widget=DateInput())


class InstallmentFilterForm(forms.Form):
    """The installment list's search and filters (GET)."""

    q = forms.CharField(required=False, max_length=100)
    status = forms.CharField(required=False, max_length=20)
    overdue = forms.BooleanField(required=False)
    due_from = forms.DateField(required=False, widget=DateInput())
    due_to = forms.DateField(required=False, widget=DateInput())
    bucket = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None,
        choices=[("", "—"), ("1", "1"), ("2", "2"), ("3", "3"), ("4", "4")],
    )  # fmt: skip
