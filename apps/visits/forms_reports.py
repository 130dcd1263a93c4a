"""Forms of the weekly report and figures pages: they parse input; the rules are the services'
(`apps.visits.reports`) and the selectors' (`apps.visits.figures`)."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.leads.forms import check_period
from apps.leads.periods import Period, period_dates

from .choices import ReportStatus

_DATE = {"type": "date"}
_TEXT = {"rows": 4}


class ReportForm(forms.Form):
    """The sections the rep writes (seed 002 销售报告)."""

    summary = forms.CharField(
        label=_("Summary of the week"), required=False, widget=forms.Textarea(attrs=_TEXT),
        help_text=_("What went well, what did not, and why."),
    )  # fmt: skip
    competitor_notes = forms.CharField(
        label=_("Competition"), required=False, widget=forms.Textarea(attrs=_TEXT),
        help_text=_("Competitors met this week: prices, offers, moves."),
    )  # fmt: skip
    abnormal_customers = forms.CharField(
        label=_("Abnormal customers"), required=False, widget=forms.Textarea(attrs=_TEXT),
        help_text=_("What you will do about the customers listed above."),
    )  # fmt: skip
    next_week_plan = forms.CharField(
        label=_("Next week's targets and plan"), required=False,
        widget=forms.Textarea(attrs=_TEXT),
    )  # fmt: skip


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"), required=False, max_length=4000, widget=forms.Textarea(attrs=_TEXT)
    )


class ReportFilterForm(forms.Form):
    week = forms.DateField(label=_("Week"), required=False, widget=forms.DateInput(attrs=_DATE))
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *ReportStatus.choices]
    )
    late = forms.BooleanField(label=_("Late only"), required=False)
    team = forms.IntegerField(required=False)


class FiguresPeriodForm(forms.Form):
    """A named period or custom first/last days (inclusive), as on the lead SLA page."""

    period = forms.ChoiceField(label=_("Period"), choices=Period.choices, required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs=_DATE))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs=_DATE))
    team = forms.IntegerField(required=False)
    owner = forms.IntegerField(required=False)
    days = forms.IntegerField(label=_("Not visited in (days)"), required=False, min_value=1,
                              max_value=3650)  # fmt: skip
    order = forms.ChoiceField(
        required=False,
        choices=[("days", _("Most days first")), ("-days", _("Fewest days first")),
                 ("name", _("Name"))],
    )  # fmt: skip

    def clean(self) -> dict:
        cleaned = super().clean()
        period = cleaned.get("period") or Period.THIS_WEEK
        cleaned["period"] = period
        if period == Period.CUSTOM:
            start, end = cleaned.get("start"), cleaned.get("end")
            if start is None:
                self.add_error("start", _("Give the first day."))
            if end is None:
                self.add_error("end", _("Give the last day."))
            if start and end:
                check_period(start, end, error=lambda message, code: self.add_error(
                    "end", forms.ValidationError(message, code)))  # fmt: skip
        else:
            cleaned["start"], cleaned["end"] = period_dates(period)
        return cleaned

    def bounds(self) -> tuple[date, date]:
        """[first day, the day after the last) for the selectors."""
        return self.cleaned_data["start"], self.cleaned_data["end"] + timedelta(days=1)
