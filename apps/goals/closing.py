"""Period close and review (seed 004 flow 1 steps 8–12: 提交汇总 → 总结 → 考核评估 → 修正 →
审核 → 公布结果).

**Close** (`period_close`, the 00:30 job): every ACTIVE target whose period ended before today
is evaluated against its actual (`actuals.compute`, once per metric and period) and closed. When
the metric rolls over (`MetricSetting.roll_over`, 未完成部分滚动至下期) and the actual fell
short, the gap is added to the same scope's target of the next period: an existing live target
gets a new version (its children, if it was decomposed, are left alone, so "left to allocate"
shows the rolled-in part); a missing one is created ACTIVE for the gap. Periods are closed
oldest first, so a job that did not run for weeks cascades each gap correctly. Then a review is
opened per org unit that had targets in the period, with the attainment figures frozen in it.

Idempotent: the targets are locked (FOR UPDATE) and closed in the same transaction as the
roll-over, so a second run, or a second worker waiting on the lock, finds nothing ACTIVE to
close; reviews are inserted ON CONFLICT DO NOTHING.

**Review** (总结/考核评估): the unit's head writes the summary and submits it to the approval
policy "goals.periodreview" (the manager approves or returns it with a comment); after a return
the head writes the corrections (修正) and resubmits; a manager above the unit (or an admin)
publishes the approved review (公布结果) and every member of the unit is told.
"""

from __future__ import annotations

import heapq
from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
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
from apps.notifications.services import notify

from . import actuals
from .choices import PeriodKind, ReviewStatus, ScopeKind, TargetStatus
from .models import MetricSetting, PeriodReview, Target, TargetVersion
from .periods import Period, period_between, period_of

CLOSE_JOB = "goals_period_close"
ZERO = Decimal("0")
CENT = Decimal("0.01")


# --- attainment ----------------------------------------------------------------------------


def attainment_pct(target: Decimal | None, actual: Decimal) -> Decimal | None:
    """Actual over target in percent, one decimal; None without a (positive) target."""
    if target is None or target <= 0:
        return None
    return (actual * 100 / target).quantize(Decimal("0.1"))


def figure(target: Decimal | None, actual: Decimal) -> dict[str, str | None]:
    """One line of the review's figures, Decimals as strings (JSON)."""
    pct = attainment_pct(target, actual)
    gap = max(target - actual, ZERO) if target is not None else None
    return {
        "target": None if target is None else str(target.quantize(CENT)),
        "actual": str(actual.quantize(CENT)),
        "attainment": None if pct is None else str(pct),
        "gap": None if gap is None else str(gap.quantize(CENT)),
    }


# --- the close job -------------------------------------------------------------------------


@dataclass
class CloseResult:
    closed: int = 0
    rolled_over: int = 0  # next-period targets raised by a gap
    created: int = 0  # next-period targets created for a gap
    reviews: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


GroupKey = tuple[date, date, str]  # (end, start, kind): heap order = oldest period first


def _scope_key(target: Target) -> tuple:
    # A rep's target is the rep's whatever unit they were in when it was set.
    if target.scope_kind == ScopeKind.REP:
        return (ScopeKind.REP, target.user_id)
    if target.scope_kind == ScopeKind.UNIT:
        return (ScopeKind.UNIT, target.org_unit_id)
    return (ScopeKind.COMPANY, None)


def next_period(period: Period) -> Period:
    """The period after `period`. It starts the day after (a week clipped to its month is
    followed by the rest of that week in the next month, as the month's decomposition has it);
    a clipped week's successor is clipped to its month too."""
    start = period.end + timedelta(days=1)
    following = period_of(period.kind, start)
    end = following.end
    if period.kind == PeriodKind.WEEK and period.days < 7:
        end = min(end, period_of(PeriodKind.MONTH, start).end)
    return period_between(period.kind, start, end)


def _units_of_reps(user_ids: set[int]) -> dict[int, int | None]:
    return dict(User.objects.filter(pk__in=user_ids).values_list("pk", "org_unit_id"))


def period_close(*, today: date) -> CloseResult:
    """Close every ACTIVE target whose period ended before `today`, roll the unfinished parts
    over and open the reviews (see the module docstring). Returns what it did."""
    result = CloseResult()
    with history_context(job=CLOSE_JOB), transaction.atomic():
        due = list(
            Target.objects.select_for_update(of=("self",))
            .filter(status=TargetStatus.ACTIVE, period_end__lt=today)
            .order_by("period_end", "period_start", "id")
        )
        if not due:
            return result
        roll = dict(MetricSetting.objects.values_list("metric", "roll_over"))
        groups: dict[GroupKey, list[Target]] = defaultdict(list)
        for target in due:
            groups[(target.period_end, target.period_start, target.period_kind)].append(target)
        # Successors already in memory (due ones, and those created by this run) win over the
        # database rows, so that a cascade reads the amount this run gave them.
        live: dict[tuple, Target] = {_next_key_of(t): t for t in due}
        successors = _lock_successors(due, live)
        live.update({k: v for k, v in successors.items() if k not in live})
        rep_units = _units_of_reps({t.user_id for t in due if t.user_id})
        heap = list(groups)
        heapq.heapify(heap)
        now = timezone.now()
        while heap:
            key = heapq.heappop(heap)
            targets = groups.pop(key)
            end, start, kind = key
            period = period_between(kind, start, end)
            computed = {
                metric: actuals.compute(metric, start, end)
                for metric in sorted({t.metric for t in targets})
            }
            evaluated: list[tuple[Target, Decimal]] = []
            changed: dict[int, Target] = {}
            versions: list[TargetVersion] = []
            created: list[Target] = []
            reason = _("rolled over from %(period)s") % {"period": period.label()}
            for target in targets:
                actual = computed[target.metric].scope(
                    target.scope_kind, unit_id=target.org_unit_id, user_id=target.user_id
                )
                evaluated.append((target, actual))
                target.close()
                gap = target.amount - actual
                if gap <= 0 or not roll.get(target.metric, True):
                    continue
                gap = gap.quantize(CENT)
                successor = live.get(
                    (target.metric, kind, end + timedelta(days=1), *_scope_key(target))
                )
                if successor is None:
                    following = next_period(period)
                    successor = Target(
                        metric=target.metric, period_kind=kind, period_start=following.start,
                        period_end=following.end, scope_kind=target.scope_kind,
                        org_unit_id=(
                            rep_units.get(target.user_id, target.org_unit_id)
                            if target.scope_kind == ScopeKind.REP else target.org_unit_id
                        ),
                        user_id=target.user_id, amount=gap, rolled_in=gap, version=1,
                    )  # fmt: skip
                    created.append(successor)
                    live[_next_key_of(successor)] = successor
                elif successor.status != TargetStatus.ACTIVE:
                    continue  # its period is closed already: nothing left to roll into
                elif successor.pk is None:  # created earlier in this run, not saved yet
                    successor.amount += gap
                    successor.rolled_in += gap
                else:
                    successor.amount += gap
                    successor.rolled_in += gap
                    successor.version += 1
                    successor.updated_at = now
                    changed[successor.pk] = successor
                    versions.append(
                        TargetVersion(
                            target=successor, version=successor.version,
                            amount=successor.amount, reason=reason,
                        )
                    )  # fmt: skip
            Target.objects.filter(pk__in=[t.pk for t in targets]).update(
                status=TargetStatus.CLOSED, updated_at=now
            )
            result.closed += len(targets)
            if changed:
                Target.objects.bulk_update(
                    list(changed.values()), ["amount", "rolled_in", "version", "updated_at"]
                )
                result.rolled_over += len(changed)
            if created:
                Target.objects.bulk_create(created)
                versions += [
                    TargetVersion(target=t, version=1, amount=t.amount, reason=reason)
                    for t in created
                ]
                result.created += len(created)
                for successor in created:
                    # A successor whose own period has ended is closed later in this run.
                    if successor.period_end < today:
                        successor_key = (
                            successor.period_end,
                            successor.period_start,
                            successor.period_kind,
                        )
                        if successor_key not in groups:
                            heapq.heappush(heap, successor_key)
                        groups[successor_key].append(successor)
            if versions:
                TargetVersion.objects.bulk_create(versions)
            result.reviews += _open_reviews(period, evaluated, computed, rep_units)
    return result


def _next_key_of(target: Target) -> tuple:
    """The key under which `target` is found as the successor of the previous period's."""
    return (target.metric, target.period_kind, target.period_start, *_scope_key(target))


def _lock_successors(due: list[Target], known: dict[tuple, Target]) -> dict[tuple, Target]:
    """The live targets of the periods right after the due ones (locked), by successor key."""
    wanted = {(t.period_kind, t.period_end + timedelta(days=1)) for t in due}
    q = Q()
    for kind, start in wanted:
        q |= Q(period_kind=kind, period_start=start)
    rows = (
        Target.objects.select_for_update(of=("self",))
        .filter(q)
        .exclude(status=TargetStatus.DRAFT)
        .exclude(pk__in=[t.pk for t in known.values()])
        .order_by("id")
    )
    found: dict[tuple, Target] = {}
    for target in rows:
        found.setdefault(_next_key_of(target), target)
    return found


def _open_reviews(
    period: Period,
    evaluated: list[tuple[Target, Decimal]],
    computed: dict[str, actuals.Actuals],
    rep_units: dict[int, int | None],
) -> int:
    """A review per org unit with targets in the period (a rep's target counts for the unit it
    was set in), with {metric: {"unit": figure|None, "reps": [figure + user, name]}}."""
    by_unit: dict[int, list[tuple[Target, Decimal]]] = defaultdict(list)
    for target, actual in evaluated:
        unit_id = target.org_unit_id
        if target.scope_kind == ScopeKind.REP and unit_id is None:
            unit_id = rep_units.get(target.user_id)
        if target.scope_kind != ScopeKind.COMPANY and unit_id is not None:
            by_unit[unit_id].append((target, actual))
    if not by_unit:
        return 0
    existing = set(
        PeriodReview.objects.filter(
            org_unit_id__in=by_unit, period_kind=period.kind, period_start=period.start
        ).values_list("org_unit_id", flat=True)
    )
    units = OrgUnit.objects.in_bulk([pk for pk in by_unit if pk not in existing])
    if not units:
        return 0
    names = {
        u.pk: u.display_name
        for u in User.objects.filter(
            pk__in={t.user_id for rows in by_unit.values() for t, _a in rows if t.user_id}
        )
    }
    reviews = []
    for unit_id, unit in units.items():
        figures: dict[str, dict[str, Any]] = {}
        for target, actual in sorted(by_unit[unit_id], key=lambda row: (row[0].metric, row[0].id)):
            entry = figures.setdefault(
                target.metric,
                {
                    "unit": None,
                    "reps": [],
                    "unit_actual": computed[target.metric].unit(unit_id),
                },
            )
            if target.scope_kind == ScopeKind.UNIT:
                entry["unit"] = figure(target.amount, actual)
            else:
                entry["reps"].append(
                    {"user": target.user_id, "name": names.get(target.user_id, ""),
                     **figure(target.amount, actual)}
                )  # fmt: skip
        for entry in figures.values():
            if entry["unit"] is None:  # no unit target: its actual, against no target
                entry["unit"] = figure(None, entry["unit_actual"])
            del entry["unit_actual"]
            entry["reps"].sort(key=lambda rep: rep["name"])
        reviews.append(
            PeriodReview(
                org_unit=unit, period_kind=period.kind, period_start=period.start,
                period_end=period.end, figures=figures, owner_id=unit.head_id,
            )
        )  # fmt: skip
    PeriodReview.objects.bulk_create(reviews, ignore_conflicts=True)
    heads = User.objects.in_bulk({r.owner_id for r in reviews if r.owner_id})
    messages = [
        (
            heads.get(r.owner_id),
            _("Write the review of %(period)s for %(unit)s")
            % {"period": period.label(), "unit": r.org_unit.name},
            r.org_unit_id,
        )
        for r in reviews
        if r.owner_id
    ]

    def tell_heads() -> None:
        saved = dict(
            PeriodReview.objects.filter(
                org_unit_id__in=[m[2] for m in messages],
                period_kind=period.kind,
                period_start=period.start,
            ).values_list("org_unit_id", "pk")
        )
        for head, title, unit_id in messages:
            if unit_id in saved:
                url = PeriodReview(pk=saved[unit_id]).get_absolute_url()
                notify(recipients=[head], title=title, url=url)

    if messages:
        transaction.on_commit(tell_heads)
    return len(reviews)


# --- who may do what -----------------------------------------------------------------------


def can_submit_review(user: Any, review: PeriodReview) -> bool:
    """The head of the reviewed unit writes and submits the summary, while it is open."""
    return review.org_unit.head_id == user.pk and review.status == ReviewStatus.OPEN


def can_edit_review(user: Any, review: PeriodReview) -> bool:
    return can_submit_review(user, review)


def can_publish_review(user: Any, review: PeriodReview) -> bool:
    """A manager heading the unit or a unit above it, or an admin."""
    if not (user.is_authenticated and user.is_active):
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    if user.role != Role.MANAGER:
        return False
    return any(review.org_unit.path.startswith(path) for path in headed_paths(user))


# --- the head's and the manager's actions --------------------------------------------------


def _lock(review: PeriodReview) -> PeriodReview:
    return (
        PeriodReview.objects.select_for_update(of=("self",))
        .select_related("org_unit")
        .get(pk=review.pk)
    )


@transaction.atomic
def review_update(
    *, review: PeriodReview, by: User, summary: str | None = None, corrections: str | None = None
) -> PeriodReview:
    """The head writes the summary (总结) and, after a return, the corrections (修正). Only
    while the review is open (not under approval, not approved)."""
    review = _lock(review)
    if review.org_unit.head_id != by.pk:
        raise PermissionDenied(_("Only the head of the unit can write its review."))
    approval_assert_editable(review)
    if review.status != ReviewStatus.OPEN:
        raise Conflict(
            _("The review is %(status)s and can no longer be changed.")
            % {"status": review.get_status_display()},
            code="not_open",
        )
    fields = []
    if summary is not None:
        review.summary = summary.strip()
        fields.append("summary")
    if corrections is not None and corrections.strip() != review.corrections:
        if not review.return_comment:
            raise ValidationError(
                {"corrections": _("Corrections are written after the review was returned.")}
            )
        review.corrections = corrections.strip()
        fields.append("corrections")
    if fields:
        review.save(update_fields=[*fields, "updated_at"])
    return review


@transaction.atomic
def review_submit(*, review: PeriodReview, by: User, comment: str = "") -> ApprovalRequest:
    """Submit (or resubmit after a return) the review to the manager. What a submission needs
    is checked by `on_review_submitted`, so the approval panel's own button enforces it too."""
    return approval_submit(document=review, by=by, comment=comment)


@transaction.atomic
def review_publish(*, review: PeriodReview, by: User) -> PeriodReview:
    """Publish the approved review to the unit (公布结果): a manager above the unit or an admin.
    Every active member of the unit (and of the units below it) is told after commit."""
    review = _lock(review)
    if not can_publish_review(by, review):
        raise PermissionDenied(_("Only a manager above the unit can publish its review."))
    if review.status != ReviewStatus.APPROVED:
        raise Conflict(
            _("The review is %(status)s: only an approved review can be published.")
            % {"status": review.get_status_display()},
            code="not_approved",
        )
    review.publish()
    review.published_at = timezone.now()
    review.save()
    members = list(
        User.objects.filter(is_active=True, org_unit__path__startswith=review.org_unit.path)
    )
    title = _("The review of %(period)s for %(unit)s is published") % {
        "period": period_between(
            review.period_kind, review.period_start, review.period_end
        ).label(),
        "unit": review.org_unit.name,
    }
    url = review.get_absolute_url()
    transaction.on_commit(lambda: notify(recipients=members, title=title, url=url, actor=by))
    return review


# --- approval callbacks (registered in GoalsConfig.ready) ----------------------------------


def on_review_submitted(review: PeriodReview, request: ApprovalRequest) -> None:
    """Refuse (rolling the submission back) a review without a summary, or a returned one
    without corrections; else it is pending."""
    if not review.summary.strip():
        raise ValidationError({"summary": _("Write the summary before submitting.")})
    if review.return_comment and not review.corrections.strip():
        raise ValidationError(
            {"corrections": _("Write the corrections asked for before resubmitting.")}
        )
    review.submit()
    review.save()


def on_review_approved(review: PeriodReview, request: ApprovalRequest) -> None:
    review.approve()
    review.approved_at = timezone.now()
    review.save()


def on_review_returned(review: PeriodReview, request: ApprovalRequest) -> None:
    approval_return_to_draft(review, request)
