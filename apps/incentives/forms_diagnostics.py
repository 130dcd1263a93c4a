"""The filters of the process diagnostics and of the competitor analysis (the pages and the API
read the same forms: a bad value is an error naming its field — a form error on the page, a 400
problem in the API), and the competitor registry's form."""

from __future__ import annotations

import re
from datetime import date

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.leads.forms import check_period

from . import competitors, diagnostics

FIRST_YEAR, LAST_YEAR = 2000, 2100
_DATE = {"input_formats": ["%Y-%m-%d"], "widget": forms.DateInput(attrs={"type": "date"})}


class PeriodTeamForm(forms.Form):
    """A period of local days (both included, at most a year) and a team (an org unit id,
    checked against the caller's scope by the view: one outside it is a 404). Without dates,
    `default_period` applies."""

    start = forms.DateField(label=_("From"), required=False, **_DATE)
    end = forms.DateField(label=_("To"), required=False, **_DATE)
    team = forms.IntegerField(label=_("Team"), required=False, min_value=1)

    def default_period(self) -> tuple[date, date]:
        return diagnostics.default_period()

    def _check_year(self, name: str) -> None:
        day = self.cleaned_data.get(name)
        if day is not None and not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.add_error(
                name,
                forms.ValidationError(
                    _("Choose a day between %(first)s and %(last)s.")
                    % {"first": FIRST_YEAR, "last": LAST_YEAR},
                    code="out_of_range",
                ),
            )

    def clean(self) -> dict:
        cleaned = super().clean()
        self._check_year("start")
        self._check_year("end")
        if self.errors:
            return cleaned
        first, last = self.default_period()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start is None and end is not None:
            start = min(first, end)
        start, end = start or first, end or last
        check_period(start, end, error=lambda message, code: self.add_error(
            "end", forms.ValidationError(message, code)))  # fmt: skip
        cleaned["start"], cleaned["end"] = start, end
        return cleaned


class DiagnosticsFilterForm(PeriodTeamForm):
    highlight = forms.ChoiceField(
        label=_("Slowest by"), choices=diagnostics.Highlight.CHOICES, required=False
    )

    def clean_highlight(self) -> str:
        return self.cleaned_data.get("highlight") or diagnostics.Highlight.RELATIVE


class CompetitorFilterForm(PeriodTeamForm):
    def default_period(self) -> tuple[date, date]:
        return competitors.default_period()


class DrillDownForm(CompetitorFilterForm):
    """The documents behind a competitor's figure: the competitor (its id) or, for the lost
    deals, a name no competitor has (as the analysis groups it); a page."""

    competitor = forms.IntegerField(label=_("Competitor"), required=False, min_value=1)
    name = forms.CharField(label=_("Competitor"), required=False, max_length=200, strip=False)
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=100000)

    def __init__(self, *args, need_competitor: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.need_competitor = need_competitor

    def clean_page(self) -> int:
        return self.cleaned_data.get("page") or 1

    def clean(self) -> dict:
        cleaned = super().clean()
        if "competitor" in self.errors or "name" in self.errors:
            return cleaned
        has_name = bool(competitors.normalize(cleaned.get("name") or ""))
        if cleaned.get("competitor") is None and (self.need_competitor or not has_name):
            self.add_error(
                "competitor",
                forms.ValidationError(_("Choose a competitor."), code="required"),
            )
        return cleaned


def split_aliases(raw: str) -> list[str]:
    """Aliases typed one per line or separated by commas (，、 too)."""
    return [part.strip() for part in re.split(r"[\n,，、;；]+", raw or "") if part.strip()]


class CompetitorForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=competitors.NAME_MAX)
    aliases = forms.CharField(
        label=_("Aliases"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Other names the reps write for it (short names, English names), one per line or "
            "separated by commas. The analysis looks for the name and every alias, whatever "
            "the case."
        ),
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        help_text=_("An inactive competitor is not looked for in lost deals and visit records."),
    )

    def clean_aliases(self) -> list[str]:
        return split_aliases(self.cleaned_data.get("aliases") or "")
