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
    SlaByGrade,
    SlaByOwner,
    SlaCompliance,
    SlaReport,
    _figures,
    _sla_counts,
    _sla_due_in,
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


def _add(a: SlaCompliance, b: SlaCompliance) -> SlaCompliance:
    return SlaCompliance(
        due=a.due + b.due,
        responded_in_time=a.responded_in_time + b.responded_in_time,
        responded_late=a.responded_late + b.responded_late,
        breached=a.breached + b.breached,
    )


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
    owners' rows): two grouped queries; `breached` is the queryset of the breached leads (the
    page pages it)."""
    leads = sla_due(user=user, period=period, team=team, owner=owner)
    counts = _sla_counts()
    by_grade = [
        SlaByGrade(grade=row["grade"], figures=_figures(row))
        for row in leads.values("grade").annotate(**counts).order_by("grade")
    ]
    total = SlaCompliance(
        due=sum(r.figures.due for r in by_grade),
        responded_in_time=sum(r.figures.responded_in_time for r in by_grade),
        responded_late=sum(r.figures.responded_late for r in by_grade),
        breached=sum(r.figures.breached for r in by_grade),
    )
    # One query grouped by owner (with the owner's unit): the team rows add up their owners'.
    by_owner, teams = [], {}
    owner_rows = (
        leads.values(
            "owner_id", "owner__username", "owner__first_name", "owner__last_name",
            "owner__org_unit_id", "owner__org_unit__name", "owner__org_unit__path",
        )
        .annotate(**counts)
        .order_by("owner__username", "owner_id")
    )  # fmt: skip
    for row in owner_rows:
        person = unit = None
        if row["owner_id"] is not None:
            person = User(
                pk=row["owner_id"], username=row["owner__username"],
                first_name=row["owner__first_name"], last_name=row["owner__last_name"],
            )  # fmt: skip
        figures = _figures(row)
        by_owner.append(SlaByOwner(owner=person, figures=figures))
        if row["owner__org_unit_id"] is not None:
            unit = OrgUnit(
                pk=row["owner__org_unit_id"], name=row["owner__org_unit__name"],
                path=row["owner__org_unit__path"],
            )  # fmt: skip
        key = unit.pk if unit else None
        teams[key] = SlaByTeam(unit, _add(teams[key].figures, figures) if key in teams else figures)
    by_team = sorted(teams.values(), key=lambda r: (r.team is None, r.team.path if r.team else ""))
    breached = (
        leads.filter(sla_breached_at__isnull=False)
        .select_related("owner")
        .order_by("-sla_breached_at", "-id")
    )
    return NarrowedSlaReport(
        total=total, by_owner=by_owner, by_grade=by_grade, by_team=by_team, breached=breached
    )
