"""Reads of the sales contests (销售竞赛): who sees a contest, who takes part, and the
leaderboard.

**Who sees a contest**: an admin (or an integration user) every contest; a head the contests
of the units they head, of the units above them and of the units below them (a manager heads
the teams under the department, a supervisor's team takes part in a department's contest);
a rep the contests they take part in. Anyone else: absent (404).

**Who takes part** (the participants): the active reps who belonged to one of the contest's
units or a unit below it (`goals_unitmembership`) at some time between its first and its
last day. Each is shown with the last of those units they were in.

**The value** of a participant: the contest's metric (`apps.goals.actuals`, the definitions
of the target reports) from `starts_on` to the earlier of today and `ends_on`, counting only
what the rep did while in one of the contest's units (a rep who joined a team halfway counts
from the day of the move). Equal values share a rank (1, 1, 3). Once the contest is final
(`finalized_at`), the kept ranking (`ContestStanding`) is shown, never a recomputation: a
payment reversed after the end does not change who won.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, headed_paths, scope_of
from apps.goals import actuals
from apps.goals.choices import MONEY_METRICS
from apps.goals.models import UnitMembership

from .models import Contest, ContestStanding

ZERO = Decimal("0")
RUNNING, UPCOMING, ENDED = "running", "upcoming", "ended"
STATES = (RUNNING, UPCOMING, ENDED)


def contest_state(contest: Contest, today: date) -> str:
    if today < contest.starts_on:
        return UPCOMING
    if today > contest.ends_on:
        return ENDED
    return RUNNING


def _path_ids(path: str) -> list[int]:
    return [int(part) for part in path.split(".") if part]


def contest_scope_q(user: User) -> Q:
    """The contests `user` may see (see the module docstring), as a filter on `Contest`."""
    scope = scope_of(user)
    if scope is Scope.ALL:
        return Q()
    if scope is Scope.NONE:
        return Q(pk__in=[])
    links = Contest.units.through.objects
    q = Q(pk__in=[])
    paths = headed_paths(user)
    if paths:
        # A contest unit at or below a unit they head, or above it.
        below = Q()
        for path in paths:
            below |= Q(orgunit__path__startswith=path)
        above = {pk for path in paths for pk in _path_ids(path)}
        q |= Q(pk__in=links.filter(below | Q(orgunit_id__in=above)).values("contest_id"))
    if user.role == Role.REP:
        # Their memberships (a few rows): a contest unit at or above a unit they were in,
        # while the contest ran.
        taking_part = Q(pk__in=[])
        for path, valid_from, valid_to in UnitMembership.objects.filter(user=user).values_list(
            "org_unit__path", "valid_from", "valid_to"
        ):
            overlap = Q(orgunit_id__in=_path_ids(path), contest__ends_on__gte=valid_from)
            if valid_to is not None:
                overlap &= Q(contest__starts_on__lt=valid_to)
            taking_part |= overlap
        q |= Q(pk__in=links.filter(taking_part).values("contest_id"))
    return q


def contest_list(*, user: User, state: str = "", today: date | None = None) -> QuerySet[Contest]:
    """The contests `user` may see, with their units: running ones ending soonest first,
    then upcoming ones starting soonest, then ended ones latest first; or only one `state`."""
    today = today or timezone.localdate()
    qs = Contest.objects.filter(contest_scope_q(user)).prefetch_related(
        Prefetch("units", queryset=OrgUnit.objects.order_by("path"))
    )
    if state == RUNNING:
        return qs.filter(starts_on__lte=today, ends_on__gte=today).order_by("ends_on", "id")
    if state == UPCOMING:
        return qs.filter(starts_on__gt=today).order_by("starts_on", "id")
    if state == ENDED:
        return qs.filter(ends_on__lt=today).order_by("-ends_on", "-id")
    return qs.order_by("-ends_on", "-id")


def contest_get(*, user: User, pk: int) -> Contest:
    """One contest `user` may see, else 404."""
    return get_object_or_404(contest_list(user=user).select_related("created_by"), pk=pk)


def contest_counts(*, user: User, today: date | None = None) -> dict[str, int]:
    """How many contests `user` sees in each state (one query)."""
    from django.db.models import Count

    today = today or timezone.localdate()
    found = Contest.objects.filter(contest_scope_q(user)).aggregate(
        running=Count("pk", filter=Q(starts_on__lte=today, ends_on__gte=today)),
        upcoming=Count("pk", filter=Q(starts_on__gt=today)),
        ended=Count("pk", filter=Q(ends_on__lt=today)),
    )
    return {state: found[state] or 0 for state in STATES}


# --- the participants and the leaderboard ------------------------------------------------


def contest_unit_ids(contest: Contest) -> set[int]:
    """The contest's units and every unit below them (one query; the units are prefetched
    or read once)."""
    paths = [unit.path for unit in contest.units.all()]
    if not paths:
        return set()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return set(OrgUnit.objects.filter(q).values_list("pk", flat=True))


@dataclass
class Participant:
    user: User
    unit: OrgUnit | None


def contest_participants(contest: Contest, unit_ids: set[int]) -> dict[int, Participant]:
    """The active reps who were in one of `unit_ids` during the contest, each with the last
    of those units they were in (one query)."""
    if not unit_ids:
        return {}
    rows = (
        UnitMembership.objects.filter(
            org_unit_id__in=unit_ids,
            valid_from__lte=contest.ends_on,
            user__role=Role.REP,
            user__is_active=True,
        )
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gt=contest.starts_on))
        .select_related("user", "org_unit")
        .order_by("user_id", "valid_from")
    )
    found: dict[int, Participant] = {}
    for membership in rows:
        found[membership.user_id] = Participant(membership.user, membership.org_unit)
    return found


@dataclass
class Standing:
    """One row of a leaderboard."""

    user_id: int
    name: str
    unit_id: int | None
    unit_name: str
    value: Decimal
    rank: int


@dataclass
class Leaderboard:
    """The ranking of a contest: live (computed now) or final (kept when it ended)."""

    contest: Contest
    state: str
    final: bool
    start: date
    end: date | None  # the last day counted (None before the contest starts)
    rows: list[Standing] = field(default_factory=list)
    finalized_at: datetime | None = None

    @property
    def money(self) -> bool:
        return self.contest.metric in MONEY_METRICS

    @property
    def top(self) -> Decimal:
        return max((row.value for row in self.rows), default=ZERO)

    def row_of(self, user_id: int) -> Standing | None:
        return next((row for row in self.rows if row.user_id == user_id), None)


def rank_rows(values: list[tuple[int, str, int | None, str, Decimal]]) -> list[Standing]:
    """(user id, name, unit id, unit name, value) → standings, highest value first; equal
    values share the rank of the first of them (1, 1, 3), then by name."""
    ordered = sorted(values, key=lambda v: (-v[4], v[1], v[0]))
    rows: list[Standing] = []
    for position, (user_id, name, unit_id, unit_name, value) in enumerate(ordered, start=1):
        rank = rows[-1].rank if rows and rows[-1].value == value else position
        rows.append(Standing(user_id, name, unit_id, unit_name, value, rank))
    return rows


def live_leaderboard(contest: Contest, *, today: date) -> Leaderboard:
    """The contest's ranking computed from the documents up to the earlier of today and its
    last day (three queries: the units, the participants, the metric)."""
    state = contest_state(contest, today)
    unit_ids = contest_unit_ids(contest)
    people = contest_participants(contest, unit_ids)
    board = Leaderboard(contest, state, final=False, start=contest.starts_on, end=None)
    values: dict[int, Decimal] = {}
    if state != UPCOMING and people:
        board.end = min(today, contest.ends_on)
        # The ancestors map is not needed (only the per-rep-and-unit sums are read): one query.
        found = actuals.compute(
            contest.metric, contest.starts_on, board.end, owner_ids=list(people), units={}
        )
        values = {pk: found.rep_in_units(pk, unit_ids) for pk in people}
    elif state != UPCOMING:
        board.end = min(today, contest.ends_on)
    board.rows = rank_rows(
        [
            (pk, p.user.display_name, p.unit.pk if p.unit else None,
             p.unit.name if p.unit else "", values.get(pk, ZERO))
            for pk, p in people.items()
        ]
    )  # fmt: skip
    return board


def final_leaderboard(contest: Contest) -> Leaderboard:
    """The ranking kept when the contest ended (one query)."""
    standings = ContestStanding.objects.filter(contest=contest).select_related("user", "org_unit")
    rows = [
        Standing(
            s.user_id,
            s.user.display_name,
            s.org_unit_id,
            s.org_unit.name if s.org_unit else "",
            s.value,
            s.rank,
        )
        for s in standings
    ]
    # The live board's order (rank, then name, then id), so a final board reads the same.
    rows.sort(key=lambda row: (row.rank, row.name, row.user_id))
    return Leaderboard(
        contest, ENDED, final=True, start=contest.starts_on, end=contest.ends_on, rows=rows,
        finalized_at=contest.finalized_at,
    )  # fmt: skip


def leaderboard(contest: Contest, *, today: date | None = None) -> Leaderboard:
    """The kept ranking of a final contest, else the live one."""
    if contest.finalized_at is not None:
        return final_leaderboard(contest)
    return live_leaderboard(contest, today=today or timezone.localdate())


# --- who may create and change contests ---------------------------------------------------


def contest_units_for(user: User) -> QuerySet[OrgUnit]:
    """The units `user` may put in a contest: every active unit for an admin; for a manager
    the active units they head and those below; nothing for anyone else."""
    qs = OrgUnit.objects.filter(is_active=True).order_by("path")
    if not (user.is_authenticated and user.is_active):
        return qs.none()
    if user.is_superuser or user.role == Role.ADMIN:
        return qs
    if user.role != Role.MANAGER:
        return qs.none()
    paths = headed_paths(user)
    if not paths:
        return qs.none()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return qs.filter(q)


def can_create_contest(user: User) -> bool:
    """Admins, and managers for the units they head."""
    return contest_units_for(user).exists()


def can_change_contest(user: User, contest: Contest) -> bool:
    """An admin, or a manager heading every unit of the contest (the page's buttons; the
    service also checks the state)."""
    # Read once per request (the user object lives as long as it): a list asks per contest.
    allowed = getattr(user, "_contest_unit_ids", None)
    if allowed is None:
        allowed = set(contest_units_for(user).values_list("pk", flat=True))
        user._contest_unit_ids = allowed
    units = {unit.pk for unit in contest.units.all()}
    return bool(allowed) and units <= allowed
