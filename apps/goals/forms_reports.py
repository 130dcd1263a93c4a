"""The filters of the goal reports (the attainment report, its documents, the comparison),
read from the query string by the pages and by the API alike: a bad value is an error naming
its field (a 400 form on the page, a 400 problem in the API)."""

from __future__ import annotations

from datetime import date

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import Metric, PeriodKind
from .comparison import View
from .periods import Period, period_of

ALL_METRICS = "all"
FIRST_YEAR, LAST_YEAR = 2000, 2100
# The report periods: a week is a scheduling period, reports are by month, quarter or year.
REPORT_PERIODS = [
    (PeriodKind.MONTH, PeriodKind.MONTH.label),
    (PeriodKind.QUARTER, PeriodKind.QUARTER.label),
    (PeriodKind.YEAR, PeriodKind.YEAR.label),
]


class ReportFilterForm(forms.Form):
    """The period (its kind and a day in it, default the current month), the unit and the rep
    (checked against the caller's scope by the report: one outside it is a 404)."""

    period = forms.ChoiceField(label=_("Period"), choices=REPORT_PERIODS, required=False)
    date = forms.DateField(
        label=_("Day in the period"), required=False, input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    unit = forms.IntegerField(label=_("Org unit"), required=False, min_value=1)
    rep = forms.IntegerField(label=_("Rep"), required=False, min_value=1)

    def clean_date(self) -> date:
        day = self.cleaned_data.get("date") or timezone.localdate()
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            raise forms.ValidationError(
                _("Choose a day between %(first)s and %(last)s.")
                % {"first": FIRST_YEAR, "last": LAST_YEAR},
                code="out_of_range",
            )
        return day

    def clean_period(self) -> str:
        return self.cleaned_data.get("period") or PeriodKind.MONTH

    def report_period(self) -> Period:
        return period_of(self.cleaned_data["period"], self.cleaned_data["date"])


class AttainmentFilterForm(ReportFilterForm):
    metric = forms.ChoiceField(
        label=_("Metric"),
        choices=[(ALL_METRICS, _("All metrics")), *Metric.choices],
        required=False,
    )

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or ALL_METRICS

    def metrics(self) -> list[str]:
        metric = self.cleaned_data["metric"]
        return list(Metric.values) if metric == ALL_METRICS else [metric]


class DocumentsFilterForm(ReportFilterForm):
    """The documents behind one rep's figure: the rep is required, the metric is one."""

    rep = forms.IntegerField(label=_("Rep"), min_value=1)
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices, required=False)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100000)

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or Metric.CONTRACT_AMOUNT

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1


class ComparisonFilterForm(ReportFilterForm):
    view = forms.ChoiceField(label=_("Comparison"), choices=View.choices, required=False)
    metric = forms.ChoiceField(label=_("Metric"), choices=Metric.choices, required=False)

    def clean_metric(self) -> str:
        return self.cleaned_data.get("metric") or Metric.CONTRACT_AMOUNT
