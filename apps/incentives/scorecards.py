"""KPI scorecards (绩效考核, seed 004 steps 10–12 考核评估 → 审核 → 公布结果): scoring schemes,
the computation of the scorecards at the end of each period, the supervisor's assessment, the
manager's approval and the publication.

**Scheme** (考核方案, admin only): a role (rep / supervisor), a period (month / quarter), the
grade thresholds and weighted metric lines, each with a scoring curve (`SchemeMetric`'s
docstring). The rules (`scheme_create` / `scheme_update`): the weights add up to exactly 100, a
linear curve's value scoring 100 differs from its value scoring 0 (and lies below it when less is
better), thresholds are well formed (distinct values, points from 0 to the cap, never fewer
points for a better value), the grades are ordered, and one active scheme per role and period.

**Scoring**: each line's value (`kpi.py`) becomes points by the line's curve (two decimals,
ROUND_HALF_UP); a line with nothing to measure (value None) is left out and the other lines'
weights are scaled up to 100; score = Σ weight × points / 100 (two decimals, ROUND_HALF_UP);
grade S/A/B/C by the scheme's lowest score of each, else D; rank in the team (the unit at the
period's end) and in the company among the scorecards of the same scheme and period, ties
sharing a rank (1, 1, 3).

**Computation** (`scorecards_compute_due`, the 02:00 job; `scorecards_recompute` on an admin's
demand): for each active scheme, the latest ended period and any earlier one since the scheme's
creation without scorecards (at most `MAX_BACKFILL` periods back), every active person of the
role gets a scorecard: created, or recomputed while still COMPUTED. A submitted, approved or
published scorecard keeps its score, grade, lines and assessment; only its ranks follow the
standings, so that the ranks of a period always agree with its scores. A card still COMPUTED
under a scheme since replaced (deactivated, another made active) is recomputed under the
active one. Set-based: one query per
metric (kpi.py), the cards and lines read once, written with bulk_create / bulk_update, and only
what changed is written — a second run changes nothing. The scheme row and the period's cards
are locked (FOR UPDATE), so two workers, or the job and a supervisor submitting, take turns.

**Flow**: the head of the person's unit or of a unit above it (not the person) writes the
assessment and submits it to the approval policy "incentives.scorecard" (by default: the
manager approves); a return (退回) brings it back to COMPUTED with the comment; a manager above
the unit, or an admin, publishes the approved cards — one, or all approved of a team and period
— and the person is told (`NotificationKind.ASSESSMENT`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import headed_paths
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import (
    approval_assert_editable,
    approval_return_to_draft,
    approval_submit,
)
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.goals.periods import Period, period_between, period_of
from apps.notifications.choices import NotificationKind
from apps.notifications.services import notify

from . import kpi
from .choices import AssessmentPeriod, Curve, Grade, KpiMetric, SchemeRole, ScorecardStatus
from .models import SchemeMetric, Scorecard, ScorecardLine, ScoringScheme

COMPUTE_JOB = "incentives_scorecards_compute"
MAX_BACKFILL = 12  # earlier periods the job looks back for missing scorecards
ZERO = Decimal("0")
CENT = Decimal("0.01")
HUNDRED = Decimal(100)
MAX_POINTS = Decimal("1000")
MAX_SCORE = Decimal("99999.99")
MAX_VALUE = Decimal("999999999999.9999")
ASSESSMENT_MAX = 20000


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _is_admin(user: Any) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN)


def _active(user: Any) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


# --- scoring ----------------------------------------------------------------------------------


def thresholds_of(line: SchemeMetric) -> list[tuple[Decimal, Decimal]]:
    """A THRESHOLDS line's (at, points), lowest `at` first."""
    steps = [(Decimal(str(t["at"])), Decimal(str(t["points"]))) for t in line.thresholds or []]
    return sorted(steps)


def line_points(line: SchemeMetric, value: Decimal | None) -> Decimal | None:
    """The points `value` earns on `line`'s curve (see `SchemeMetric`), from 0 to the cap, two
    decimals; None without a value."""
    if value is None:
        return None
    cap = Decimal(line.cap)
    if line.curve == Curve.LINEAR:
        span = Decimal(line.full_at) - Decimal(line.zero_at)
        raw = (value - Decimal(line.zero_at)) * HUNDRED / span
    else:
        steps = thresholds_of(line)
        if line.lower_is_better:
            reached = [points for at, points in steps if value <= at]
            raw = reached[0] if reached else ZERO  # the lowest `at` not exceeded
        else:
            reached = [points for at, points in steps if value >= at]
            raw = reached[-1] if reached else ZERO  # the highest `at` reached
    return _q(min(max(raw, ZERO), cap))


def grade_for(scheme: ScoringScheme, score: Decimal) -> str:
    """S, A, B or C by the scheme's lowest score of each; below C: D."""
    for grade, lowest in (
        (Grade.S, scheme.grade_s_min),
        (Grade.A, scheme.grade_a_min),
        (Grade.B, scheme.grade_b_min),
        (Grade.C, scheme.grade_c_min),
    ):
        if score >= lowest:
            return grade
    return Grade.D


def competition_ranks(scores: dict[Any, Decimal]) -> dict[Any, int]:
    """Rank by score, highest first; equal scores share a rank and the next rank skips (1, 1,
    3)."""
    first: dict[Decimal, int] = {}
    for index, score in enumerate(sorted(scores.values(), reverse=True), start=1):
        first.setdefault(score, index)
    return {key: first[score] for key, score in scores.items()}


@dataclass
class LineResult:
    metric: str
    weight: Decimal  # the scheme's weight
    measure: kpi.Measure
    points: Decimal | None  # None: nothing to measure, left out
    weighted: Decimal
    position: int


def effective_weights(lines: list[tuple[str, Decimal, bool]]) -> dict[str, Decimal]:
    """{metric: the weight it counts with} of (metric, weight, measured) lines: a line with
    nothing to measure counts 0, the others are scaled up to add up to 100."""
    measured = sum((weight for _m, weight, ok in lines if ok), ZERO)
    return {
        metric: (weight * HUNDRED / measured if ok and measured else ZERO)
        for metric, weight, ok in lines
    }


def score_lines(
    metrics: list[SchemeMetric], measures: dict[str, kpi.Measure]
) -> tuple[Decimal, list[LineResult]]:
    """The score and the lines of one person (see the module docstring)."""
    weights = effective_weights(
        [(m.metric, Decimal(m.weight), measures[m.metric].value is not None) for m in metrics]
    )
    exact = ZERO
    lines = []
    for position, metric in enumerate(metrics):
        measure = measures[metric.metric]
        points = line_points(metric, measure.value)
        contribution = ZERO if points is None else weights[metric.metric] * points / HUNDRED
        exact += contribution
        lines.append(
            LineResult(
                metric=metric.metric, weight=Decimal(metric.weight), measure=measure,
                points=points, weighted=_q(contribution), position=position,
            )
        )  # fmt: skip
    return min(_q(exact), MAX_SCORE), lines


# --- schemes ----------------------------------------------------------------------------------


@dataclass
class MetricSpec:
    """One metric line of a scheme as given by a form or the API."""

    metric: str
    weight: Decimal | None
    curve: str = Curve.LINEAR
    zero_at: Decimal | None = ZERO
    full_at: Decimal | None = None
    cap: Decimal | None = Decimal(120)
    lower_is_better: bool = False
    thresholds: list[tuple[Decimal, Decimal]] = field(default_factory=list)


@dataclass
class SchemeData:
    name: str
    role: str
    period_kind: str
    grade_s_min: Decimal
    grade_a_min: Decimal
    grade_b_min: Decimal
    grade_c_min: Decimal
    notes: str = ""
    metrics: list[MetricSpec] = field(default_factory=list)


GRADE_FIELDS = (
    ("grade_s_min", "S"),
    ("grade_a_min", "A"),
    ("grade_b_min", "B"),
    ("grade_c_min", "C"),
)


def _line_errors(spec: MetricSpec, add) -> None:
    key = f"metrics.{spec.metric}."
    if spec.weight is None:
        add(key + "weight", _("Give the weight of this metric."))
    elif not ZERO < spec.weight <= HUNDRED:
        add(key + "weight", _("A weight is more than 0 and at most 100."))
    if spec.cap is None or not ZERO < spec.cap <= MAX_POINTS:
        add(key + "cap", _("The highest points are more than 0 and at most 1000."))
    if spec.curve == Curve.LINEAR:
        if spec.zero_at is None:
            add(key + "zero_at", _("Give the value that scores 0."))
        if spec.full_at is None:
            add(key + "full_at", _("Give the value that scores 100."))
        elif spec.zero_at is not None:
            if spec.full_at == spec.zero_at:
                add(
                    key + "full_at",
                    _("The value scoring 100 must differ from the value scoring 0."),
                )
            elif spec.lower_is_better and spec.full_at > spec.zero_at:
                add(
                    key + "full_at",
                    _("Less is better: the value scoring 100 must be below the value scoring 0."),
                )
            elif not spec.lower_is_better and spec.full_at < spec.zero_at:
                add(
                    key + "full_at",
                    _(
                        "The value scoring 100 must be above the value scoring 0 (or tick "
                        "“less is better”)."
                    ),
                )
        for name, value in (("zero_at", spec.zero_at), ("full_at", spec.full_at)):
            if value is not None and abs(value) > MAX_VALUE:
                add(key + name, _("The value is too large."))
    elif spec.curve == Curve.THRESHOLDS:
        steps = spec.thresholds
        if not steps:
            add(key + "thresholds", _("Give at least one threshold."))
            return
        ats = [at for at, _points in steps]
        if len(set(ats)) != len(ats):
            add(key + "thresholds", _("Each threshold value can appear once."))
            return
        cap = spec.cap if spec.cap is not None else MAX_POINTS
        if any(not ZERO <= points <= cap for _at, points in steps):
            add(
                key + "thresholds",
                _("Threshold points are from 0 up to the highest points (%(cap)s).") % {"cap": cap},
            )
            return
        if any(abs(at) > MAX_VALUE for at in ats):
            add(key + "thresholds", _("A threshold value is too large."))
            return
        ordered = [points for _at, points in sorted(steps)]
        if spec.lower_is_better:
            ordered.reverse()  # from the best (lowest) value to the worst
            worse_gets_more = any(a < b for a, b in pairwise(ordered))
        else:
            worse_gets_more = any(a > b for a, b in pairwise(ordered))
        if worse_gets_more:
            add(key + "thresholds", _("A better value cannot score fewer points than a worse one."))
    else:
        add(key + "curve", _("Choose a scoring curve."))


def scheme_errors(data: SchemeData, *, scheme: ScoringScheme | None = None) -> dict[str, list]:
    """What is wrong with `data` (for a new scheme, or for `scheme`), by field: the scheme's
    fields by name, a metric line's as "metrics.<metric>.<field>", the lines as a whole as
    "metrics". Empty when it is fine. Two queries at most."""
    errors: dict[str, list] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    if not (data.name or "").strip():
        add("name", _("Give the scheme a name."))
    elif len(data.name.strip()) > 200:
        add("name", _("A name has at most 200 characters."))
    if data.role not in SchemeRole.values:
        add("role", _("Choose the role assessed."))
    if data.period_kind not in AssessmentPeriod.values:
        add("period_kind", _("Choose the period."))
    grades = [(name, letter, getattr(data, name)) for name, letter in GRADE_FIELDS]
    for name, letter, value in grades:
        if value is None:
            add(name, _("Give the lowest score for %(grade)s.") % {"grade": letter})
        elif not ZERO <= value <= MAX_POINTS:
            add(name, _("A score is from 0 to 1000."))
    for (_hi_name, hi_letter, hi), (lo_name, lo_letter, lo) in pairwise(grades):
        if hi is not None and lo is not None and lo > hi and lo_name not in errors:
            add(
                lo_name,
                _("The lowest score for %(low)s cannot be above the lowest score for %(high)s.")
                % {"low": lo_letter, "high": hi_letter},
            )
    # the lines
    if not data.metrics:
        add("metrics", _("Choose at least one metric and give its weight."))
    seen: set[str] = set()
    for spec in data.metrics:
        if spec.metric not in KpiMetric.values:
            add("metrics", _("Unknown metric: %(metric)s.") % {"metric": spec.metric})
            continue
        if spec.metric in seen:
            add("metrics", _("Each metric can be used once."))
            continue
        seen.add(spec.metric)
        _line_errors(spec, add)
    weights = [s.weight for s in data.metrics if s.weight is not None]
    if data.metrics and len(weights) == len(data.metrics) and sum(weights, ZERO) != HUNDRED:
        add(
            "metrics",
            _("The weights add up to %(total)s: they must add up to exactly 100.")
            % {"total": f"{sum(weights, ZERO).normalize():f}"},
        )
    # the rules that read the database
    if "role" not in errors and "period_kind" not in errors:
        if scheme is not None and scheme.pk and scheme.scorecards.exists():
            for name in ("role", "period_kind"):
                if getattr(data, name) != getattr(scheme, name):
                    add(
                        name,
                        _("Scorecards were computed with this scheme: its %(field)s stays.")
                        % {"field": ScoringScheme._meta.get_field(name).verbose_name},
                    )
        if scheme is None or scheme.is_active:
            twin = _active_twin(data.role, data.period_kind, exclude=scheme.pk if scheme else None)
            if twin is not None:
                add("role", _twin_message(twin))
    return errors


def _active_twin(role: str, period_kind: str, *, exclude: int | None) -> ScoringScheme | None:
    return (
        ScoringScheme.objects.filter(role=role, period_kind=period_kind, is_active=True)
        .exclude(pk=exclude)
        .first()
    )


def _twin_message(twin: ScoringScheme) -> str:
    return _(
        "The active scheme “%(name)s” already assesses %(role)s by %(period)s: deactivate it first."
    ) % {
        "name": twin.name,
        "role": twin.get_role_display(),
        "period": twin.get_period_kind_display(),
    }


def _metric_rows(scheme: ScoringScheme, specs: list[MetricSpec]) -> None:
    """Make the scheme's lines those of `specs`: existing lines of a metric are updated (their
    ids kept), new ones created, the others deleted."""
    existing = {m.metric: m for m in scheme.metrics.all()}
    keep = []
    for position, spec in enumerate(specs):
        row = existing.get(spec.metric) or SchemeMetric(scheme=scheme, metric=spec.metric)
        row.weight = spec.weight
        row.curve = spec.curve
        row.zero_at = spec.zero_at if spec.zero_at is not None else ZERO
        row.full_at = spec.full_at if spec.curve == Curve.LINEAR else None
        row.cap = spec.cap
        row.lower_is_better = spec.lower_is_better
        row.thresholds = (
            [{"at": str(at), "points": str(points)} for at, points in sorted(spec.thresholds)]
            if spec.curve == Curve.THRESHOLDS
            else []
        )
        row.position = position
        row.save()
        keep.append(row.pk)
    scheme.metrics.exclude(pk__in=keep).delete()


def _save_scheme(scheme: ScoringScheme) -> None:
    """Save, turning the one-active-per-role-and-period constraint (a race with another admin)
    into the same field error as the check."""
    try:
        with transaction.atomic():
            scheme.save()
    except IntegrityError:
        twin = _active_twin(scheme.role, scheme.period_kind, exclude=scheme.pk)
        if twin is None:
            raise
        raise ValidationError({"role": [_twin_message(twin)]}) from None


def _require_admin(user: Any) -> None:
    if not (_active(user) and _is_admin(user)):
        raise PermissionDenied(_("Only an administrator manages scoring schemes."))


@transaction.atomic
def scheme_create(*, data: SchemeData, by: User) -> ScoringScheme:
    """An administrator creates a scoring scheme (考核方案) with its metric lines."""
    _require_admin(by)
    errors = scheme_errors(data)
    if errors:
        raise ValidationError(errors)
    scheme = ScoringScheme(
        name=data.name.strip(), role=data.role, period_kind=data.period_kind,
        grade_s_min=data.grade_s_min, grade_a_min=data.grade_a_min,
        grade_b_min=data.grade_b_min, grade_c_min=data.grade_c_min,
        notes=(data.notes or "").strip(), created_by=by,
    )  # fmt: skip
    _save_scheme(scheme)
    _metric_rows(scheme, data.metrics)
    return scheme


@transaction.atomic
def scheme_update(*, scheme: ScoringScheme, data: SchemeData, by: User) -> ScoringScheme:
    """An administrator changes a scheme: the scorecards computed from now on (and those still
    COMPUTED, at the next computation) follow it; submitted ones keep their figures."""
    _require_admin(by)
    scheme = ScoringScheme.objects.select_for_update().get(pk=scheme.pk)
    errors = scheme_errors(data, scheme=scheme)
    if errors:
        raise ValidationError(errors)
    scheme.name = data.name.strip()
    scheme.role, scheme.period_kind = data.role, data.period_kind
    scheme.grade_s_min, scheme.grade_a_min = data.grade_s_min, data.grade_a_min
    scheme.grade_b_min, scheme.grade_c_min = data.grade_b_min, data.grade_c_min
    scheme.notes = (data.notes or "").strip()
    _save_scheme(scheme)
    _metric_rows(scheme, data.metrics)
    return scheme


@transaction.atomic
def scheme_deactivate(*, scheme: ScoringScheme, by: User) -> ScoringScheme:
    """An administrator retires a scheme: no scorecard is computed with it any more (those
    computed stay). Another scheme can then be made active for its role and period."""
    _require_admin(by)
    scheme = ScoringScheme.objects.select_for_update().get(pk=scheme.pk)
    if not scheme.is_active:
        raise Conflict(_("This scheme is not active."), code="not_active")
    scheme.is_active = False
    scheme.save(update_fields=["is_active", "updated_at"])
    return scheme


# --- computing --------------------------------------------------------------------------------


@dataclass
class ComputeResult:
    periods: int = 0
    created: int = 0
    recomputed: int = 0  # COMPUTED cards whose figures changed
    unchanged: int = 0  # COMPUTED cards computed again to the same figures
    kept: int = 0  # submitted, approved or published: figures left alone
    reranked: int = 0  # cards whose only change was their rank

    def add(self, other: ComputeResult) -> None:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


CARD_FIGURES = ("scheme_id", "org_unit_id", "period_end", "score", "grade")
RANK_FIELDS = ("rank_in_unit", "unit_size", "rank_in_company", "company_size")
LINE_FIELDS = ("weight", "value", "numerator", "denominator", "points", "weighted", "position")


def _money(value: Decimal | None) -> Decimal | None:
    return None if value is None else _q(value)


def _value(value: Decimal | None) -> Decimal | None:
    return None if value is None else value.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _line_values(result: LineResult) -> dict[str, Any]:
    return {
        "weight": result.weight,
        "value": _value(result.measure.value),
        "numerator": _money(result.measure.numerator),
        "denominator": _money(result.measure.denominator),
        "points": result.points if result.points is not None else ZERO,
        "weighted": result.weighted,
        "position": result.position,
    }


def _differs(obj: Any, values: dict[str, Any]) -> bool:
    return any(getattr(obj, name) != value for name, value in values.items())


def period_for(scheme: ScoringScheme, day: date) -> Period:
    """The scheme's period (month or quarter) that contains `day`."""
    return period_of(scheme.period_kind, day)


def due_periods(scheme: ScoringScheme, today: date) -> list[Period]:
    """The periods the job computes for `scheme` on `today`: the earlier ended periods since the
    scheme's creation that have no scorecard of it (at most MAX_BACKFILL back, oldest first),
    then the latest ended period."""
    latest = period_for(scheme, today).previous()
    created = timezone.localtime(scheme.created_at).date() if scheme.created_at else latest.end
    done = set(
        Scorecard.objects.filter(scheme=scheme, period_kind=scheme.period_kind)
        .values_list("period_start", flat=True)
        .distinct()
    )
    earlier = []
    period = latest.previous()
    for _step in range(MAX_BACKFILL):
        if period.end < created:
            break
        if period.start not in done:
            earlier.append(period)
        period = period.previous()
    return [*reversed(earlier), latest]


def scorecards_compute(*, scheme: ScoringScheme, period: Period, now: Any = None) -> ComputeResult:
    """Compute the scorecards of `scheme` for `period` (see the module docstring): create the
    missing ones, recompute those still COMPUTED, re-rank the period. Idempotent."""
    now = now or timezone.now()
    result = ComputeResult(periods=1)
    with history_context(job=COMPUTE_JOB), transaction.atomic():
        scheme = ScoringScheme.objects.select_for_update().get(pk=scheme.pk)
        metrics = list(scheme.metrics.order_by("position", "id"))
        people = list(
            User.objects.filter(is_active=True, role=scheme.role)
            .order_by("pk")
            .values_list("pk", "org_unit_id")
        )
        ctx = kpi.Context(period)
        subjects = kpi.subjects_of(ctx, people, on_their_units=scheme.role == SchemeRole.SUPERVISOR)
        ids = [s.user_id for s in subjects]
        cards = {
            card.user_id: card
            for card in Scorecard.objects.select_for_update()
            .filter(period_kind=scheme.period_kind, period_start=period.start)
            .filter(Q(scheme=scheme) | Q(user_id__in=ids))
            .order_by("pk")
        }
        open_ids = [c.pk for c in cards.values() if c.status == ScorecardStatus.COMPUTED]
        lines: dict[int, dict[str, ScorecardLine]] = {}
        for line in ScorecardLine.objects.filter(scorecard_id__in=open_ids):
            lines.setdefault(line.scorecard_id, {})[line.metric] = line
        measures = kpi.measure(period, subjects, [m.metric for m in metrics], ctx=ctx)

        new_cards: list[Scorecard] = []
        new_lines: list[tuple[Scorecard, LineResult]] = []
        changed: list[Scorecard] = []
        line_updates: list[ScorecardLine] = []
        line_deletes: list[int] = []
        for subject in subjects:
            card = cards.get(subject.user_id)
            if card is not None and card.status != ScorecardStatus.COMPUTED:
                result.kept += card.scheme_id == scheme.pk
                continue
            person = {m.metric: measures[m.metric][subject.user_id] for m in metrics}
            score, computed = score_lines(metrics, person)
            figures = {
                "scheme_id": scheme.pk, "org_unit_id": subject.unit_id,
                "period_end": period.end, "score": score, "grade": grade_for(scheme, score),
            }  # fmt: skip
            if card is None:
                card = Scorecard(
                    user_id=subject.user_id, period_kind=scheme.period_kind,
                    period_start=period.start, computed_at=now, **figures,
                )  # fmt: skip
                new_cards.append(card)
                cards[subject.user_id] = card
                new_lines += [(card, line) for line in computed]
                result.created += 1
                continue
            had = lines.get(card.pk, {})
            dirty = _differs(card, figures)
            for line in computed:
                values = _line_values(line)
                row = had.pop(line.metric, None)
                if row is None:
                    new_lines.append((card, line))
                    dirty = True
                elif _differs(row, values):
                    for name, value in values.items():
                        setattr(row, name, value)
                    line_updates.append(row)
                    dirty = True
            if had:  # metrics no longer in the scheme
                line_deletes += [row.pk for row in had.values()]
                dirty = True
            if dirty:
                for name, value in figures.items():
                    setattr(card, name, value)
                card.computed_at = card.updated_at = now
                changed.append(card)
                result.recomputed += 1
            else:
                result.unchanged += 1

        # the ranks of the whole period under this scheme, the kept cards' scores included
        population = [c for c in cards.values() if c.scheme_id == scheme.pk]
        in_company = competition_ranks({c.user_id: c.score for c in population})
        by_unit: dict[int, dict[int, Decimal]] = {}
        for c in population:
            if c.org_unit_id is not None:
                by_unit.setdefault(c.org_unit_id, {})[c.user_id] = c.score
        in_unit = {
            user_id: (rank, len(scores))
            for scores in by_unit.values()
            for user_id, rank in competition_ranks(scores).items()
        }
        reranked: list[Scorecard] = []
        changed_ids = {id(c) for c in changed}
        for c in population:
            rank, size = in_unit.get(c.user_id, (None, 0))
            ranks = {
                "rank_in_unit": rank, "unit_size": size,
                "rank_in_company": in_company[c.user_id], "company_size": len(population),
            }  # fmt: skip
            if c.pk is None or not _differs(c, ranks):
                for name, value in ranks.items():
                    setattr(c, name, value)
                continue
            for name, value in ranks.items():
                setattr(c, name, value)
            if id(c) not in changed_ids:
                c.updated_at = now
                reranked.append(c)
        result.reranked = len(reranked)

        if new_cards:
            Scorecard.objects.bulk_create(new_cards, batch_size=1000)
        if changed:
            Scorecard.objects.bulk_update(
                changed,
                [*(f.removesuffix("_id") for f in CARD_FIGURES), *RANK_FIELDS, "computed_at",
                 "updated_at"],
                batch_size=500,
            )  # fmt: skip
        if reranked:
            Scorecard.objects.bulk_update(reranked, [*RANK_FIELDS, "updated_at"], batch_size=500)
        if line_deletes:
            ScorecardLine.objects.filter(pk__in=line_deletes).delete()
        if line_updates:
            ScorecardLine.objects.bulk_update(line_updates, list(LINE_FIELDS), batch_size=1000)
        if new_lines:
            ScorecardLine.objects.bulk_create(
                [
                    ScorecardLine(scorecard=card, metric=line.metric, **_line_values(line))
                    for card, line in new_lines
                ],
                batch_size=2000,
            )
    return result


def scorecards_compute_due(*, today: date) -> dict[str, int]:
    """The 02:00 job: for every active scheme, the periods `due_periods` names, each in its own
    transaction. Returns what it did (created, recomputed, unchanged, kept, reranked, periods)."""
    total = ComputeResult()
    for scheme in ScoringScheme.objects.filter(is_active=True).order_by("pk"):
        for period in due_periods(scheme, today):
            total.add(scorecards_compute(scheme=scheme, period=period))
    return total.as_dict()


def scorecards_recompute(*, scheme: ScoringScheme, day: date, by: User) -> ComputeResult:
    """An administrator recomputes one ended period of an active scheme now (e.g. after late
    documents): the same computation as the job."""
    _require_admin(by)
    if not scheme.is_active:
        raise Conflict(_("This scheme is not active."), code="not_active")
    period = period_for(scheme, day)
    if period.end >= timezone.localdate():
        raise Conflict(
            _("%(period)s has not ended yet: its scorecards are computed once it has.")
            % {"period": period.label()},
            code="period_not_ended",
        )
    return scorecards_compute(scheme=scheme, period=period)


# --- who may do what --------------------------------------------------------------------------


def _unit_path(card: Scorecard) -> str:
    """The tree path of the unit the person was in at the period's end (else their unit)."""
    unit = card.org_unit if card.org_unit_id else getattr(card.user, "org_unit", None)
    return unit.path if unit is not None else ""


def can_assess(user: Any, card: Scorecard) -> bool:
    """The head of the person's unit at the period's end, or of a unit above it, and not the
    person: writes the assessment and submits it (seed 004 step 10)."""
    if not _active(user) or user.pk == card.user_id:
        return False
    path = _unit_path(card)
    return bool(path) and any(path.startswith(p) for p in headed_paths(user))


def can_submit_scorecard(user: Any, scorecard: Scorecard) -> bool:
    """The approval engine's check (and the approval panel's button): a head above the person,
    while the card is COMPUTED."""
    return scorecard.status == ScorecardStatus.COMPUTED and can_assess(user, scorecard)


def can_publish_scorecard(user: Any, card: Scorecard) -> bool:
    """A manager heading the person's unit or a unit above it, or an administrator."""
    if not _active(user) or user.pk == card.user_id:
        return False
    if _is_admin(user):
        return True
    if user.role != Role.MANAGER:
        return False
    path = _unit_path(card)
    return bool(path) and any(path.startswith(p) for p in headed_paths(user))


def may_publish_any(user: Any) -> bool:
    return _active(user) and (_is_admin(user) or (user.role == Role.MANAGER and headed_paths(user)))


def available_transitions(user: Any, card: Scorecard) -> list[str]:
    """What `user` may do with `card` now (the API's `available_transitions`): "submit" (with
    the assessment) while it is COMPUTED, "publish" once approved. Approving and returning go
    through the approval request (`approvals/<id>/approve|reject/`)."""
    names = []
    if can_submit_scorecard(user, card):
        names.append("submit")
    if card.status == ScorecardStatus.APPROVED and can_publish_scorecard(user, card):
        names.append("publish")
    return names


# --- the assessment, approval and publication ---------------------------------------------------


def _lock(card: Scorecard) -> Scorecard:
    return (
        Scorecard.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user__org_unit")
        .get(pk=card.pk)
    )


def _check_assessable(card: Scorecard, by: User) -> None:
    if not can_assess(by, card):
        raise PermissionDenied(
            _("Only the head of the person's unit, or of a unit above it, assesses this scorecard.")
        )
    if card.status != ScorecardStatus.COMPUTED:
        raise Conflict(
            _("The scorecard is %(status)s: its assessment can no longer be changed.")
            % {"status": card.get_status_display()},
            code="not_computed",
        )
    approval_assert_editable(card)


@transaction.atomic
def scorecard_assess(*, scorecard: Scorecard, by: User, assessment: str) -> Scorecard:
    """The head writes the assessment (考核评估), while the card is COMPUTED."""
    card = _lock(scorecard)
    _check_assessable(card, by)
    text = (assessment or "").strip()
    if len(text) > ASSESSMENT_MAX:
        raise ValidationError(
            {
                "assessment": _("An assessment has at most %(max)d characters.")
                % {"max": ASSESSMENT_MAX}
            }
        )
    if text != card.assessment:
        card.assessment = text
        card.save(update_fields=["assessment", "updated_at"])
    return card


@transaction.atomic
def scorecard_submit(
    *, scorecard: Scorecard, by: User, assessment: str | None = None, comment: str = ""
) -> ApprovalRequest:
    """Save the assessment (when given) and submit the scorecard to the manager through the
    approval policy "incentives.scorecard". A card without an assessment is refused (400 naming
    it); resubmitting after a return is the same call."""
    card = _lock(scorecard)
    _check_assessable(card, by)
    if assessment is not None:
        card = scorecard_assess(scorecard=card, by=by, assessment=assessment)
    return approval_submit(document=card, by=by, comment=comment)


def _published_message(card: Scorecard) -> str:
    return _("Your scorecard of %(period)s is published") % {
        "period": scorecard_period(card).label()
    }


@transaction.atomic
def scorecard_publish(*, scorecard: Scorecard, by: User) -> Scorecard:
    """Publish an approved scorecard to the person (公布结果): a manager above the person's unit
    or an administrator. The person is told after commit."""
    card = _lock(scorecard)
    if not can_publish_scorecard(by, card):
        raise PermissionDenied(
            _("Only a manager above the person's unit can publish this scorecard.")
        )
    if card.status != ScorecardStatus.APPROVED:
        raise Conflict(
            _("The scorecard is %(status)s: only an approved scorecard is published.")
            % {"status": card.get_status_display()},
            code="not_approved",
        )
    card.publish()
    card.published_at = timezone.now()
    card.save()
    person, title, url = card.user, _published_message(card), card.get_absolute_url()
    transaction.on_commit(
        lambda: notify(
            recipients=[person], kind=NotificationKind.ASSESSMENT, title=title, url=url, actor=by
        )
    )
    return card


@transaction.atomic
def scorecards_publish_approved(
    *,
    by: User,
    period_kind: str,
    period_start: date,
    unit: OrgUnit | None = None,
    scheme: ScoringScheme | None = None,
) -> int:
    """Publish every approved scorecard of a period (of `unit` and the units below it, of
    `scheme`, when given) that `by` may publish; returns how many. Each person is told after
    commit (one notification each, linking to their scorecards of the period)."""
    if not may_publish_any(by):
        raise PermissionDenied(_("Only a manager or an administrator publishes scorecards."))
    qs = Scorecard.objects.select_for_update(of=("self",)).filter(
        period_kind=period_kind, period_start=period_start, status=ScorecardStatus.APPROVED
    )
    if unit is not None:
        qs = qs.filter(org_unit__path__startswith=unit.path)
    if scheme is not None:
        qs = qs.filter(scheme=scheme)
    cards = [
        c
        for c in qs.select_related("org_unit", "user__org_unit").order_by("pk")
        if can_publish_scorecard(by, c)
    ]
    if not cards:
        return 0
    now = timezone.now()
    for card in cards:
        card.publish()
        card.published_at = card.updated_at = now
    Scorecard.objects.bulk_update(cards, ["status", "published_at", "updated_at"])
    people = [card.user for card in cards]
    title = _published_message(cards[0])
    url = reverse("incentives:scorecard_list") + f"?period={period_kind}:{period_start.isoformat()}"
    transaction.on_commit(
        lambda: notify(
            recipients=people, kind=NotificationKind.ASSESSMENT, title=title, url=url, actor=by
        )
    )
    return len(cards)


def scorecard_period(card: Scorecard) -> Period:
    return period_between(card.period_kind, card.period_start, card.period_end)


# --- approval callbacks (registered in IncentivesConfig.ready) ---------------------------------


def approval_title(scorecard: Scorecard) -> str:
    return _("Scorecard of %(name)s, %(period)s") % {
        "name": scorecard.user.display_name,
        "period": scorecard_period(scorecard).label(),
    }


def on_scorecard_submitted(scorecard: Scorecard, request: ApprovalRequest) -> None:
    """Refuse (rolling the submission back) a scorecard without an assessment; else it is
    pending, assessed by the submitter."""
    if not scorecard.assessment.strip():
        raise ValidationError({"assessment": _("Write the assessment before submitting.")})
    scorecard.submit()
    scorecard.assessed_by = request.submitter
    scorecard.save()


def on_scorecard_approved(scorecard: Scorecard, request: ApprovalRequest) -> None:
    scorecard.approve()
    scorecard.approved_at = timezone.now()
    scorecard.save()


def on_scorecard_returned(scorecard: Scorecard, request: ApprovalRequest) -> None:
    """Back to COMPUTED with the approver's comment (a withdrawal too): the head revises the
    assessment and submits again; the job may recompute its figures meanwhile."""
    approval_return_to_draft(scorecard, request)
