"""Reads of the period reviews (目标考核评估), restricted to who may see them:

- an admin (or an integration user) sees every review;
- a head sees every review of the units they head and those below, in any state;
- a member sees the *published* reviews of their own unit and of the units above it (a
  department's published review is told to everyone in it);
- anyone else: the review is absent (404).

The figures frozen by the close job are shaped for the page and the API by `review_figures`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User
from apps.accounts.scope import Scope, headed_paths, scope_of

from .choices import MONEY_METRICS, Metric, ReviewStatus
from .models import PeriodReview
from .periods import period_between


def review_scope_q(user: User) -> Q:
    scope = scope_of(user)
    if scope is Scope.ALL:
        return Q()
    if scope is Scope.NONE:
        return Q(pk__in=[])
    q = Q(pk__in=[])
    for path in headed_paths(user):
        q |= Q(org_unit__path__startswith=path)
    if user.org_unit_id:
        chain = [int(part) for part in user.org_unit.path.split(".") if part]
        q |= Q(status=ReviewStatus.PUBLISHED, org_unit_id__in=chain)
    return q


@dataclass
class ReviewFilters:
    period_kind: str = ""
    status: str = ""
    unit: int | None = None


def review_list(*, user: User, filters: ReviewFilters | None = None) -> QuerySet[PeriodReview]:
    """The reviews `user` may see, newest period first, with the unit and its head joined."""
    f = filters or ReviewFilters()
    qs = (
        PeriodReview.objects.filter(review_scope_q(user))
        .select_related("org_unit", "org_unit__head", "owner")
        .order_by("-period_start", "period_kind", "org_unit__path", "id")
    )
    if f.period_kind:
        qs = qs.filter(period_kind=f.period_kind)
    if f.status:
        qs = qs.filter(status=f.status)
    if f.unit is not None:
        qs = qs.filter(org_unit_id=f.unit)
    return qs


def review_get(*, user: User, pk: int) -> PeriodReview:
    """One review `user` may see, else 404."""
    return get_object_or_404(review_list(user=user), pk=pk)


def review_period_label(review: PeriodReview) -> str:
    return period_between(review.period_kind, review.period_start, review.period_end).label()


# --- the figures, shaped -------------------------------------------------------------------


@dataclass
class FigureRow:
    kind: str  # "unit" or "rep"
    name: str
    target: Decimal | None
    actual: Decimal
    attainment: Decimal | None
    gap: Decimal | None
    user_id: int | None = None

    @property
    def bar(self) -> int:
        """Width of the attainment bar, 0–100 (an over-achievement fills it)."""
        if self.attainment is None:
            return 0
        return max(0, min(100, int(self.attainment)))

    @property
    def level(self) -> str:
        """Bootstrap colour of the bar: reached, close (≥ 80 %), or short."""
        if self.attainment is None:
            return "secondary"
        if self.attainment >= 100:
            return "success"
        return "warning" if self.attainment >= 80 else "danger"


@dataclass
class MetricFigures:
    metric: str
    label: str
    money: bool
    unit: FigureRow
    reps: list[FigureRow] = field(default_factory=list)


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def _row(kind: str, name: str, data: dict, user_id: int | None = None) -> FigureRow:
    return FigureRow(
        kind=kind, name=name, target=_dec(data.get("target")),
        actual=_dec(data.get("actual")) or Decimal("0"), attainment=_dec(data.get("attainment")),
        gap=_dec(data.get("gap")), user_id=user_id,
    )  # fmt: skip


def review_figures(review: PeriodReview) -> list[MetricFigures]:
    """The review's figures per metric in the metrics' order: the unit, then each rep."""
    result = []
    for metric in Metric.values:
        data = (review.figures or {}).get(metric)
        if not data:
            continue
        result.append(
            MetricFigures(
                metric=metric,
                label=str(Metric(metric).label),
                money=metric in MONEY_METRICS,
                unit=_row("unit", review.org_unit.name, data.get("unit") or {}),
                reps=[
                    _row("rep", rep.get("name", ""), rep, rep.get("user"))
                    for rep in data.get("reps", [])
                ],
            )
        )
    return result
