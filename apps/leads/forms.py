"""The lead's data as typed by a person or sent by a channel: one validation for every
capture (API, manual entry, later the web form and the import) and for updates."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.customers.normalization import normalize_credit_code, validate_phone

from .models import Lead

LEAD_DATA_FIELDS = [
    "company_name", "contact_name", "phone", "email", "credit_code", "region", "industry",
    "company_size", "intent", "budget", "decision_time_frame", "notes",
]  # fmt: skip


class LeadDataForm(forms.ModelForm):
    """Company, contact and qualification data of a lead; the credit code's checksum and the
    phone number are checked here, each as an error of its own field."""

    class Meta:
        model = Lead
        fields = LEAD_DATA_FIELDS
        widgets = {"notes": forms.Textarea(attrs={"rows": 3})}

    def clean_company_name(self) -> str:
        name = (self.cleaned_data.get("company_name") or "").strip()
        if not name:
            raise forms.ValidationError(_("Enter the company name."), code="required")
        return name

    def clean_phone(self) -> str:
        phone = (self.cleaned_data.get("phone") or "").strip()
        validate_phone(phone)
        return phone

    def clean_credit_code(self) -> str:
        return normalize_credit_code(self.cleaned_data.get("credit_code"))

    def clean_budget(self):
        budget = self.cleaned_data.get("budget")
        if budget is not None and budget < 0:
            raise forms.ValidationError(_("The budget cannot be negative."), code="min_value")
        return budget


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), max_length=300)
