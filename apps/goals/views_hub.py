"""The reports hub (报表中心): one page listing every report the user's role may open, grouped
(goals, sales activity, pipeline, process and competition, leads, receivables), each a card
with an icon and a line saying what it answers. Each report keeps its own scope rules; the hub
only hides the cards of the reports a role cannot open (the same roles as their sidebar
entries)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from apps.accounts.choices import Role
from apps.leads.permissions import can_view_team_sla

SALES = frozenset({Role.REP, Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
HEADS = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.ADMIN})
GOALS = SALES | {Role.FINANCE}
MONEY = frozenset({Role.FINANCE, Role.ADMIN, Role.MANAGER, Role.SUPERVISOR})
CUSTOMERS = frozenset(Role.values) - {Role.INTEGRATION}


@dataclass(frozen=True)
class Group:
    key: str
    label: str | Promise
    icon: str


@dataclass(frozen=True)
class Card:
    """A report: the URL name it opens (the card is left out while it does not resolve), its
    icon (Bootstrap Icons), the roles that may open it, and an extra check for a report whose
    rule is more than a role (None: the role is enough)."""

    key: str
    group: str
    title: str | Promise
    description: str | Promise
    url_name: str
    icon: str
    roles: frozenset[str]
    check: Callable[[Any], bool] | None = None
    query: str = ""


GROUPS = (
    Group("goals", _("Goals"), "bullseye"),
    Group("activity", _("Sales activity"), "person-walking"),
    Group("pipeline", _("Pipeline"), "funnel"),
    Group("process", _("Process and competition"), "activity"),
    Group("incentives", _("Assessment and incentives"), "award"),
    Group("leads", _("Leads"), "person-plus"),
    Group("receivables", _("Receivables"), "cash-coin"),
)

CARDS = (
    Card("attainment", "goals", _("Target attainment"),
         _("Targets against the signed contracts, collections, new customers and visits."),
         "goals:attainment", "speedometer2", GOALS),
    Card("comparison", "goals", _("Performance comparison"),
         _("Rep against rep, team against team, month on month and year on year."),
         "goals:comparison", "bar-chart-line", GOALS),
    Card("visits", "activity", _("Visit statistics"),
         _("Visits planned, done and effective, customers visited and those not visited."),
         "visits:figures", "bar-chart", SALES),
    Card("forecast", "pipeline", _("Weighted forecast"),
         _("Open deals by expected close month, weighted, against the monthly target."),
         "opportunities:forecast", "graph-up-arrow", SALES),
    Card("funnel", "pipeline", _("Funnel and stage durations"),
         _("How far the deals went, how long they stay in each stage, the win rate."),
         "opportunities:funnel", "funnel", SALES),
    # Process diagnostics and competitor analysis (apps.incentives): for those who oversee
    # others, the same rule as the team SLA report.
    Card("diagnostics", "process", _("Process diagnostics"),
         _("How long deals wait in each stage and documents at each approval step; the "
           "bottlenecks."),
         "incentives:diagnostics", "activity", HEADS, check=can_view_team_sla),
    Card("competitors", "process", _("Competitor analysis"),
         _("Deals lost to each competitor, their amounts, and mentions in visit records."),
         "incentives:competitors", "flag", HEADS, check=can_view_team_sla),
    Card("scorecards", "incentives", _("KPI scorecard ranking"),
         _("The period's scores, grades and ranks, and how the grades are spread."),
         "incentives:scorecard_ranking", "award", SALES),
    Card("commissions", "incentives", _("Commission statements"),
         _("Commission on collections per rep and month, with the adjustments of closed months."),
         "incentives:statement_list", "cash-coin", GOALS),
    Card("satisfaction", "incentives", _("Customer satisfaction"),
         _("Survey scores and NPS per team and rep, the low scores and their follow-up."),
         "incentives:survey_list", "emoji-smile", SALES),
    Card("lead_sources", "leads", _("Lead sources"),
         _("Leads captured, converted and won per source and channel."),
         "leads:sources", "diagram-3", SALES),
    Card("lead_sla", "leads", _("Response SLA"),
         _("Leads answered in time, late or not at all, per team, rep and grade."),
         "leads:sla", "stopwatch", HEADS, check=can_view_team_sla),
    Card("receivables", "receivables", _("Receivables figures"),
         _("Aging, collection rate, DSO, overdue and bad-debt ratios."),
         "receivables:figures", "bar-chart-steps", MONEY),
    Card("statement", "receivables", _("Statement of account"),
         _("A customer's contracts, installments and payments: open a customer, then its "
           "statement."),
         "customers:list", "file-earmark-text", CUSTOMERS),
)  # fmt: skip


def may_open(user: Any, card: Card) -> bool:
    if not (user.is_superuser or user.role in card.roles):
        return False
    return card.check is None or card.check(user)


def cards_for(user: Any) -> list[dict]:
    """The groups that have a card `user` may open, in order, each with its cards."""
    groups = []
    for group in GROUPS:
        cards = [c for c in CARDS if c.group == group.key and may_open(user, c)]
        if cards:
            groups.append({"group": group, "cards": cards})
    return groups


@login_required
@require_GET
def reports_hub(request: HttpRequest) -> HttpResponse:
    """Every report the user may open, as cards grouped by subject."""
    return render(request, "goals/reports_hub.html", {"groups": cards_for(request.user)})
