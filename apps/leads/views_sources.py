"""The lead source effectiveness page (线索来源分析, ``?format=xlsx`` for its Excel file), and the
filters the lead report pages share (a period, a team, a rep). Thin: parse the filters, call
`source_figures`, render. A team or a person outside the caller's scope is a 404; a bad
filter a form error naming the field (400)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, scope_of
from apps.opportunities.figures import figure_people, figure_teams

from . import exports, source_figures
from .choices import LeadSource
from .forms import SlaPeriodForm
from .periods import Period

MAX_TEAMS = 200  # the team select: a company has dozens of units
MAX_PEOPLE = 200


class LeadReportFilterForm(SlaPeriodForm):
    """A named period or custom dates (inclusive), a team and a rep (both optional)."""

    team = forms.IntegerField(label=_("Team"), required=False, min_value=1)
    owner = forms.IntegerField(label=_("Rep"), required=False, min_value=1)


class SourceFilterForm(LeadReportFilterForm):
    source = forms.ChoiceField(
        label=_("Source"), choices=[("", _("All sources")), *LeadSource.choices], required=False
    )


@dataclass
class Filters:
    period: str
    start: date
    end: date  # inclusive
    team: OrgUnit | None
    owner: User | None
    source: str = ""

    def query(self, **changes: Any) -> str:
        """The query string of these filters with `changes` (None drops a key)."""
        values: dict[str, Any] = {
            "period": self.period,
            "start": self.start.isoformat() if self.period == Period.CUSTOM else None,
            "end": self.end.isoformat() if self.period == Period.CUSTOM else None,
            "team": self.team.pk if self.team else None,
            "owner": self.owner.pk if self.owner else None,
            "source": self.source or None,
        }
        values.update(changes)
        params = QueryDict(mutable=True)
        for key, value in values.items():
            if value not in (None, ""):
                params[key] = str(value)
        return params.urlencode()

    def narrowing(self) -> list[str]:
        return [self.team.name if self.team else "",
                self.owner.display_name if self.owner else ""]  # fmt: skip

    @property
    def file_parts(self) -> list[str]:
        return [f"team{self.team.pk}" if self.team else "",
                f"rep{self.owner.pk}" if self.owner else "", self.source]  # fmt: skip


def resolve_filters(user: User, data: dict) -> Filters:
    """The team and the rep of validated filter data, checked against `user`'s scope: one
    outside it raises Http404 (as a lead outside the scope would)."""
    team = owner = None
    if data.get("team"):
        team = figure_teams(user=user).filter(pk=data["team"]).first()
        if team is None:
            raise Http404
    if data.get("owner"):
        owner = figure_people(user=user, team=team).filter(pk=data["owner"]).first()
        if owner is None:
            raise Http404
    return Filters(
        period=data["period"], start=data["start"], end=data["end"], team=team, owner=owner,
        source=data.get("source") or "",
    )  # fmt: skip


def filter_choices(user: User, team: OrgUnit | None) -> dict[str, Any]:
    """The team and rep selects of a head or an admin (a rep has only their own leads)."""
    if scope_of(user) not in (Scope.ALL, Scope.SUBTREE):
        return {"teams": [], "people": []}
    people = figure_people(user=user, team=team).filter(is_active=True).order_by("username")
    return {
        "teams": list(figure_teams(user=user)[:MAX_TEAMS]),
        "people": list(people[:MAX_PEOPLE]),
    }


@login_required
@require_GET
def lead_sources(request: HttpRequest) -> HttpResponse:
    """What the leads captured in a period became, per source (or per channel of a source):
    a bar chart, the table, the drill-down to the lead list; ``?format=xlsx``."""
    form = SourceFilterForm(request.GET)  # always bound: no parameters is this month
    context: dict[str, Any] = {"form": form, "periods": Period.choices, "custom": Period.CUSTOM,
                               "sources": LeadSource.choices}  # fmt: skip
    if not form.is_valid():
        context["period"] = request.GET.get("period", "")
        return render(request, "leads/sources.html", context, status=400)
    f = resolve_filters(request.user, form.cleaned_data)
    result = source_figures.source_figures(
        user=request.user, start=f.start, end=f.end, source=f.source or None, team=f.team,
        owner=f.owner,
    )  # fmt: skip
    if request.GET.get("format") == "xlsx":
        content = exports.sources_workbook(
            result, filters=exports.period_text(f.start, f.end, *f.narrowing(), f.source)
        )
        name = exports.filename("lead-sources", f.start, f.end, *f.file_parts)
        return exports.xlsx_response(content, name)
    top = result.max_captured
    rows = []
    for r in result.rows:
        rows.append(
            {
                "row": r,
                "drill": None if f.source else f"?{f.query(source=r.source)}",
                "source": r.source,
                "captured_pct": round(r.captured / top * 100, 1),
                "converted_pct": round(r.converted / top * 100, 1),
            }
        )
    context.update(
        {
            "f": f,
            "period": f.period,
            "start": f.start,
            "end": f.end,
            "result": result,
            "rows": rows,
            "source_label": dict(LeadSource.choices).get(f.source, ""),
            "all_sources_query": f.query(source=None),
            "export_query": f.query(format="xlsx"),
            **filter_choices(request.user, f.team),
        }
    )
    return render(request, "leads/sources.html", context)
