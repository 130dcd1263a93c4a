"""Reads of visit plans and records, restricted to the caller's data scope (DESIGN.md "Data
scope": a rep sees their own, a head their subtree's, admins everything), with everything a
page or the API shows joined, so that no list causes N+1 queries.

The week calendar (`calendar_week`) is two queries whatever the number of reps and plans: the
week's plans and the week's unplanned records of the people shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import visible_users
from apps.customers.models import Customer
from apps.customers.selectors import CustomerFilters, customer_list
from apps.leads.choices import LeadStatus
from apps.leads.models import Lead
from apps.leads.periods import period_bounds
from apps.leads.selectors import lead_list

from .models import VisitPlan, VisitRecord

# --- plans ---------------------------------------------------------------------------------


def visit_plan_list(
    *,
    user: User,
    owner: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    status: str = "",
) -> QuerySet[VisitPlan]:
    """Plans in `user`'s scope, by date and route order, with the rep, the customer or lead,
    the opportunity and the record joined."""
    qs = VisitPlan.objects.visible_to(user).select_related(
        "owner", "customer", "lead", "opportunity", "record"
    )
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if date_from is not None:
        qs = qs.filter(planned_date__gte=date_from)
    if date_to is not None:
        qs = qs.filter(planned_date__lte=date_to)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("planned_date", "route_order", "planned_time", "id")


def visit_plan_get(*, user: User, pk: int) -> VisitPlan:
    """One plan in `user`'s scope, else 404."""
    return get_object_or_404(visit_plan_list(user=user), pk=pk)


# --- records -------------------------------------------------------------------------------


def visit_record_list(
    *,
    user: User,
    owner: int | None = None,
    search: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    effective: bool | None = None,
    customer: int | None = None,
) -> QuerySet[VisitRecord]:
    """Records in `user`'s scope, newest visit first, with the rep, the customer or lead, the
    opportunity and the plan joined. `search` matches part of the customer's or lead's name
    (the customer name by its trigram index)."""
    qs = VisitRecord.objects.visible_to(user).select_related(
        "owner", "customer", "lead", "opportunity", "plan"
    )
    if owner is not None:
        qs = qs.filter(owner_id=owner)
    if customer is not None:
        qs = qs.filter(customer_id=customer)
    term = search.strip()
    if term:
        qs = qs.filter(_search_q(term))
    if date_from is not None:
        qs = qs.filter(started_at__gte=period_bounds(date_from, date_from)[0])
    if date_to is not None:
        qs = qs.filter(started_at__lt=period_bounds(date_to, date_to)[1])
    if effective is not None:
        qs = qs.filter(is_effective=effective)
    return qs.order_by("-started_at", "-id")


# A search names at most this many customers and leads for their records to be looked up by
# id; a search that names more (a common word) filters the records in their order instead.
SEARCH_IDS = 1000


def _search_q(term: str, *, limit: int = SEARCH_IDS) -> Q:
    """Records of a customer whose name contains `term` (ILIKE, the trigram index) or of a lead
    whose company name does (as `icontains`). A rare name is a few customers or leads, found
    by their name indexes first: their records by the customer and lead indexes, where the
    join would walk the scope's records newest first looking for them (2M at scale). Two
    queries of at most `limit` + 1 ids."""
    customers = list(
        Customer.objects.filter(name__ilike_contains=term)
        .order_by()
        .values_list("pk", flat=True)[: limit + 1]
    )
    leads = list(
        Lead.objects.filter(company_name__ngram_contains=term)  # = icontains, by the n-grams
        .order_by()
        .values_list("pk", flat=True)[: limit + 1]
    )
    if len(customers) <= limit and len(leads) <= limit:
        return Q(customer_id__in=customers) | Q(lead_id__in=leads)
    return Q(customer__name__ilike_contains=term) | Q(lead__company_name__icontains=term)


def visit_record_get(*, user: User, pk: int) -> VisitRecord:
    """One record in `user`'s scope, else 404."""
    return get_object_or_404(visit_record_list(user=user), pk=pk)


# --- the week calendar ---------------------------------------------------------------------


def week_start(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


@dataclass
class CalendarDay:
    date: date
    plans: list[VisitPlan] = field(default_factory=list)
    # Visits logged that day without a plan (shown as done).
    records: list[VisitRecord] = field(default_factory=list)

    @property
    def is_today(self) -> bool:
        return self.date == timezone.localdate()

    @property
    def is_past(self) -> bool:
        return self.date < timezone.localdate()

    @property
    def count(self) -> int:
        return len(self.plans) + len(self.records)


@dataclass
class CalendarRow:
    """One rep's week."""

    owner: User
    days: list[CalendarDay]


@dataclass
class CalendarWeek:
    start: date
    rows: list[CalendarRow]

    @property
    def end(self) -> date:
        return self.start + timedelta(days=6)

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range(7)]

    @property
    def previous(self) -> date:
        return self.start - timedelta(days=7)

    @property
    def next(self) -> date:
        return self.start + timedelta(days=7)


def calendar_week(*, user: User, start: date, owners: list[User]) -> CalendarWeek:
    """The week from Monday `start` for each of `owners` (already checked to be in `user`'s
    scope): each day's plans in route order and the visits logged without a plan. Two
    queries."""
    start = week_start(start)
    end = start + timedelta(days=6)
    ids = [o.pk for o in owners]
    rows = {
        o.pk: CalendarRow(owner=o, days=[CalendarDay(start + timedelta(days=i)) for i in range(7)])
        for o in owners
    }
    plans = visit_plan_list(user=user, date_from=start, date_to=end).filter(owner_id__in=ids)
    for plan in plans:
        rows[plan.owner_id].days[(plan.planned_date - start).days].plans.append(plan)
    first, after = period_bounds(start, end)
    records = (
        visit_record_list(user=user)
        .filter(owner_id__in=ids, plan__isnull=True, started_at__gte=first, started_at__lt=after)
        .order_by("started_at", "id")
    )
    for record in records:
        day = timezone.localtime(record.started_at).date()
        rows[record.owner_id].days[(day - start).days].records.append(record)
    return CalendarWeek(start=start, rows=[rows[pk] for pk in ids])


def calendar_people(*, user: User) -> QuerySet[User]:
    """The people whose calendar `user` may open: themselves and the active reps, supervisors
    and managers in their scope, by username."""
    return (
        visible_users(user)
        .filter(is_active=True, role__in=[Role.REP, Role.SUPERVISOR, Role.MANAGER])
        .select_related("org_unit")
        .order_by("username")
    )


def team_members(*, user: User, team: OrgUnit) -> list[User]:
    """The active reps of `team` and the units below it that `user` may see, by username."""
    return list(
        calendar_people(user=user).filter(role=Role.REP, org_unit__path__startswith=team.path)
    )


# --- the customer / lead picker ------------------------------------------------------------

PICKER_LIMIT = 10


def plan_targets(*, user: User, search: str) -> tuple[list[Customer], list[Lead]]:
    """Customers and open leads `user` may see whose name contains `search` (at most ten of
    each): the search-as-you-type picker of the plan and record forms."""
    term = search.strip()
    if not term:
        return [], []
    customers = list(
        customer_list(user=user, filters=CustomerFilters(search=term)).filter(owner__isnull=False)[
            :PICKER_LIMIT
        ]
    )
    leads = list(
        lead_list(user=user, search=term)
        .exclude(status__in=[LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED])
        .order_by("company_name", "id")[:PICKER_LIMIT]
    )
    return customers, leads


def visible_customer(*, user: User, pk: int) -> Customer | None:
    """The customer `pk` if `user` may see it (their scope or the public pool), else None."""
    return customer_list(user=user).filter(pk=pk).first()


def visible_lead(*, user: User, pk: int) -> Lead | None:
    return lead_list(user=user).filter(pk=pk).first()


def customer_opportunities(*, user: User, customer_id: int | None) -> list:
    """The opportunities of a customer `user` may see (for the plan and record forms' choice),
    newest change first, at most 50."""
    if customer_id is None:
        return []
    from apps.opportunities.models import Opportunity

    return list(
        Opportunity.objects.visible_to(user)
        .filter(customer_id=customer_id)
        .order_by("-updated_at", "-id")[:50]
    )
