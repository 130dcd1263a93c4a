"""Reads of opportunities (商机), scoped (DESIGN.md "Data scope": a rep sees their deals, a head
of units also those of everyone below, admins and integrations all), and the pipeline board.

Every list joins the customer and the owner and carries the stage's probability and the
weighted amount as annotations, so no page or endpoint issues a query per row; the board reads
its columns in a constant number of queries whatever the number of deals.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone

from apps.accounts.models import OrgUnit, User
from apps.customers.models import Customer

from .choices import CLOSED_STAGES, OPEN_STAGES, Stage
from .models import Opportunity, StageChange, StageSetting

CENT = Decimal("0.01")
BOARD_CARDS_PER_STAGE = 50
# What a card shows (the board page and the API's cards): the deal without its long texts,
# the customer's name and the owner's name — not the whole customer and user rows.
BOARD_CARD_FIELDS = (
    *(
        f.name
        for f in Opportunity._meta.concrete_fields
        if f.name not in ("needs_analysis", "description")
    ),
    "customer__name", "owner__username", "owner__first_name", "owner__last_name",
)  # fmt: skip


@dataclass(frozen=True)
class OpportunityFilters:
    """The filters of the deal list, the board and the API list.

    `close_month` is the first day of a month (expected close date in it); `state` is "open",
    "closed" or "" (both); `stuck` keeps the open deals whose stuck alert went out."""

    search: str = ""
    stage: str = ""
    owner: int | None = None
    team: int | None = None
    close_month: date | None = None
    state: str = ""
    stuck: bool = False


def _probability() -> Subquery:
    return Subquery(
        StageSetting.objects.filter(stage=OuterRef("stage")).values("probability")[:1],
        output_field=IntegerField(),
    )


def _month_bounds(first: date) -> tuple[date, date]:
    start = first.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _filter(qs: QuerySet[Opportunity], filters: OpportunityFilters) -> QuerySet[Opportunity]:
    term = filters.search.strip()[:100]
    if term:
        # The deal's name by its trigram index, the customer's name by the customers' one.
        customers = Customer.objects.filter(name__ilike_contains=term).values("pk")
        qs = qs.filter(Q(name__icontains=term) | Q(customer_id__in=customers))
    if filters.stage:
        qs = qs.filter(stage=filters.stage)
    if filters.owner is not None:
        qs = qs.filter(owner_id=filters.owner)
    if filters.team is not None:
        path = OrgUnit.objects.filter(pk=filters.team).values_list("path", flat=True).first()
        qs = qs.filter(owner__org_unit__path__startswith=path) if path else qs.none()
    if filters.close_month is not None:
        start, end = _month_bounds(filters.close_month)
        qs = qs.filter(expected_close_date__gte=start, expected_close_date__lt=end)
    if filters.state == "open":
        qs = qs.filter(stage__in=OPEN_STAGES)
    elif filters.state == "closed":
        qs = qs.filter(stage__in=CLOSED_STAGES)
    if filters.stuck:
        qs = qs.filter(stage__in=OPEN_STAGES, stuck_notified_at__isnull=False)
    return qs


def opportunity_list(
    *, user: User, filters: OpportunityFilters | None = None
) -> QuerySet[Opportunity]:
    """Deals `user` may see, customer and owner joined, with `probability` (the stage's, %)
    and `weighted_amount` (amount × probability) annotated; newest change first."""
    qs = Opportunity.objects.visible_to(user).select_related("customer", "owner")
    qs = _filter(qs, filters or OpportunityFilters())
    probability = Coalesce(_probability(), Value(0))
    return qs.annotate(
        probability=probability,
        weighted_amount=ExpressionWrapper(
            F("amount") * probability / Value(100),
            output_field=DecimalField(max_digits=16, decimal_places=4),
        ),
    ).order_by("-updated_at", "-id")


def opportunity_get(*, user: User, pk: int) -> Opportunity:
    """One deal in `user`'s scope (contact and lead joined), else 404."""
    return get_object_or_404(opportunity_list(user=user).select_related("contact", "lead"), pk=pk)


def stage_settings() -> dict[str, StageSetting]:
    """The admin table of probabilities and expected days, by stage (one query)."""
    return {s.stage: s for s in StageSetting.objects.all()}


def is_stuck(opportunity: Opportunity, settings_by_stage: dict[str, StageSetting],
             *, now: datetime | None = None) -> bool:  # fmt: skip
    """In an open stage longer than the stage's expected days × the stuck factor (the rule of
    the nightly job, read without a query)."""
    setting = settings_by_stage.get(opportunity.stage)
    if opportunity.stage not in OPEN_STAGES or setting is None or not setting.expected_days:
        return False
    limit = timedelta(days=setting.expected_days * float(settings.OPPORTUNITY_STUCK_FACTOR))
    return (now or timezone.now()) - opportunity.stage_entered_at > limit


# --- stage history -------------------------------------------------------------------------


@dataclass(frozen=True)
class StageStay:
    """One row of a deal's stage history with its duration (to now for the current stay)."""

    change: StageChange
    duration: timedelta
    current: bool

    @property
    def days(self) -> float:
        return round(self.duration.total_seconds() / 86400, 1)


def stage_history(*, opportunity: Opportunity, now: datetime | None = None) -> list[StageStay]:
    """The stays of `opportunity` in its stages, oldest first, with who moved it (one query)."""
    now = now or timezone.now()
    rows = StageChange.objects.filter(opportunity=opportunity).select_related("entered_by")
    return [
        StageStay(
            change=row,
            duration=(row.left_at or now) - row.entered_at,
            current=row.left_at is None,
        )
        for row in rows.order_by("entered_at", "id")
    ]


# --- the board ------------------------------------------------------------------------------


@dataclass
class BoardColumn:
    """One open stage of the board: its first cards, how many more, the amount total and the
    weighted total (total × the stage's probability)."""

    stage: str
    label: str
    probability: int
    count: int = 0
    total: Decimal = Decimal("0.00")
    weighted: Decimal = Decimal("0.00")
    cards: list[Opportunity] = field(default_factory=list)

    @property
    def more(self) -> int:
        return max(0, self.count - len(self.cards))


@dataclass(frozen=True)
class ClosedSummary:
    """Deals won and lost this month (by the date they closed)."""

    won: int
    won_amount: Decimal
    lost: int


@dataclass
class Board:
    columns: list[BoardColumn]
    closed: ClosedSummary
    settings: dict[str, StageSetting]

    @property
    def total(self) -> Decimal:
        return sum((c.total for c in self.columns), Decimal("0.00"))

    @property
    def weighted(self) -> Decimal:
        return sum((c.weighted for c in self.columns), Decimal("0.00"))


def board(
    *, user: User, filters: OpportunityFilters | None = None,
    per_stage: int = BOARD_CARDS_PER_STAGE, today: date | None = None,
) -> Board:  # fmt: skip
    """The pipeline board (看板): per open stage the first `per_stage` cards (the soonest
    expected close first), the count, the amount total and the weighted total; and the deals
    won and lost this month. Four queries (six with a team filter), whatever the rows."""
    filters = filters or OpportunityFilters()
    by_stage = stage_settings()
    scoped = Opportunity.objects.visible_to(user)
    open_deals = _filter(scoped, OpportunityFilters(
        search=filters.search, owner=filters.owner, team=filters.team,
        close_month=filters.close_month,
    )).filter(stage__in=OPEN_STAGES)  # fmt: skip
    columns = {
        str(stage): BoardColumn(
            stage=str(stage),
            label=str(stage.label),
            probability=by_stage[stage].probability if stage in by_stage else 0,
        )
        for stage in OPEN_STAGES
    }
    # Counts of * or of the stage, not of the id: the totals, like the closed deals below, are
    # read from an index alone (`opportunity_open_forecast`, `opportunity_closed`).
    totals = open_deals.order_by().values("stage").annotate(n=Count("*"), total=Sum("amount"))
    for row in totals:
        column = columns[row["stage"]]
        column.count, column.total = row["n"], row["total"] or Decimal("0.00")
        column.weighted = (column.total * column.probability / Decimal(100)).quantize(
            CENT, rounding=ROUND_HALF_UP
        )
    # The first cards of each column are ranked on the deals alone; only those are read in
    # full with their customer and owner (a team has thousands of open deals).
    first_cards = (
        open_deals.order_by()
        .annotate(
            board_rank=Window(
                RowNumber(),
                partition_by=[F("stage")],
                order_by=[F("expected_close_date").asc(nulls_last=True), F("id").asc()],
            )
        )
        .filter(board_rank__lte=per_stage)
        .values_list("pk", flat=True)
    )
    # Read as a list first: inside one statement the planner cannot tell that the window
    # keeps a few rows per stage (it estimated thousands and scanned the whole table).
    ranked = (
        Opportunity.objects.filter(pk__in=list(first_cards))
        .select_related("customer", "owner")
        .only(*BOARD_CARD_FIELDS)
        .order_by("stage", F("expected_close_date").asc(nulls_last=True), "id")
    )
    for card in ranked:
        columns[card.stage].cards.append(card)
    today = today or timezone.localdate()
    start = timezone.make_aware(datetime.combine(today.replace(day=1), datetime.min.time()))
    end_day = _month_bounds(today)[1]
    end = timezone.make_aware(datetime.combine(end_day, datetime.min.time()))
    closed_deals = _filter(scoped, OpportunityFilters(
        search=filters.search, owner=filters.owner, team=filters.team,
    )).filter(closed_at__gte=start, closed_at__lt=end)  # fmt: skip
    closed = closed_deals.aggregate(
        won=Count("stage", filter=Q(stage=Stage.WON)),
        won_amount=Sum("amount", filter=Q(stage=Stage.WON)),
        lost=Count("stage", filter=Q(stage=Stage.LOST)),
    )
    return Board(
        columns=list(columns.values()),
        closed=ClosedSummary(
            won=closed["won"],
            won_amount=closed["won_amount"] or Decimal("0.00"),
            lost=closed["lost"],
        ),
        settings=by_stage,
    )


# --- pickers ---------------------------------------------------------------------------------

PICKER_LIMIT = 20


def customer_choices(*, user: User, search: str, limit: int = PICKER_LIMIT) -> list[Customer]:
    """Customers `user` may open a deal for whose name contains `search` (the form's
    search-as-you-type picker; never the whole table)."""
    from apps.customers.selectors import customer_editable_q

    term = search.strip()[:100]
    if not term:
        return []
    qs = Customer.objects.filter(customer_editable_q(user), name__ilike_contains=term)
    return list(qs.order_by("name", "id")[:limit])


def owner_choices(*, user: User, limit: int = 200) -> list[User]:
    """The people whose deals `user` may filter by (their scope; a rep only themself)."""
    from apps.accounts.scope import visible_users

    return list(
        visible_users(user)
        .filter(is_active=True, role__in=["rep", "supervisor", "manager"])
        .order_by("last_name", "first_name", "username")[:limit]
    )


def team_choices(*, user: User) -> list[OrgUnit]:
    """Org units `user` may filter by: those they head and below (all for company-wide)."""
    from .figures import figure_teams

    return list(figure_teams(user=user))
