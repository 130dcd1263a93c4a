"""Reads of the customer satisfaction surveys (客户满意度).

Scope by the survey's owner (`SatisfactionSurvey.objects.visible_to`): a rep their own, a
head their subtree's, an admin everything; anyone else finds nothing (404).

The figures of a set of surveys (`survey_stats`, one query), the same on the list page, in
its Excel file and on the customer page:

- **average satisfaction**: the mean score (1–5) of the answered surveys, two decimals;
- **NPS** (net promoter score): of the answers with a likelihood to recommend, the share of
  promoters (9–10) minus the share of detractors (0–6), in points from −100 to 100, one
  decimal; none without such answers;
- the response rate: answered / sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import OrgUnit, User

from .choices import SurveyStatus
from .models import SatisfactionSurvey
from .surveys import token_hash

PROMOTER_MIN = 9
DETRACTOR_MAX = 6


@dataclass
class SurveyFilters:
    """Sent from `start` to `end` (days, both included), of reps in `unit` (and below, by
    their current unit), of one `rep`, with one `score`, one `trigger`, answered or not."""

    start: date | None = None
    end: date | None = None
    unit: OrgUnit | None = None
    rep: int | None = None
    score: int | None = None
    trigger: str = ""
    answered: bool | None = None


def day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def survey_list(*, user: User, filters: SurveyFilters | None = None) -> QuerySet:
    """The surveys `user` may see, newest first, with the customer, the contact, the owner,
    the contract and the visit joined."""
    f = filters or SurveyFilters()
    qs = SatisfactionSurvey.objects.visible_to(user).select_related(
        "customer", "contact", "owner", "owner__org_unit", "contract", "visit_record",
        "follow_up_plan",
    )  # fmt: skip
    if f.start is not None:
        qs = qs.filter(sent_at__gte=day_start(f.start))
    if f.end is not None:
        qs = qs.filter(sent_at__lt=day_start(f.end + timedelta(days=1)))
    if f.unit is not None:
        qs = qs.filter(owner__org_unit__path__startswith=f.unit.path)
    if f.rep is not None:
        qs = qs.filter(owner_id=f.rep)
    if f.score is not None:
        qs = qs.filter(score=f.score)
    if f.trigger:
        qs = qs.filter(trigger=f.trigger)
    if f.answered is True:
        qs = qs.filter(status=SurveyStatus.ANSWERED)
    elif f.answered is False:
        qs = qs.filter(status=SurveyStatus.SENT)
    return qs.order_by("-sent_at", "-id")


def survey_get(*, user: User, pk: int) -> SatisfactionSurvey:
    """One survey `user` may see, else 404."""
    return get_object_or_404(survey_list(user=user), pk=pk)


def public_survey(token: str) -> SatisfactionSurvey:
    """The survey of a link's token (no login), else 404."""
    qs = SatisfactionSurvey.objects.select_related("customer", "owner", "contract", "visit_record")
    return get_object_or_404(qs, token_hash=token_hash(token))


@dataclass
class SurveyStats:
    sent: int
    answered: int
    average: Decimal | None
    promoters: int
    passives: int
    detractors: int

    @property
    def rated(self) -> int:
        """Answers with a likelihood to recommend."""
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> Decimal | None:
        if not self.rated:
            return None
        value = Decimal(100 * (self.promoters - self.detractors)) / Decimal(self.rated)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def response_rate(self) -> Decimal | None:
        if not self.sent:
            return None
        value = Decimal(100 * self.answered) / Decimal(self.sent)
        return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def survey_stats(qs: QuerySet) -> SurveyStats:
    """The figures of a set of surveys (see the module docstring), in one query."""
    answered = Q(status=SurveyStatus.ANSWERED)
    found = qs.order_by().aggregate(
        sent=Count("pk"),
        answered=Count("pk", filter=answered),
        average=Avg("score", filter=answered),
        promoters=Count("pk", filter=answered & Q(nps__gte=PROMOTER_MIN)),
        passives=Count("pk", filter=answered & Q(nps__gt=DETRACTOR_MAX, nps__lt=PROMOTER_MIN)),
        detractors=Count("pk", filter=answered & Q(nps__lte=DETRACTOR_MAX)),
    )
    average = found["average"]
    if average is not None:
        average = Decimal(str(average)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return SurveyStats(
        sent=found["sent"], answered=found["answered"], average=average,
        promoters=found["promoters"], passives=found["passives"],
        detractors=found["detractors"],
    )  # fmt: skip


LATEST_ON_CUSTOMER = 5


@dataclass
class CustomerSatisfaction:
    stats: SurveyStats
    latest: list[SatisfactionSurvey]


def customer_satisfaction(*, user: User, customer) -> CustomerSatisfaction:
    """The satisfaction panel of the customer page: the figures of the customer's surveys
    `user` may see and the latest answers (two queries)."""
    qs = survey_list(user=user).filter(customer=customer)
    latest = list(
        qs.filter(status=SurveyStatus.ANSWERED).order_by("-answered_at", "-id")[:LATEST_ON_CUSTOMER]
    )
    return CustomerSatisfaction(stats=survey_stats(qs), latest=latest)


def survey_reps(*, user: User) -> QuerySet[User]:
    """The reps `user` may filter the surveys by: the owners in their scope (none for a rep,
    who sees only their own)."""
    from apps.accounts.scope import Scope, scope_of, visible_users

    if scope_of(user) not in (Scope.ALL, Scope.SUBTREE):
        return User.objects.none()
    return (
        visible_users(user)
        .filter(is_active=True, role__in=["rep", "supervisor", "manager"])
        .select_related("org_unit")
        .order_by("last_name", "first_name", "username")
    )


def survey_units(*, user: User) -> QuerySet[OrgUnit]:
    """The units `user` may filter the surveys by: everything for an admin, the units they
    head and those below for a head, none for a rep."""
    from apps.accounts.scope import Scope, headed_paths, scope_of

    scope = scope_of(user)
    qs = OrgUnit.objects.filter(is_active=True).order_by("path")
    if scope is Scope.ALL:
        return qs
    if scope is not Scope.SUBTREE:
        return qs.none()
    q = Q()
    for path in headed_paths(user):
        q |= Q(path__startswith=path)
    return qs.filter(q)
