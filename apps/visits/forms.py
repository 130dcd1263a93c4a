"""Forms of the visit pages: they parse what a person typed; the rules (scope, dates, ranges,
states) are the services' (`apps.visits.services`), whose errors are put back on the fields."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .choices import VisitPurpose

_DATE = {"type": "date"}
_MONEY = {"inputmode": "decimal", "autocomplete": "off", "placeholder": "0.00"}


class PlanForm(forms.Form):
    """A visit plan (拜访计划表). The customer or lead comes from the search-as-you-type picker
    (hidden ids); the opportunity is a choice among the customer's own."""

    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    planned_date = forms.DateField(
        label=_("Date"), widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    planned_time = forms.TimeField(
        label=_("Time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    purpose = forms.ChoiceField(label=_("Purpose"), choices=VisitPurpose.choices)
    opportunity = forms.TypedChoiceField(
        label=_("Opportunity"), required=False, coerce=int, empty_value=None, choices=()
    )
    objectives = forms.CharField(
        label=_("Objectives"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What should this visit achieve?"),
    )

    def __init__(self, *args, opportunities=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].choices = [("", _("— none —"))] + [
            (o.pk, str(o)) for o in opportunities
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not self.errors and (cleaned.get("customer") is None) == (cleaned.get("lead") is None):
            raise ValidationError(_("Choose a customer or a lead (one of them)."), code="no_target")
        return cleaned


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason for cancelling"), max_length=300, required=False)


class MoveForm(forms.Form):
    planned_date = forms.DateField(label=_("Date"))
    route_order = forms.IntegerField(
        label=_("Order in the day's route"), required=False, min_value=1, max_value=999
    )


class _DateTimeLocal(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None) -> None:
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class RecordForm(forms.Form):
    """A visit summary (拜访总结表), phone-first: the check-in fields are filled by the page's
    script only after the user taps "Check in"."""

    purpose = forms.ChoiceField(label=_("Purpose"), choices=VisitPurpose.choices)
    started_at = forms.DateTimeField(label=_("Started at"), widget=_DateTimeLocal())
    ended_at = forms.DateTimeField(label=_("Ended at"), required=False, widget=_DateTimeLocal())
    latitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    longitude = forms.DecimalField(required=False, widget=forms.HiddenInput)
    location_accuracy_m = forms.IntegerField(required=False, widget=forms.HiddenInput)
    outcome = forms.CharField(
        label=_("Outcome"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    problems_handled = forms.CharField(
        label=_("Problems handled"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    payment_collected = forms.DecimalField(
        label=_("Payment collected"), required=False, max_digits=14, decimal_places=2,
        widget=forms.TextInput(attrs=_MONEY),
    )  # fmt: skip
    order_amount = forms.DecimalField(
        label=_("Order amount"), required=False, max_digits=14, decimal_places=2,
        widget=forms.TextInput(attrs=_MONEY),
    )  # fmt: skip
    competitor_info = forms.CharField(
        label=_("Competitor information"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    customer_feedback = forms.CharField(
        label=_("Customer feedback and news"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip
    next_step = forms.CharField(label=_("Next step"), required=False, max_length=300)
    next_step_date = forms.DateField(
        label=_("Next step date"),
        required=False,
        widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d"),
    )
    opportunity = forms.TypedChoiceField(
        label=_("Opportunity"), required=False, coerce=int, empty_value=None, choices=()
    )
    stage_moved = forms.BooleanField(label=_("Moved the opportunity a stage"), required=False)

    SECTIONS = (
        (_("When"), ("purpose", "started_at", "ended_at")),
        (_("What came of it"), ("outcome", "order_amount", "payment_collected",
                                "problems_handled")),
        (_("Market"), ("customer_feedback", "competitor_info")),
        (_("Next step"), ("next_step", "next_step_date", "opportunity", "stage_moved")),
    )  # fmt: skip

    def __init__(self, *args, opportunities=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["opportunity"].choices = [("", _("— none —"))] + [
            (o.pk, str(o)) for o in opportunities
        ]

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in self.SECTIONS]

    def record_data(self) -> dict:
        """The cleaned values for the service (the opportunity is passed on its own)."""
        data = {k: v for k, v in self.cleaned_data.items() if k != "opportunity"}
        for name in ("payment_collected", "order_amount"):
            if data.get(name) is None:
                data[name] = 0
        return data


class RecordFilterForm(forms.Form):
    q = forms.CharField(required=False, max_length=100)
    rep = forms.IntegerField(required=False)
    date_from = forms.DateField(
        required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        required=False, widget=forms.DateInput(attrs=_DATE, format="%Y-%m-%d")
    )
    effective = forms.BooleanField(required=False)
