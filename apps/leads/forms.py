"""The lead's data as typed by a person or sent by a channel: one validation for every
capture (API, manual entry, later the web form and the import) and for updates."""

from __future__ import annotations

from datetime import date

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import User
from apps.customers.normalization import normalize_credit_code, validate_phone

from .models import Lead
from .periods import MAX_PERIOD_DAYS, Period, period_dates

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


class LeadWebForm(forms.Form):
    """The public web form (官网留资表单): what a visitor types. `website` is a honeypot: hidden
    by CSS, so only a bot fills it in. The data is validated again by `LeadDataForm` inside
    `lead_capture`; its errors are put back on these fields."""

    company_name = forms.CharField(label=_("Company"), max_length=200)
    contact_name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    region = forms.CharField(
        label=_("Region"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"list": "webform-regions", "autocomplete": "off"}),
    )
    message = forms.CharField(
        label=_("Message"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    website = forms.CharField(label=_("Leave this field empty"), required=False)

    HONEYPOT = "website"
    # The web form's field → the lead's field.
    LEAD_FIELDS = {"company_name": "company_name", "contact_name": "contact_name",
                   "phone": "phone", "email": "email", "region": "region",
                   "message": "notes"}  # fmt: skip

    def clean(self) -> dict:
        cleaned = super().clean()
        if not (cleaned.get("phone") or cleaned.get("email")) and not self.errors:
            raise forms.ValidationError(
                _("Leave a phone number or an e-mail address so that we can reach you."),
                code="no_contact_channel",
            )
        return cleaned

    def lead_data(self) -> dict[str, str]:
        return {lead: self.cleaned_data.get(web) or "" for web, lead in self.LEAD_FIELDS.items()}


class LeadImportUploadForm(forms.Form):
    """Step 1 of the import wizard (线索导入): a CSV or Excel file and the channel it came from."""

    file = forms.FileField(
        label=_("File"),
        help_text=_("CSV or Excel (.xlsx), the first row holds the column names."),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    channel = forms.CharField(
        label=_("Channel"),
        max_length=100,
        required=False,
        help_text=_("E.g. the exhibition or campaign the list comes from."),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith((".csv", ".xlsx")):
            raise forms.ValidationError(
                _("Upload a CSV or an Excel (.xlsx) file."), code="file_type"
            )
        if upload.size > settings.LEAD_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is too large (at most %(mb)d MB).")
                % {"mb": settings.LEAD_IMPORT_MAX_BYTES // (1024 * 1024)},
                code="file_size",
            )
        return upload


class LeadReassignForm(forms.Form):
    """Reassignment (改派) of one or more leads: the new owner, chosen by search among the
    people of the user's scope (`selectors.reassign_candidates`), and the reason, kept in the
    leads' history."""

    to = forms.ModelChoiceField(
        label=_("New owner"),
        queryset=User.objects.none(),
        error_messages={
            "required": _("Choose the person who takes the leads."),
            "invalid_choice": _("Choose an active person in your team."),
        },
    )
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("Say why the leads are reassigned.")},
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        from .selectors import reassign_candidates

        self.fields["to"].queryset = reassign_candidates(user=user)

    @property
    def chosen(self) -> User | None:
        """The person chosen before the form came back with an error (shown checked)."""
        return self.cleaned_data.get("to") if hasattr(self, "cleaned_data") else None


class SlaPeriodForm(forms.Form):
    """The period of the SLA compliance page: a named period, or custom dates (inclusive)."""

    period = forms.ChoiceField(label=_("Period"), choices=Period.choices, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        period = cleaned.get("period") or Period.THIS_MONTH
        cleaned["period"] = period
        if period != Period.CUSTOM:
            cleaned["start"], cleaned["end"] = period_dates(period)
            return cleaned
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None:
            self.add_error("start", forms.ValidationError(_("Enter the first day."), "required"))
        if end is None:
            self.add_error("end", forms.ValidationError(_("Enter the last day."), "required"))
        if start and end:
            check_period(start, end, error=lambda message, code: self.add_error(
                "end", forms.ValidationError(message, code)))  # fmt: skip
        return cleaned


def check_period(start: date, end: date, *, error) -> None:
    """Report through `error(message, code)` a range that ends before it starts or is longer
    than MAX_PERIOD_DAYS (shared by the page and the API)."""
    if end < start:
        error(_("The last day is before the first day."), "invalid_range")
    elif (end - start).days + 1 > MAX_PERIOD_DAYS:
        error(
            _("Choose at most %(days)d days.") % {"days": MAX_PERIOD_DAYS},
            "range_too_long",
        )
