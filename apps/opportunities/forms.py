"""Forms of the deal pages: the deal's data (create/edit) and the filters of the list and the
board. The services validate again; these give the browser its widgets and labels."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.customers.models import Contact, Customer

from .choices import Stage


class OpportunityForm(forms.Form):
    """A deal's data. `customer` is an id chosen with the search-as-you-type picker (only on
    create); `contact` lists the contacts of that one customer (a handful, not a table)."""

    customer = forms.IntegerField(widget=forms.HiddenInput, required=False)
    name = forms.CharField(label=_("Deal name"), max_length=200)
    amount = forms.DecimalField(
        label=_("Amount"), max_digits=14, decimal_places=2, min_value=0, required=False,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}),
    )  # fmt: skip
    expected_close_date = forms.DateField(
        label=_("Expected close date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    contact = forms.ModelChoiceField(
        label=_("Contact"), queryset=Contact.objects.none(), required=False,
        empty_label=_("— none —"),
    )  # fmt: skip
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    needs_analysis = forms.CharField(
        label=_("Needs analysis"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the customer needs (需求分析): required before the proposal stage."),
    )  # fmt: skip

    def __init__(self, *args, customer: Customer | None = None, creating: bool = False,
                 **kwargs) -> None:  # fmt: skip
        super().__init__(*args, **kwargs)
        self.creating = creating
        if customer is not None:
            self.fields["contact"].queryset = Contact.objects.filter(customer=customer).order_by(
                "-is_primary", "name"
            )
        if creating:
            self.fields["customer"].required = True
            self.fields["customer"].error_messages["required"] = _("Choose the customer.")
        else:
            del self.fields["customer"]

    def service_data(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("customer", None)
        return data


class BoardFilterForm(forms.Form):
    """Filters of the list and the board (all optional; bad values are ignored)."""

    q = forms.CharField(required=False, max_length=100)
    stage = forms.ChoiceField(required=False, choices=[("", _("All stages")), *Stage.choices])
    owner = forms.IntegerField(required=False)
    team = forms.IntegerField(required=False)
    month = forms.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", required=False)
    state = forms.ChoiceField(
        required=False,
        choices=[("", _("Open and closed")), ("open", _("Open")), ("closed", _("Closed"))],
    )
    stuck = forms.BooleanField(required=False)

    def close_month(self) -> date | None:
        month = self.cleaned_data.get("month") if self.is_valid() else None
        return date(int(month[:4]), int(month[5:7]), 1) if month else None
