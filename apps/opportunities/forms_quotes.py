"""Forms of the product and quote pages. They only parse input: the services check it (code
unique, each quote line) and their field errors are put back on the form or the line."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from .quotes import LINE_FIELDS


class ProductForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=50)
    name = forms.CharField(label=_("Name"), max_length=200)
    unit = forms.CharField(
        label=_("Unit"), max_length=20, help_text=_("e.g. 台, 套, 件, 年"), initial="件"
    )
    list_price = forms.DecimalField(
        label=_("List price"),
        max_digits=14,
        decimal_places=2,
        min_value=0,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    product_line = forms.CharField(label=_("Product line"), max_length=100, required=False)
    description = forms.CharField(
        label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    external_id = forms.CharField(label=_("External id (ERP)"), max_length=100, required=False)
    is_active = forms.BooleanField(label=_("Active (offered on new quotes)"), required=False)


class ProductFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    product_line = forms.CharField(required=False, max_length=100)
    active = forms.ChoiceField(
        required=False,
        choices=[("yes", _("Active")), ("no", _("Inactive")), ("all", _("All"))],
    )


class QuoteHeaderForm(forms.Form):
    valid_until = forms.DateField(
        label=_("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(
        label=_("Notes (printed on the quote)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def lines_from_post(data: QueryDict) -> list[dict[str, Any]]:
    """The line rows of the quote editor: one `line-<field>` value per row and field, in the
    order of the rows. A row left completely empty is dropped."""
    columns = {name: data.getlist(f"line-{name}") for name in LINE_FIELDS}
    count = max((len(values) for values in columns.values()), default=0)
    rows: list[dict[str, Any]] = []
    for index in range(count):
        row = {
            name: (values[index] if index < len(values) else "").strip()
            for name, values in columns.items()
        }
        if any(row.values()):
            rows.append(row)
    return rows
