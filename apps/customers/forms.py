"""Forms of the customer pages. They only parse input: the services normalize and check it
(credit code checksum and uniqueness, phone), and their field errors are put back on the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .choices import CustomerStatus, CustomerTier
from .models import (
    Contact,
    CreditInvestigation,
    CreditLimitRequest,
    Customer,
    DevelopmentApplication,
)


class ServiceValidatedModelForm(forms.ModelForm):
    """A ModelForm whose uniqueness and constraints are checked by the service (with a clear
    message per field), not by the generic model validation."""

    service_checked = ("credit_code",)

    def validate_unique(self) -> None:
        return None

    def _get_validation_exclusions(self) -> set[str]:
        # Model constraints on these fields (e.g. the unique credit code) are the service's:
        # the generic "Constraint … is violated" would say less than its field error.
        return {*super()._get_validation_exclusions(), *self.service_checked}


class CustomerForm(ServiceValidatedModelForm):
    class Meta:
        model = Customer
        fields = [
            "name",
            "credit_code",
            "industry",
            "size",
            "region",
            "address",
            "phone",
            "email",
            "website",
            "tier",
        ]
        widgets = {
            "credit_code": forms.TextInput(
                attrs={"autocapitalize": "characters", "spellcheck": "false"}
            ),
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "email": forms.EmailInput(attrs={"autocomplete": "email"}),
        }
        help_texts = {"credit_code": _("18 characters (统一社会信用代码); leave empty if unknown.")}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Spaces typed between groups of the code are allowed; the service removes them.
        self.fields["credit_code"].max_length = 40
        self.fields["credit_code"].widget.attrs["maxlength"] = 40


class ContactForm(ServiceValidatedModelForm):
    class Meta:
        model = Contact
        fields = ["name", "title", "decision_role", "phone", "email", "is_primary", "notes"]
        widgets = {
            "phone": forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }


class CustomerFilterForm(forms.Form):
    """The search box and filters of the customer list (all optional; bad values ignored)."""

    q = forms.CharField(required=False, max_length=100)
    status = forms.ChoiceField(
        required=False, choices=[("", _("All statuses")), *CustomerStatus.choices]
    )
    tier = forms.ChoiceField(required=False, choices=[("", _("All tiers")), *CustomerTier.choices])
    region = forms.CharField(required=False, max_length=100)
    owner = forms.IntegerField(required=False, min_value=1)
    pool = forms.ChoiceField(
        required=False,
        choices=[
            ("", _("Owned and pool")),
            ("no", _("Owned only")),
            ("yes", _("Public pool only")),
        ],
    )


class DevelopmentApplicationForm(ServiceValidatedModelForm):
    """The credit survey (信用调查表) and the development plan."""

    service_checked = ()

    class Meta:
        model = DevelopmentApplication
        fields = [
            "registered_capital",
            "years_in_business",
            "main_business",
            "payment_record",
            "legal_disputes",
            "financial_standing",
            "references",
            "development_plan",
        ]
        widgets = {
            name: forms.Textarea(attrs={"rows": 3})
            for name in (
                "main_business",
                "payment_record",
                "legal_disputes",
                "financial_standing",
                "references",
                "development_plan",
            )
        }


class CreditLimitRequestForm(ServiceValidatedModelForm):
    """A credit limit request (信用额度调整): the new limit, the payment term and the reason."""

    service_checked = ()

    class Meta:
        model = CreditLimitRequest
        fields = ["requested_limit", "payment_term_days", "reason"]
        widgets = {
            "requested_limit": forms.NumberInput(attrs={"min": "0", "step": "0.01"}),
            "reason": forms.Textarea(attrs={"rows": 3}),
        }


class CreditInvestigationForm(ServiceValidatedModelForm):
    """The factor scores (0–100 each) of a credit investigation (信用调查) and notes."""

    service_checked = ()

    class Meta:
        model = CreditInvestigation
        fields = [
            "registered_capital",
            "years_in_business",
            "payment_record",
            "legal_disputes",
            "financial_standing",
            "references",
            "notes",
        ]
        widgets = {
            "notes": forms.Textarea(attrs={"rows": 3}),
            **{
                name: forms.NumberInput(attrs={"min": "0", "max": "100", "step": "1"})
                for name in (
                    "registered_capital",
                    "years_in_business",
                    "payment_record",
                    "legal_disputes",
                    "financial_standing",
                    "references",
                )
            },
        }


class ReasonForm(forms.Form):
    """The reason of a credit hold or release, or of a release to the pool."""

    reason = forms.CharField(label=_("Reason"), max_length=300, required=False)
