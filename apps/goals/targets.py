"""Targets (目标) and their decomposition (目标分解): the write services, the rights and the
arithmetic of a split.

A target is set for one metric, one period and one scope (the company, an org unit or a rep).
It splits into children down the org tree (a unit's direct child units, or a team's reps) or
down the calendar (a year's quarters, a quarter's months, a month's weeks clipped to the
month), never both at once. The children of a split add up to the parent exactly: amounts are
Decimals in whole quanta (a cent for money metrics, one for counted metrics) and the quanta
left by rounding go one at a time to the children with the largest remainders (the first
children for an even split). A child edited later may go down, leaving something to allocate
(shown on the page), but the children never add up to more than their parent.

Every amount a target has had is a `TargetVersion` (who, when, why).

Rights (seed 004 flow 1): an admin sets any target; a manager or supervisor sets the targets
of the units they head (their subtree) and of the reps in them, and the company's targets if
they head the company's top unit; reps and finance do not set targets (a rep asks for an
adjustment instead).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import headed_paths
from apps.core.errors import Conflict

from . import actuals
from .choices import MONEY_METRICS, Metric, PeriodKind, ScopeKind, SplitMethod, TargetStatus
from .models import Target, TargetVersion
from .periods import Period, period_between, period_of

ZERO = Decimal("0")
ONE = Decimal("1")
CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("99999999999999.99")  # max_digits=16, decimal_places=2
UNIQUE_LIVE = "target_one_live_per_scope"
SETTER_ROLES = frozenset({Role.SUPERVISOR, Role.MANAGER})


class Direction(models.TextChoices):
    ORG = "org", gettext_lazy("Down the org tree")
    CALENDAR = "calendar", gettext_lazy("Down the calendar")


# --- amounts -----------------------------------------------------------------------------


def is_money(metric: str) -> bool:
    return metric in MONEY_METRICS


def quantum(metric: str) -> Decimal:
    """The smallest step of a metric's targets: a cent of money, one customer or visit."""
    return CENT if is_money(metric) else ONE


def format_amount(metric: str, value: Decimal) -> str:
    """An amount as shown in messages: money with 2 decimals, counts as whole numbers."""
    return number_format(value, 2 if is_money(metric) else 0, use_l10n=True, force_grouping=True)


def clean_amount(metric: str, value: Any, *, field: str = "amount", part: str = "") -> Decimal:
    """`value` as a target amount of `metric` (to the cent, or whole for a count), or a
    ValidationError on `field` (naming the `part` of a split when given)."""
    prefix = f"{part}: " if part else ""
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value).strip() or "0")
    except (InvalidOperation, ValueError):
        raise ValidationError({field: prefix + _("Enter a number.")}) from None
    if not amount.is_finite():
        raise ValidationError({field: prefix + _("Enter a number.")})
    if amount < 0:
        raise ValidationError({field: prefix + _("A target cannot be negative.")})
    if amount > MAX_AMOUNT:
        raise ValidationError({field: prefix + _("The amount is too large.")})
    step = quantum(metric)
    if amount != amount.quantize(step):
        if step == ONE:
            message = _("%(metric)s is counted in whole numbers.") % {
                "metric": Metric(metric).label
            }
        else:
            message = _("Give the amount to the cent.")
        raise ValidationError({field: prefix + message})
    return amount.quantize(CENT)


def split(total: Decimal, weights: Sequence[Decimal], step: Decimal) -> list[Decimal]:
    """`total` split in proportion to `weights`, in whole `step`s, adding up to `total` exactly.

    Largest remainder: each part gets the whole steps of its exact share, and the steps left
    go one at a time to the parts with the largest remainders (ties: the first parts). Equal
    weights give an even split with the extra steps on the first parts (100.00 into 3: 33.34,
    33.33, 33.33). Negative weights count as zero; all-zero weights split evenly.
    """
    if not weights:
        raise ValueError("nothing to split into")
    units = Fraction(total) / Fraction(step)
    if units.denominator != 1:
        raise ValueError(f"{total} is not a whole number of {step}")
    clean = [max(Fraction(Decimal(w)), Fraction(0)) for w in weights]
    total_weight = sum(clean)
    if total_weight == 0:
        clean, total_weight = [Fraction(1)] * len(weights), Fraction(len(weights))
    shares = [units * w / total_weight for w in clean]
    parts = [math.floor(share) for share in shares]
    left = int(units) - sum(parts)
    by_remainder = sorted(range(len(parts)), key=lambda i: (-(shares[i] - parts[i]), i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return [(Decimal(part) * step).quantize(CENT) for part in parts]


# --- labels ------------------------------------------------------------------------------


def target_period(target: Target) -> Period:
    return period_between(target.period_kind, target.period_start, target.period_end)


def period_label(target: Target) -> str:
    return target_period(target).label()


def scope_name(target: Target) -> str:
    """The company, the unit's name or the rep's name (org_unit / user select_related)."""
    if target.scope_kind == ScopeKind.REP:
        return target.user.display_name if target.user_id else "—"
    if target.scope_kind == ScopeKind.UNIT:
        return target.org_unit.name if target.org_unit_id else "—"
    return _("Company")


# --- rights ------------------------------------------------------------------------------


def _is_admin(user: Any) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def _active(user: Any) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.is_active)


def may_set_target(
    user: Any,
    *,
    scope_kind: str,
    org_unit: OrgUnit | None = None,
    rep: User | None = None,
) -> bool:
    """Whether `user` may set (create, change, split) a target of this scope.

    A rep's target counts for `org_unit` (the unit the rep was in when it was set), or the
    rep's current unit when none is given. Nobody sets their own rep target but an admin."""
    if not _active(user):
        return False
    if _is_admin(user):
        return True
    if user.role not in SETTER_ROLES:
        return False
    paths = headed_paths(user)
    if not paths:
        return False
    if scope_kind == ScopeKind.COMPANY:
        # Heading a top unit (a path of one segment) is heading the company.
        return any(path.count(".") == 1 for path in paths)
    if scope_kind == ScopeKind.REP:
        if rep is None or rep.pk == user.pk:
            return False
        org_unit = org_unit or rep.org_unit
    if org_unit is None:
        return False
    return any(org_unit.path.startswith(path) for path in paths)


def can_set_target(user: Any, target: Target) -> bool:
    return may_set_target(
        user, scope_kind=target.scope_kind, org_unit=target.org_unit, rep=target.user
    )


def may_set_any_target(user: Any) -> bool:
    """Whether the "New target" button shows: an admin, or a supervisor/manager heading a
    unit."""
    if not _active(user):
        return False
    return _is_admin(user) or (user.role in SETTER_ROLES and bool(headed_paths(user)))


# --- decomposition: the parts ------------------------------------------------------------


@dataclass(frozen=True)
class ChildSpec:
    """One part of a split: its key (the manual split's input), label, scope and period."""

    key: str
    label: str
    scope_kind: str
    period: Period
    org_unit: OrgUnit | None = None
    user: User | None = None


def company_top_unit() -> OrgUnit | None:
    return OrgUnit.objects.filter(parent__isnull=True, is_active=True).order_by("path").first()


def _calendar_key(day: date) -> str:
    return day.isoformat()


def _unit_key(unit_id: int) -> str:
    return f"unit-{unit_id}"


def _rep_key(user_id: int) -> str:
    return f"rep-{user_id}"


def direction_of(parent: Target, child: Target) -> str:
    """A calendar child has a shorter period; an org child the same period, a smaller scope."""
    return Direction.CALENDAR if child.period_kind != parent.period_kind else Direction.ORG


def child_key(parent: Target, child: Target) -> str:
    if direction_of(parent, child) == Direction.CALENDAR:
        return _calendar_key(child.period_start)
    if child.scope_kind == ScopeKind.REP:
        return _rep_key(child.user_id)
    return _unit_key(child.org_unit_id)


def child_specs(target: Target, direction: str) -> list[ChildSpec]:
    """The parts `target` splits into in `direction`, in display order; a ValidationError on
    "direction" when there are none (a week, a rep down the org tree, a unit with neither
    child units nor reps)."""
    period = target_period(target)
    if direction == Direction.CALENDAR:
        periods = period.children()
        if not periods:
            raise ValidationError({"direction": _("A week cannot be split down the calendar.")})
        return [
            ChildSpec(
                key=_calendar_key(p.start),
                label=p.label(),
                scope_kind=target.scope_kind,
                period=p,
                org_unit=target.org_unit,
                user=target.user,
            )
            for p in periods
        ]
    if direction != Direction.ORG:
        raise ValidationError({"direction": _("Choose down the org tree or down the calendar.")})
    if target.scope_kind == ScopeKind.REP:
        raise ValidationError({"direction": _("A rep's target cannot be split down the org tree.")})
    base = target.org_unit if target.scope_kind == ScopeKind.UNIT else company_top_unit()
    if base is None:
        raise ValidationError({"direction": _("There is no org unit to split the target into.")})
    units = list(OrgUnit.objects.filter(parent=base, is_active=True).order_by("path"))
    if units:
        return [
            ChildSpec(
                key=_unit_key(u.pk),
                label=u.name,
                scope_kind=ScopeKind.UNIT,
                period=period,
                org_unit=u,
            )
            for u in units
        ]
    reps = list(
        User.objects.filter(org_unit=base, role=Role.REP, is_active=True)
        .select_related("org_unit")
        .order_by("username", "pk")
    )
    if not reps:
        raise ValidationError(
            {
                "direction": _("%(unit)s has no active units or reps to split the target into.")
                % {"unit": base.name}
            }
        )
    return [
        ChildSpec(
            key=_rep_key(r.pk),
            label=r.display_name,
            scope_kind=ScopeKind.REP,
            period=period,
            org_unit=base,
            user=r,
        )
        for r in reps
    ]


def available_directions(target: Target) -> list[str]:
    """The directions `target` may split in now: the one it is already split in, else every
    direction its period and scope allow."""
    children = list(target.children.only("period_kind"))
    if children:
        return [direction_of(target, children[0])]
    found = []
    if target.scope_kind != ScopeKind.REP:
        found.append(Direction.ORG.value)
    if target.period_kind != PeriodKind.WEEK:
        found.append(Direction.CALENDAR.value)
    return found


def _year_earlier(period: Period) -> Period:
    """The same stretch a year earlier; a (possibly clipped) week moves back 52 weeks so it
    keeps its weekdays."""
    if period.kind == PeriodKind.WEEK:
        shift = timedelta(weeks=52)
        return Period(period.start - shift, period.end - shift, period.kind)
    return period.same_last_year()


def seasonal_weights(target: Target, direction: str, specs: Sequence[ChildSpec]) -> list[Decimal]:
    """Last year's actuals of the target's metric per part: down the calendar, the target's
    scope over each part's period a year earlier (one query per part); down the org tree,
    each unit or rep over the target's period a year earlier (one query)."""
    if direction == Direction.CALENDAR:
        owners = [target.user_id] if target.scope_kind == ScopeKind.REP else None
        weights = []
        for spec in specs:
            earlier = _year_earlier(spec.period)
            figures = actuals.compute(target.metric, earlier.start, earlier.end, owner_ids=owners)
            weights.append(
                figures.scope(target.scope_kind, unit_id=target.org_unit_id, user_id=target.user_id)
            )
        return weights
    earlier = _year_earlier(target_period(target))
    figures = actuals.compute(target.metric, earlier.start, earlier.end)
    return [
        figures.rep(spec.user.pk) if spec.scope_kind == ScopeKind.REP
        else figures.unit(spec.org_unit.pk)
        for spec in specs
    ]  # fmt: skip


def even_amounts(target: Target, specs: Sequence[ChildSpec]) -> list[Decimal]:
    return split(target.amount, [ONE] * len(specs), quantum(target.metric))


def _manual_amounts(
    target: Target, specs: Sequence[ChildSpec], manual: Mapping[str, Any] | None
) -> list[Decimal]:
    if not isinstance(manual, Mapping):
        raise ValidationError({"manual": _("Give an amount for each part.")})
    known = {spec.key for spec in specs}
    unknown = sorted(str(key) for key in manual if key not in known)
    if unknown:
        raise ValidationError(
            {"manual": _("Not a part of this split: %(keys)s.") % {"keys": ", ".join(unknown)}}
        )
    amounts = [
        clean_amount(target.metric, manual.get(spec.key, ZERO), field="manual", part=spec.label)
        for spec in specs
    ]
    total = sum(amounts, ZERO)
    difference = target.amount - total
    values = {
        "sum": format_amount(target.metric, total),
        "target": format_amount(target.metric, target.amount),
        "left": format_amount(target.metric, abs(difference)),
    }
    if difference > 0:
        raise ValidationError(
            {
                "manual": _(
                    "The parts add up to %(sum)s, not %(target)s: %(left)s is left to allocate."
                )
                % values
            }
        )
    if difference < 0:
        raise ValidationError(
            {
                "manual": _(
                    "The parts add up to %(sum)s, not %(target)s: %(left)s over the target."
                )
                % values
            }
        )
    return amounts


def split_amounts(
    target: Target,
    direction: str,
    method: str,
    specs: Sequence[ChildSpec],
    manual: Mapping[str, Any] | None = None,
) -> list[Decimal]:
    """The amount of each part for `method` (even, last year's seasonality, by hand)."""
    if method == SplitMethod.MANUAL:
        return _manual_amounts(target, specs, manual)
    if method == SplitMethod.SEASONAL:
        weights = seasonal_weights(target, direction, specs)
    elif method == SplitMethod.EVEN:
        weights = [ONE] * len(specs)
    else:
        raise ValidationError({"method": _("Choose an even split, last year's or by hand.")})
    try:
        return split(target.amount, weights, quantum(target.metric))
    except ValueError:
        raise ValidationError(
            {"method": _("The target's amount cannot be split in whole parts.")}
        ) from None


# --- reads the services and pages share ---------------------------------------------------


@dataclass
class Allocation:
    """A target's children and what is left to allocate to them (amount − their sum)."""

    amount: Decimal
    children: list[Target] = field(default_factory=list)
    direction: str = ""  # of the existing split, "" when not split

    @property
    def allocated(self) -> Decimal:
        return sum((child.amount for child in self.children), ZERO)

    @property
    def left(self) -> Decimal:
        return self.amount - self.allocated


def left_to_allocate(target: Target) -> Allocation:
    """The children of `target` (display order, scope and period loaded) and what is left."""
    children = list(
        target.children.select_related("org_unit", "user").order_by(
            "period_start", "org_unit__path", "user__username", "id"
        )
    )
    direction = direction_of(target, children[0]) if children else ""
    return Allocation(amount=target.amount, children=children, direction=direction)


# --- services ----------------------------------------------------------------------------


def _check_open(target: Target) -> None:
    if target.status == TargetStatus.CLOSED:
        raise Conflict(_("The period of this target is closed: it can no longer change."))


def _lock(target: Target) -> Target:
    """Lock the target's parent (whose sum its siblings share), then the target: always parent
    before child, the order a split locks them in too."""
    for _attempt in range(3):
        parent_id = Target.objects.filter(pk=target.pk).values_list("parent_id", flat=True).first()
        if parent_id is not None:
            list(Target.objects.select_for_update().filter(pk=parent_id).values_list("pk"))
        locked = (
            Target.objects.select_for_update(of=("self",))
            .select_related("org_unit", "user", "parent")
            .get(pk=target.pk)
        )
        if locked.parent_id == parent_id:
            return locked
    raise Conflict(_("The target is being changed by someone else. Try again."))


def _children_sum(target: Target, *, exclude_pk: int | None = None) -> Decimal:
    children = Target.objects.filter(parent_id=target.pk)
    if exclude_pk is not None:
        children = children.exclude(pk=exclude_pk)
    return children.aggregate(total=models.Sum("amount"))["total"] or ZERO


def _duplicate_message(metric: str, period: Period, name: str) -> str:
    return _("%(scope)s already has a target for “%(metric)s” in %(period)s.") % {
        "scope": name, "metric": Metric(metric).label, "period": period.label(),
    }  # fmt: skip


def _live_twin(
    *, metric: str, period: Period, scope_kind: str, org_unit: OrgUnit | None, user: User | None
) -> bool:
    twins = Target.objects.filter(
        metric=metric, period_kind=period.kind, period_start=period.start, scope_kind=scope_kind
    ).exclude(status=TargetStatus.DRAFT)
    if scope_kind == ScopeKind.REP:
        twins = twins.filter(user=user)
    elif scope_kind == ScopeKind.UNIT:
        twins = twins.filter(org_unit=org_unit)
    return twins.exists()


@transaction.atomic
def target_create(
    *,
    by: User,
    metric: str,
    period_kind: str,
    day_in_period_or_start: date,
    scope_kind: str,
    org_unit: OrgUnit | None = None,
    user: User | None = None,
    amount: Decimal,
    reason: str = "",
) -> Target:
    """Set a target (active at once) for a metric, the period of `period_kind` containing
    `day_in_period_or_start` and a scope; version 1 records who set it and why. A rep's
    target also keeps the unit the rep is in now. One live target per metric, period and
    scope: a second one is a field error (also when two people set it at the same time)."""
    if metric not in Metric.values:
        raise ValidationError({"metric": _("Choose a metric.")})
    if period_kind not in PeriodKind.values:
        raise ValidationError({"period_kind": _("Choose a year, quarter, month or week.")})
    if not isinstance(day_in_period_or_start, date):
        raise ValidationError({"day": _("Give a day in the period.")})
    if scope_kind == ScopeKind.COMPANY:
        org_unit, user = None, None
    elif scope_kind == ScopeKind.UNIT:
        user = None
        if org_unit is None or not org_unit.is_active:
            raise ValidationError({"org_unit": _("Choose an active org unit.")})
    elif scope_kind == ScopeKind.REP:
        if user is None or not user.is_active:
            raise ValidationError({"user": _("Choose an active rep.")})
        org_unit = user.org_unit
    else:
        raise ValidationError({"scope_kind": _("Choose the company, an org unit or a rep.")})
    if not may_set_target(by, scope_kind=scope_kind, org_unit=org_unit, rep=user):
        raise PermissionDenied(_("You may not set this target."))
    amount = clean_amount(metric, amount)
    period = period_of(period_kind, day_in_period_or_start)
    target = Target(
        metric=metric, period_kind=period_kind, period_start=period.start,
        period_end=period.end, scope_kind=scope_kind, org_unit=org_unit, user=user,
        amount=amount, status=TargetStatus.ACTIVE, version=1, created_by=by,
    )  # fmt: skip
    duplicate = ValidationError(
        {"scope_kind": _duplicate_message(metric, period, scope_name(target))}
    )
    if _live_twin(metric=metric, period=period, scope_kind=scope_kind, org_unit=org_unit,
                  user=user):  # fmt: skip
        raise duplicate
    try:
        with transaction.atomic():  # a savepoint: the race's loser gets the field error
            target.save()
    except IntegrityError as exc:
        if UNIQUE_LIVE in str(exc):
            raise duplicate from None
        raise
    TargetVersion.objects.create(
        target=target, version=1, amount=amount, reason=(reason or "").strip(), changed_by=by
    )
    return target


@transaction.atomic
def target_set_amount(
    *,
    target: Target,
    by: User,
    amount: Decimal,
    reason: str,
    adjustment: Any = None,
) -> Target:
    """Change a target's amount (a new version with who and why; `adjustment` links the
    approved adjustment it comes from). Locks the parent first, so that two people changing
    sibling parts at once cannot together exceed it: a part may not take more than its
    parent leaves (what is left to allocate plus its own amount). A split target may not go
    below what its parts already add up to (lower them first); raised, the difference shows
    as left to allocate."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the target changes.")})
    target = _lock(target)
    if not can_set_target(by, target):
        raise PermissionDenied(_("You may not change this target."))
    _check_open(target)
    amount = clean_amount(target.metric, amount)
    if amount == target.amount:
        raise ValidationError({"amount": _("The target already has this amount.")})
    parts = _children_sum(target)
    if amount < parts:
        raise ValidationError(
            {
                "amount": _(
                    "The parts of this target add up to %(sum)s: lower them first, or give at "
                    "least that much."
                )
                % {"sum": format_amount(target.metric, parts)}
            }
        )
    if target.parent_id is not None:
        room = target.parent.amount - _children_sum(target.parent, exclude_pk=target.pk)
        if amount > room:
            raise ValidationError(
                {
                    "amount": _(
                        "The parts of the parent target would add up to more than it: at most "
                        "%(room)s is left for this one."
                    )
                    % {"room": format_amount(target.metric, max(room, ZERO))}
                }
            )
    record_version(target=target, amount=amount, reason=reason, by=by, adjustment=adjustment)
    return target


def record_version(
    *, target: Target, amount: Decimal, reason: str, by: User | None, adjustment: Any = None
) -> TargetVersion:
    """Give a (locked) target `amount` as its next version (版本), keeping who and why: the one
    write behind a change by hand, an approved adjustment and a plan taking over a target. The
    caller holds the row lock and has checked the rules."""
    target.amount = amount
    target.version += 1
    target.save(update_fields=["amount", "version", "updated_at"])
    return TargetVersion.objects.create(
        target=target, version=target.version, amount=amount, reason=reason, changed_by=by,
        adjustment=adjustment,
    )  # fmt: skip


def _scope_filter(specs: Sequence[ChildSpec], target: Target, direction: str) -> Q:
    if direction == Direction.CALENDAR:
        return Q(
            scope_kind=target.scope_kind, org_unit_id=target.org_unit_id, user_id=target.user_id
        )
    units = [s.org_unit.pk for s in specs if s.scope_kind == ScopeKind.UNIT]
    reps = [s.user.pk for s in specs if s.scope_kind == ScopeKind.REP]
    q = Q(pk__in=[])
    if units:
        q |= Q(scope_kind=ScopeKind.UNIT, org_unit_id__in=units)
    if reps:
        q |= Q(scope_kind=ScopeKind.REP, user_id__in=reps, org_unit_id=specs[0].org_unit.pk)
    return q


def _standing_targets(
    target: Target, direction: str, specs: Sequence[ChildSpec]
) -> dict[str, Target]:
    """Live targets already set for the parts (by someone earlier, without a parent), locked:
    the split takes them in instead of creating a second live target for the same scope."""
    if target.status == TargetStatus.DRAFT:
        return {}
    kinds = {spec.period.kind for spec in specs}
    found = (
        Target.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user")
        .filter(
            metric=target.metric,
            period_kind__in=kinds,
            period_start__in={spec.period.start for spec in specs},
        )
        .filter(_scope_filter(specs, target, direction))
        .exclude(status=TargetStatus.DRAFT)
        .exclude(parent_id=target.pk)
    )
    return {child_key(target, twin): twin for twin in found}


@transaction.atomic
def target_decompose(
    *,
    target: Target,
    by: User,
    direction: str,
    method: str,
    manual: Mapping[str, Any] | None = None,
) -> list[Target]:
    """Split a target into its children down the org tree or down the calendar, evenly, by
    last year's actuals (seasonality) or by hand; the children add up to it exactly.

    Splitting again in the same direction updates the existing children in place (a new
    version where the amount changes, their history kept); a child no longer among the parts
    (a unit closed, a rep gone) is detached, not deleted. A target split in one direction
    cannot be split in the other. A live target already set for a part (without a parent) is
    taken in as that part. Locks the target and its children; nothing is written when any
    input is wrong."""
    if direction not in Direction.values:
        raise ValidationError({"direction": _("Choose down the org tree or down the calendar.")})
    if method not in SplitMethod.values:
        raise ValidationError({"method": _("Choose an even split, last year's or by hand.")})
    target = _lock(target)
    if not can_set_target(by, target):
        raise PermissionDenied(_("You may not split this target."))
    _check_open(target)
    existing = list(
        Target.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user")
        .filter(parent_id=target.pk)
        .order_by("pk")
    )
    if any(direction_of(target, child) != direction for child in existing):
        raise ValidationError(
            {
                "direction": _(
                    "This target is already split the other way: a target cannot be split both "
                    "down the org tree and down the calendar."
                )
            }
        )
    specs = child_specs(target, direction)
    amounts = split_amounts(target, direction, method, specs, manual)
    current = {child_key(target, child): child for child in existing}
    standing = _standing_targets(target, direction, specs)
    method_label = SplitMethod(method).label
    new_reason = _("Split from target #%(id)s (%(method)s).") % {
        "id": target.pk, "method": method_label,
    }  # fmt: skip
    again_reason = _("Split of target #%(id)s again (%(method)s).") % {
        "id": target.pk, "method": method_label,
    }  # fmt: skip
    children: list[Target] = []
    for spec, amount in zip(specs, amounts, strict=True):
        child = current.pop(spec.key, None) or standing.get(spec.key)
        if child is None:
            child = Target(
                metric=target.metric, period_kind=spec.period.kind,
                period_start=spec.period.start, period_end=spec.period.end,
                scope_kind=spec.scope_kind, org_unit=spec.org_unit, user=spec.user,
                amount=amount, parent=target, split_method=method, plan=target.plan,
                status=target.status, version=1, created_by=by,
            )  # fmt: skip
            try:
                with transaction.atomic():
                    child.save()
            except IntegrityError as exc:
                if UNIQUE_LIVE in str(exc):
                    raise ValidationError(
                        {"direction": _duplicate_message(target.metric, spec.period, spec.label)}
                    ) from None
                raise
            TargetVersion.objects.create(
                target=child, version=1, amount=amount, reason=new_reason, changed_by=by
            )
            children.append(child)
            continue
        if child.parent_id not in (None, target.pk):
            raise ValidationError(
                {
                    "direction": _(
                        "%(part)s already has a target for this period under another target."
                    )
                    % {"part": spec.label}
                }
            )
        if child.status != target.status:
            raise ValidationError(
                {
                    "direction": _("%(part)s already has a target that is %(status)s.")
                    % {"part": spec.label, "status": child.get_status_display()}
                }
            )
        own_parts = _children_sum(child)
        if amount < own_parts:
            raise ValidationError(
                {
                    "method": _(
                        "%(part)s would get %(amount)s, less than its own parts add up to "
                        "(%(sum)s): lower them first."
                    )
                    % {
                        "part": spec.label,
                        "amount": format_amount(target.metric, amount),
                        "sum": format_amount(target.metric, own_parts),
                    }
                }
            )
        fields = ["parent", "split_method", "updated_at"]
        child.parent, child.split_method = target, method
        if amount != child.amount:
            child.amount = amount
            child.version += 1
            fields += ["amount", "version"]
            TargetVersion.objects.create(
                target=child, version=child.version, amount=amount,
                reason=again_reason if child in existing else new_reason, changed_by=by,
            )  # fmt: skip
        child.save(update_fields=fields)
        children.append(child)
    for gone in current.values():
        gone.parent, gone.split_method = None, ""
        gone.save(update_fields=["parent", "split_method", "updated_at"])
    return children
