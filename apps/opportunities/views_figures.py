"""Pipeline figure pages (商机分析): the weighted forecast by close month against the month
targets of the signed contract amount (with the funnel and the stage durations below it) and
the funnel page (funnel, stage durations, win rate and cycle time); each also as an Excel file
(``?format=xlsx``, `exports`). Thin: parse the filters, call `apps.opportunities.figures`,
render. A team or a person outside the caller's scope is a 404."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, scope_of
from apps.leads import exports as xlsx
from apps.leads.forms import check_period
from apps.leads.periods import Period, period_bounds, period_dates

from . import exports, figure_tables, figures

# The pages' templates (their long tables' rows come from `figure_tables`).
FORECAST_TEMPLATE = "opportunities/figures/forecast.html"
FUNNEL_TEMPLATE = "opportunities/figures/funnel.html"
# Bounded selects: a company has dozens of units and a team a few dozen people.
MAX_TEAMS = 200
MAX_PEOPLE = 200


class FiguresFilterForm(forms.Form):
    """The filters of the figure pages: a named period or custom dates (inclusive), a team, a
    person, the forecast's months, and whether current stays count in the stage durations."""

    period = forms.ChoiceField(label=_("Period"), choices=Period.choices, required=False)
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    team = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    owner = forms.IntegerField(label=_("Owner"), required=False, min_value=1)
    months = forms.IntegerField(
        label=_("Months"), required=False, min_value=1, max_value=figures.MAX_FORECAST_MONTHS
    )
    current = forms.BooleanField(label=_("Count current stays up to now"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        period = cleaned.get("period") or Period.THIS_MONTH
        cleaned["period"] = period
        cleaned["months"] = cleaned.get("months") or figures.DEFAULT_FORECAST_MONTHS
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


@dataclass
class Filters:
    period: str
    start: date
    end: date  # inclusive
    team: OrgUnit | None
    owner: User | None
    months: int
    current: bool

    @property
    def bounds(self):
        return period_bounds(self.start, self.end)

    def narrowing(self) -> list[str]:
        """The team and the person, for the filters row of an Excel file."""
        return [self.team.name if self.team else "",
                self.owner.display_name if self.owner else ""]  # fmt: skip

    def query(self, **changes) -> str:
        """The query string of these filters with `changes` (None drops a key)."""
        params = QueryDict(mutable=True)
        values = {
            "period": self.period,
            "start": self.start.isoformat() if self.period == Period.CUSTOM else None,
            "end": self.end.isoformat() if self.period == Period.CUSTOM else None,
            "team": self.team.pk if self.team else None,
            "owner": self.owner.pk if self.owner else None,
            "months": self.months if self.months != figures.DEFAULT_FORECAST_MONTHS else None,
            "current": "1" if self.current else None,
        }
        values.update(changes)
        for key, value in values.items():
            if value not in (None, ""):
                params[key] = str(value)
        return params.urlencode()


def resolve_filters(user: User, data: dict) -> Filters:
    """The team and the person of validated filter data, checked against `user`'s scope:
    one outside it raises Http404 (as a record outside the scope would)."""
    team = owner = None
    if data.get("team"):
        team = figures.figure_teams(user=user).filter(pk=data["team"]).first()
        if team is None:
            raise Http404
    if data.get("owner"):
        owner = (
            figures.figure_people(user=user, team=team)
            .select_related("org_unit")
            .filter(pk=data["owner"])
            .first()
        )
        if owner is None:
            raise Http404
    return Filters(
        period=data["period"], start=data["start"], end=data["end"], team=team, owner=owner,
        months=data["months"], current=bool(data.get("current")),
    )  # fmt: skip


def _context(request: HttpRequest, tab: str) -> tuple[dict, Filters | None]:
    user = request.user
    form = FiguresFilterForm(request.GET)  # bound even when empty: the defaults apply
    oversees = scope_of(user) in (Scope.ALL, Scope.SUBTREE)
    context: dict = {
        "form": form,
        "tab": tab,
        "periods": Period.choices,
        "custom": Period.CUSTOM,
        "oversees": oversees,
        "teams": list(figures.figure_teams(user=user)[:MAX_TEAMS]) if oversees else [],
    }
    if not form.is_valid():
        context["period"] = request.GET.get("period", "")
        return context, None
    f = resolve_filters(user, form.cleaned_data)
    people: list[User] = []
    if oversees and (f.team is not None or scope_of(user) is Scope.SUBTREE):
        people = list(
            figures.figure_people(user=user, team=f.team)
            .filter(is_active=True)
            .order_by("username")[:MAX_PEOPLE]
        )
    context.update(
        {
            "f": f, "period": f.period, "start": f.start, "end": f.end, "people": people,
            "clear_query": f.query(team=None, owner=None),
            "team_query": f.query(team=None, owner=None),
            "export_query": f.query(format="xlsx"),
        }
    )  # fmt: skip
    return context, f


def _wants_xlsx(request: HttpRequest) -> bool:
    return request.GET.get("format") == "xlsx"


@login_required
def forecast(request: HttpRequest) -> HttpResponse:
    """The weighted forecast by expected close month per team and rep, with the funnel and the
    stage durations of the period below it."""
    context, f = _context(request, "forecast")
    if f is None:
        return render(request, FORECAST_TEMPLATE, context, status=400)
    settings_by_stage = figures.stage_settings()
    result = figures.forecast(
        user=request.user, team=f.team, owner=f.owner, months=f.months,
        settings_by_stage=settings_by_stage,
    )  # fmt: skip
    result.with_targets(
        figures.forecast_targets(
            user=request.user, buckets=result.buckets, team=f.team, owner=f.owner
        )
    )
    if _wants_xlsx(request):
        content = exports.forecast_workbook(
            result, filters=xlsx.period_text(result.this_month, _last_day(result), *f.narrowing()),
            by_team=f.owner is None,
        )  # fmt: skip
        name = xlsx.filename("forecast", result.this_month, _last_day(result),
                             f"team{f.team.pk}" if f.team else "",
                             f"rep{f.owner.pk}" if f.owner else "")  # fmt: skip
        return xlsx.xlsx_response(content, name)
    context["forecast"] = result
    context["target_rows"] = result.target_rows()
    tables = [{"kind": "rep", "title": _("By rep"), "head": _("Rep"), "rows": result.by_rep}]
    if f.owner is None:
        tables.insert(
            0, {"kind": "team", "title": _("By team"), "head": _("Team"), "rows": result.by_team}
        )
    list_url = reverse("opportunities:list")
    for table in tables:
        table["body"] = figure_tables.forecast_rows(
            table["rows"], result.buckets, team_query=context["team_query"], list_url=list_url
        )
    context["forecast_tables"] = tables
    context["forecast_total_cells"] = figure_tables.forecast_total_cells(
        result.totals, result.buckets
    )
    context["funnel"] = figures.funnel(
        user=request.user, period=f.bounds, team=f.team, owner=f.owner
    )
    context["durations"] = figures.stage_durations(
        user=request.user, period=f.bounds, team=f.team, owner=f.owner,
        include_current=f.current, settings_by_stage=settings_by_stage,
    )  # fmt: skip
    context["duration_bars"] = _duration_bars(context["durations"])
    return render(request, FORECAST_TEMPLATE, context)


@login_required
def funnel(request: HttpRequest) -> HttpResponse:
    """Funnel conversion, stage durations, win rate and cycle time of a period."""
    context, f = _context(request, "funnel")
    if f is None:
        return render(request, FUNNEL_TEMPLATE, context, status=400)
    result = figures.pipeline_figures(
        user=request.user, period=f.bounds, team=f.team, owner=f.owner, include_current=f.current
    )
    if _wants_xlsx(request):
        content = exports.funnel_workbook(
            result, filters=xlsx.period_text(f.start, f.end, *f.narrowing()),
            by_team=f.owner is None,
        )  # fmt: skip
        name = xlsx.filename("funnel", f.start, f.end, f"team{f.team.pk}" if f.team else "",
                             f"rep{f.owner.pk}" if f.owner else "")  # fmt: skip
        return xlsx.xlsx_response(content, name)
    context.update(
        {
            "funnel": result.funnel,
            "durations": result.durations,
            "duration_bars": _duration_bars(result.durations),
            "win_rates": result.win_rates,
            "win_tables": _win_tables(
                result.win_rates, by_team=f.owner is None, team_query=context["team_query"]
            ),
        }
    )
    return render(request, FUNNEL_TEMPLATE, context)


def _last_day(result: figures.Forecast) -> date:
    """The last day of the forecast's last month."""
    return figures.add_months(result.buckets[-1].month, 1) - timedelta(days=1)


def _win_tables(rates: figures.WinRates, *, by_team: bool, team_query: str) -> list[dict]:
    tables = [{"kind": "rep", "title": _("Win rate by rep"), "head": _("Rep"),
               "rows": rates.by_rep}]  # fmt: skip
    if by_team:
        tables.insert(0, {"kind": "team", "title": _("Win rate by team"), "head": _("Team"),
                          "rows": rates.by_team})  # fmt: skip
    list_url = reverse("opportunities:list")
    for table in tables:
        table["body"] = figure_tables.win_rate_rows(
            table["rows"], team_query=team_query, list_url=list_url
        )
    return tables


def _duration_bars(durations: list[figures.StageDuration]) -> list[dict]:
    """Each stage's average, median and expected days as % of the longest (the bar chart)."""
    values = [d.avg_days or 0 for d in durations] + [d.median_days or 0 for d in durations]
    values += [d.expected_days or 0 for d in durations]
    top = max([*values, 1])

    def pct(value: float | None) -> float:
        return round((value or 0) / top * 100, 1)

    return [
        {"d": d, "avg_pct": pct(d.avg_days), "median_pct": pct(d.median_days),
         "expected_pct": pct(d.expected_days)}
        for d in durations
    ]  # fmt: skip
