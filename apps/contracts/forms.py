"""Forms of the contract pages. They only parse input: the services check it (each line and
term, the terms adding up) and their field errors are put back on the form, line or term."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .choices import ContractStatus
from .services import TERM_FIELDS


class ContractHeaderForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    penalty_rate_per_day = forms.DecimalField(
        label=_("Penalty interest per day (%)"), max_digits=6, decimal_places=4, min_value=0,
        initial="0.0500", help_text=_("Percent of the overdue principal per day, e.g. 0.05."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )  # fmt: skip
    grace_days = forms.IntegerField(label=_("Grace days"), min_value=0, max_value=365, initial=0)
    starts_on = forms.DateField(
        label=_("Start date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("End date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class ContractFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(required=False, choices=[("", ""), *ContractStatus.choices])
    owner = forms.IntegerField(required=False)
    month = forms.CharField(required=False, max_length=7)


class SignForm(forms.Form):
    signed_on = forms.DateField(
        label=_("Signing date"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TerminateForm(forms.Form):
    reason = forms.CharField(label=_("Reason for termination"), max_length=300)


class AmendmentForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for the amendment"), widget=forms.Textarea(attrs={"rows": 2})
    )


def terms_from_post(data: QueryDict) -> list[dict[str, Any]]:
    """The rows of the terms editor: one `term-<field>` value per row and field, in order.
    A row left completely empty is dropped; the kind alone does not make a row."""
    columns = {name: data.getlist(f"term-{name}") for name in TERM_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows: list[dict[str, Any]] = []
    for index in range(count):
        row = {
            name: (values[index] if index < len(values) else "").strip()
            for name, values in columns.items()
        }
        if any(v for k, v in row.items() if k != "kind"):
            rows.append(row)
    return rows
