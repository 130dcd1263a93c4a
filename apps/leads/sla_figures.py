"""The response SLA report (线索响应及时率) narrowed to a team or a rep, with a row per team:
the figures page's source of truth, for the page and its Excel file.

The counts are the selectors' (`selectors._sla_counts`: due, answered in time, answered late,
breached, over the leads whose first response fell due in the period, in the caller's scope);
this module only narrows them the way every report does (`source_figures.narrow_q`: leads
owned by someone in the team's subtree or waiting in it, or owned by the rep) and groups them
by the owner's unit as well. Without a narrowing, the figures are those of
`selectors.lead_sla_report` (the API's).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from apps.accounts.models import OrgUnit, User

from .models import Lead
from .selectors import (
    SlaCompliance,
    SlaReport,
    _add,
    _sla_due_in,
    _sum,
    sla_cells,
)
from .source_figures import narrow_q


@dataclass(frozen=True)
class SlaByTeam:
    """One unit's row: the leads of the people placed in it (not its sub-units: the table
    lists every unit with leads), or, for `team` None, the leads of owners without a unit and
    those without an owner."""

    team: OrgUnit | None
    figures: SlaCompliance


@dataclass(frozen=True)
class NarrowedSlaReport(SlaReport):
    by_team: list[SlaByTeam]
    breached: QuerySet[Lead]


def sla_due(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> QuerySet[Lead]:
    """The leads of `user`'s scope whose first response fell due in the period, narrowed."""
    return _sla_due_in(user, period).filter(narrow_q(team=team, owner=owner)).order_by()


def sla_report(
    *,
    user: User,
    period: tuple[datetime, datetime],
    team: OrgUnit | None = None,
    owner: User | None = None,
) -> NarrowedSlaReport:
    """Total (the sum of the grade rows), per grade, per owner and per team (the sum of its
    owners' rows), all from one query over the leads due in the period grouped by owner and
    grade (`selectors.sla_cells`, with the owners' names and units); `breached` is the
    queryset of the breached leads (the page pages it)."""
    leads = sla_due(user=user, period=period, team=team, owner=owner)
    cells = sla_cells(leads, with_unit=True)
    by_grade, by_owner = cells.by_grade(), cells.by_owner()
    teams: dict[int | None, SlaByTeam] = {}
    for row in by_owner:
        unit = row.owner.org_unit if row.owner is not None else None
        key = unit.pk if unit else None
        figures = _add(teams[key].figures, row.figures) if key in teams else row.figures
        teams[key] = SlaByTeam(unit, figures)
    by_team = sorted(teams.values(), key=lambda r: (r.team is None, r.team.path if r.team else ""))
    breached = (
        leads.filter(sla_breached_at__isnull=False)
        .select_related("owner")
        .order_by("-sla_breached_at", "-id")
    )
    return NarrowedSlaReport(
        total=_sum([r.figures for r in by_grade]), by_owner=by_owner, by_grade=by_grade,
        by_team=by_team, breached=breached,
    )  # fmt: skip
