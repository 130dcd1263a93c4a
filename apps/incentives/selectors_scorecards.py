"""Reads of the KPI scorecards (绩效考核) and scoring schemes, restricted to who may see them:

- an administrator (or an integration user) sees every scorecard;
- a head (supervisor, manager) sees the scorecards of the people of the units they head and
  those below — by the unit the person was in at the period's end — in any state, but their
  own only once published;
- everyone else (a rep) sees only their own published scorecards: an unpublished one is absent
  (404), like another person's;
- finance sees none.

Scoring schemes are an administrator's: for anyone else the pages and the API answer 404.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Count, F, Prefetch, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import ALL_SCOPE_ROLES, headed_paths
from apps.goals.attainment import visible_units
from apps.goals.periods import Period, period_between

from .choices import Grade, SchemeRole, ScorecardStatus
from .models import SchemeMetric, Scorecard, ScorecardLine, ScoringScheme

MAX_PERIODS = 36  # the periods offered in the filters


def sees_all(user: Any) -> bool:
    return bool(user.is_superuser or user.role in ALL_SCOPE_ROLES)


def scorecard_scope_q(user: Any) -> Q:
    """The scorecards `user` may see (see the module docstring)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Q(pk__in=[])
    if sees_all(user):
        return Q()
    if user.role == Role.FINANCE:
        return Q(pk__in=[])
    q = Q(user_id=user.pk, status=ScorecardStatus.PUBLISHED)
    for path in headed_paths(user):
        in_subtree = Q(org_unit__path__startswith=path) | Q(
            org_unit__isnull=True, user__org_unit__path__startswith=path
        )
        q |= in_subtree & ~Q(user_id=user.pk)
    return q


@dataclass
class ScorecardFilters:
    period_kind: str = ""
    period_start: date | None = None
    unit: int | None = None  # the unit and those below it
    grade: str = ""
    status: str = ""
    scheme: int | None = None
    q: str = ""


RANK_ORDER = (
    "-period_start",
    "period_kind",
    "scheme_id",
    F("rank_in_company").asc(nulls_last=True),
    "user__username",
    "id",
)


def scorecard_list(*, user: User, filters: ScorecardFilters | None = None) -> QuerySet[Scorecard]:
    """The scorecards `user` may see, newest period first and by rank within it, with the
    person, the unit and the scheme joined (no query per row)."""
    f = filters or ScorecardFilters()
    qs = Scorecard.objects.filter(scorecard_scope_q(user)).select_related(
        "user", "org_unit", "scheme"
    )
    if f.period_kind:
        qs = qs.filter(period_kind=f.period_kind)
    if f.period_start is not None:
        qs = qs.filter(period_start=f.period_start)
    if f.unit is not None:
        path = OrgUnit.objects.filter(pk=f.unit).values_list("path", flat=True).first()
        qs = qs.filter(org_unit__path__startswith=path) if path else qs.none()
    if f.grade:
        qs = qs.filter(grade=f.grade)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.scheme is not None:
        qs = qs.filter(scheme_id=f.scheme)
    if f.q:
        term = f.q.strip()
        qs = qs.filter(
            Q(user__username__icontains=term)
            | Q(user__first_name__icontains=term)
            | Q(user__last_name__icontains=term)
        )
    return qs.order_by(*RANK_ORDER)


def scorecard_get(*, user: User, pk: int) -> Scorecard:
    """One scorecard `user` may see with its lines, scheme and people, else 404."""
    qs = (
        Scorecard.objects.filter(scorecard_scope_q(user))
        .select_related("user__org_unit", "org_unit", "scheme", "assessed_by")
        .prefetch_related(
            Prefetch("lines", queryset=ScorecardLine.objects.order_by("position", "id")),
            Prefetch("scheme__metrics", queryset=SchemeMetric.objects.order_by("position", "id")),
        )
    )
    return get_object_or_404(qs, pk=pk)


def scorecard_periods(*, user: User) -> list[Period]:
    """The periods of the scorecards `user` may see, newest first (at most MAX_PERIODS)."""
    rows = (
        Scorecard.objects.filter(scorecard_scope_q(user))
        .order_by("-period_start", "period_kind")
        .values_list("period_kind", "period_start", "period_end")
        .distinct()[:MAX_PERIODS]
    )
    return [period_between(kind, start, end) for kind, start, end in rows]


def scorecard_units(*, user: User) -> list[Any]:
    """The units `user` may narrow the lists to (a head's units, every unit for an admin)."""
    if user.role == Role.FINANCE and not user.is_superuser:
        return []
    return visible_units(user)


def scorecard_unit_get(*, user: User, pk: int) -> OrgUnit:
    """A unit `user` may narrow the lists to (and publish in), else 404."""
    if not any(unit.id == pk for unit in scorecard_units(user=user)):
        raise Http404
    return OrgUnit.objects.get(pk=pk)


def measured_unit(card: Scorecard) -> OrgUnit | None:
    """The unit a supervisor's scorecard is measured on: the highest unit they head (None for
    a rep's, or for a supervisor heading nothing, measured on their own documents)."""
    if card.scheme.role != SchemeRole.SUPERVISOR:
        return None
    return OrgUnit.objects.filter(head_id=card.user_id, is_active=True).order_by("path").first()


def scheme_ref(pk: int | None) -> ScoringScheme | None:
    """A scheme by id, to narrow a publication to it (what is published stays in the caller's
    rights: `scorecards_publish_approved`)."""
    return ScoringScheme.objects.filter(pk=pk).first() if pk else None


def scorecard_schemes(*, user: User, period: Period | None = None) -> list[ScoringScheme]:
    """The schemes of the scorecards `user` may see (of `period` when given)."""
    qs = Scorecard.objects.filter(scorecard_scope_q(user))
    if period is not None:
        qs = qs.filter(period_kind=period.kind, period_start=period.start)
    ids = qs.order_by().values_list("scheme_id", flat=True).distinct()
    return list(ScoringScheme.objects.filter(pk__in=ids).order_by("role", "name"))


# --- the ranking of a period --------------------------------------------------------------------


@dataclass
class Ranking:
    """The scorecards of one period and scheme in rank order, and how many of each grade."""

    period: Period
    scheme: ScoringScheme
    cards: QuerySet[Scorecard]
    distribution: list[tuple[str, int]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(count for _grade, count in self.distribution)


def ranking(
    *, user: User, period: Period, scheme: ScoringScheme, unit: int | None = None
) -> Ranking:
    """The ranking of `period` under `scheme` in `user`'s sight (the ranks are the company's),
    narrowed to `unit` and below; the grade distribution of the same cards (one aggregate)."""
    filters = ScorecardFilters(
        period_kind=period.kind, period_start=period.start, scheme=scheme.pk, unit=unit
    )
    cards = scorecard_list(user=user, filters=filters)
    counts = dict(cards.order_by().values_list("grade").annotate(n=Count("id")))
    return Ranking(
        period=period,
        scheme=scheme,
        cards=cards,
        distribution=[(grade, counts.get(grade, 0)) for grade in Grade.values],
    )


# --- schemes ------------------------------------------------------------------------------------


def may_manage_schemes(user: Any) -> bool:
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.role == Role.ADMIN)
    )


def scheme_list(*, user: User, active: bool | None = None) -> QuerySet[ScoringScheme]:
    """The scoring schemes, for an administrator (404 for anyone else), with their lines and
    how many scorecards each computed."""
    if not may_manage_schemes(user):
        raise Http404
    qs = (
        ScoringScheme.objects.annotate(scorecard_count=Count("scorecards"))
        .select_related("created_by")
        .prefetch_related(
            Prefetch("metrics", queryset=SchemeMetric.objects.order_by("position", "id"))
        )
        .order_by("-is_active", "role", "period_kind", "name", "id")
    )
    if active is not None:
        qs = qs.filter(is_active=active)
    return qs


def scheme_get(*, user: User, pk: int) -> ScoringScheme:
    return get_object_or_404(scheme_list(user=user), pk=pk)
