"""Sales plans (销售计划书) and target adjustments (执行困难报告单及修正单): seed 004 flow 1 steps
1–3 and 6–7.

- A supervisor (or a manager) writes the plan of a unit they head for a period: the problems to
  solve, the profit target, the expense budget and its control plan, the collection, price,
  channel, promotion and training plans, and the target lines (the unit's total and each rep's
  part, per metric) kept as draft targets of the plan. The manager approves (policy
  "goals.salesplan"): the draft targets become active with their version 1 — or, where a live
  target of the same metric, period and scope exists, that target takes the plan's amount as
  its next version. A return brings the plan back to draft with the manager's comment.
- During the period a rep (own target) or the head of the target's unit reports a difficulty
  and proposes a revised amount; the manager approves (policy "goals.targetadjustment"): the
  target takes the proposed amount as its next version, and its parents up the chain change by
  the same difference with their own version, so the children still add up to their parent.

The approval engine calls back in its transaction, with the document locked; every callback
leaves the targets consistent or raises (rolling the decision back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import headed_paths
from apps.approvals.choices import Decision
from apps.approvals.models import ApprovalDecision, ApprovalRequest
from apps.approvals.services import (
    approval_assert_editable,
    approval_request_for,
    approval_return_to_draft,
    approval_submit,
    approval_withdraw,
)
from apps.core.errors import Conflict

from .choices import (
    MONEY_METRICS,
    DocumentStatus,
    Metric,
    PeriodKind,
    ScopeKind,
    SplitMethod,
    TargetStatus,
)
from .models import SalesPlan, Target, TargetAdjustment, TargetVersion
from .periods import Period, period_of
from .targets import format_amount, record_version, scope_name

PLAN_TEXT_FIELDS = (
    "problems",
    "expense_control_plan",
    "collection_plan",
    "price_plan",
    "channel_plan",
    "promotion_plan",
    "training_plan",
)
PLAN_MONEY_FIELDS = ("profit_target", "expense_budget")
PLAN_FIELDS = ("title", *PLAN_TEXT_FIELDS, *PLAN_MONEY_FIELDS)
ZERO = Decimal("0")
MAX_AMOUNT = Decimal("99999999999999.99")  # 16 digits, 2 decimals (models._amount)


@dataclass(frozen=True)
class PlanLine:
    """One cell of a plan's target grid: the unit's line (`user_id` None) or a rep's."""

    metric: str
    amount: Decimal
    user_id: int | None = None


# --- who may do what ------------------------------------------------------------------------


def _heads_unit(user: User, unit: OrgUnit) -> bool:
    """Whether `user` heads `unit` or a unit above it."""
    return any(unit.path.startswith(path) for path in headed_paths(user))


def can_author_plan(user: User, unit: OrgUnit) -> bool:
    """A plan is written by the head of its unit (or of a unit above), or an administrator."""
    if not user.is_active:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return _heads_unit(user, unit)


def can_author_any_plan(user: User) -> bool:
    return bool(user.is_superuser or user.role == Role.ADMIN or headed_paths(user))


def can_adjust_target(user: User, target: Target) -> bool:
    """The rep of a rep target, or the head of the target's unit (or of the rep's unit now), or
    of a unit above; a company target: the head of the top unit."""
    if not user.is_active:
        return False
    if target.scope_kind == ScopeKind.REP:
        if target.user_id == user.pk:
            return True
        units = [u for u in (target.org_unit, getattr(target.user, "org_unit", None)) if u]
        return any(_heads_unit(user, unit) for unit in units)
    if target.scope_kind == ScopeKind.UNIT:
        return target.org_unit is not None and _heads_unit(user, target.org_unit)
    return any(path.count(".") == 1 for path in headed_paths(user))


# --- target versions ------------------------------------------------------------------------


def _first_version(target: Target, *, reason: str, by: User | None) -> TargetVersion:
    return TargetVersion.objects.update_or_create(
        target=target,
        version=target.version,
        defaults={"amount": target.amount, "reason": reason, "changed_by": by},
    )[0]


def _assert_parts_fit(targets: Iterable[Target]) -> None:
    """The live children of each live target must not add up to more than it (the rule of
    `apps.goals.targets`: a split adds up exactly, a child lowered later leaves something to
    allocate, never less). Raised as a Conflict naming the metric and the scope: the approval
    rolls back."""
    ids = {t.pk for t in targets}
    if not ids:
        return
    sums = dict(
        Target.objects.filter(parent_id__in=ids)
        .exclude(status=TargetStatus.DRAFT)
        .values("parent_id")
        .annotate(total=Sum("amount"))
        .values_list("parent_id", "total")
    )
    for target in Target.objects.filter(pk__in=sums).select_related("org_unit", "user"):
        if sums[target.pk] > target.amount:
            raise Conflict(
                _(
                    "The %(metric)s target of %(scope)s (%(amount)s) would be less than the sum "
                    "of its parts (%(sum)s): change its split first."
                )
                % {
                    "metric": target.get_metric_display(),
                    "scope": scope_name(target),
                    "amount": format_amount(target.metric, target.amount),
                    "sum": format_amount(target.metric, sums[target.pk]),
                },
                code="split_mismatch",
            )


def _last_approver(request: ApprovalRequest) -> User | None:
    decision = (
        ApprovalDecision.objects.filter(request=request, decision=Decision.APPROVE)
        .select_related("actor")
        .order_by("-id")
        .first()
    )
    return decision.actor if decision else None


# --- sales plans: input ---------------------------------------------------------------------


def _decimal(value: Any, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ValidationError({field: [_("Enter a number.")]}) from None
    if not number.is_finite():
        raise ValidationError({field: [_("Enter a number.")]})
    return number


def _clean_plan_data(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in PLAN_TEXT_FIELDS:
        if name in data:
            cleaned[name] = str(data[name] or "").strip()
    if "title" in data:
        cleaned["title"] = str(data["title"] or "").strip()[:200]
    for name in PLAN_MONEY_FIELDS:
        if name not in data:
            continue
        try:
            value = _decimal(data[name], name)
        except ValidationError as exc:
            errors.update(exc.message_dict)
            continue
        if value is not None and name == "expense_budget" and value < 0:
            errors[name] = [_("The expense budget cannot be negative.")]
        elif value is not None and abs(value) > MAX_AMOUNT:
            errors[name] = [_("This amount is too large.")]
        cleaned[name] = value.quantize(Decimal("0.01")) if value is not None else None
    if errors:
        raise ValidationError(errors)
    return cleaned


def plan_reps(unit: OrgUnit) -> list[User]:
    """The reps whose targets a plan of `unit` may set: the active reps of the unit itself."""
    return list(
        User.objects.filter(org_unit=unit, role=Role.REP, is_active=True).order_by(
            "last_name", "first_name", "username"
        )
    )


def _clean_lines(lines: Iterable[PlanLine], unit: OrgUnit) -> list[PlanLine]:
    """Validate the target grid: known metrics, known reps of the unit, amounts ≥ 0 (counts
    whole), one cell per rep and metric, and each metric's rep lines adding up to the unit line
    when both are given. Errors under "targets", naming the metric."""
    reps = {rep.pk: rep for rep in plan_reps(unit)}
    errors: list[str] = []
    seen: dict[tuple[int | None, str], PlanLine] = {}
    for line in lines:
        if line.amount is None:
            continue
        if line.metric not in Metric.values:
            errors.append(_("Unknown metric “%(metric)s”.") % {"metric": line.metric})
            continue
        label = Metric(line.metric).label
        if line.user_id is not None and line.user_id not in reps:
            errors.append(
                _("The %(metric)s line names someone who is not a rep of %(unit)s.")
                % {"metric": label, "unit": unit.name}
            )
            continue
        amount = line.amount
        if amount < 0:
            errors.append(_("The %(metric)s target cannot be negative.") % {"metric": label})
            continue
        if amount > MAX_AMOUNT:
            errors.append(_("The %(metric)s target is too large.") % {"metric": label})
            continue
        if line.metric not in MONEY_METRICS and amount != amount.to_integral_value():
            errors.append(_("The %(metric)s target is a whole number.") % {"metric": label})
            continue
        key = (line.user_id, line.metric)
        if key in seen:
            errors.append(_("The %(metric)s target is given twice.") % {"metric": label})
            continue
        seen[key] = PlanLine(line.metric, amount.quantize(Decimal("0.01")), line.user_id)
    for metric in Metric.values:
        unit_line = seen.get((None, metric))
        parts = [line.amount for (uid, m), line in seen.items() if m == metric and uid]
        if unit_line is None or not parts:
            continue
        difference = unit_line.amount - sum(parts, ZERO)
        if difference:
            errors.append(
                _(
                    "%(metric)s: the reps' targets add up to %(sum)s, not the unit's "
                    "%(total)s (difference %(difference)s)."
                )
                % {
                    "metric": Metric(metric).label,
                    "sum": format_amount(metric, sum(parts, ZERO)),
                    "total": format_amount(metric, unit_line.amount),
                    "difference": format_amount(metric, difference),
                }
            )
    if errors:
        raise ValidationError({"targets": errors})
    return list(seen.values())


def _write_lines(plan: SalesPlan, lines: list[PlanLine], by: User) -> None:
    """Replace the plan's draft targets by `lines`: the unit's line, and the reps' lines as its
    children (split by hand) where the unit's line of the metric exists."""
    plan.targets.filter(status=TargetStatus.DRAFT).delete()
    common = {
        "period_kind": plan.period_kind,
        "period_start": plan.period_start,
        "period_end": plan.period_end,
        "plan": plan,
        "status": TargetStatus.DRAFT,
        "created_by": by,
    }
    parents: dict[str, Target] = {}
    for line in lines:
        if line.user_id is None:
            parents[line.metric] = Target.objects.create(
                metric=line.metric,
                scope_kind=ScopeKind.UNIT,
                org_unit=plan.org_unit,
                amount=line.amount,
                **common,
            )
    for line in lines:
        if line.user_id is not None:
            parent = parents.get(line.metric)
            Target.objects.create(
                metric=line.metric,
                scope_kind=ScopeKind.REP,
                org_unit=plan.org_unit,
                user_id=line.user_id,
                amount=line.amount,
                parent=parent,
                split_method=SplitMethod.MANUAL if parent else "",
                **common,
            )


def plan_lines(plan: SalesPlan) -> list[PlanLine]:
    """The plan's target grid read back from its targets."""
    return [
        PlanLine(metric, amount, user_id if scope == ScopeKind.REP else None)
        for metric, amount, user_id, scope in plan.targets.values_list(
            "metric", "amount", "user_id", "scope_kind"
        )
    ]


def default_title(unit: OrgUnit, period: Period) -> str:
    return _("%(unit)s sales plan %(period)s") % {"unit": unit.name, "period": period.label()}


# --- sales plans: use cases -----------------------------------------------------------------


@transaction.atomic
def plan_create(
    *,
    by: User,
    org_unit: OrgUnit,
    period_kind: str,
    day: date,
    data: Mapping[str, Any] | None = None,
    lines: Iterable[PlanLine] = (),
) -> SalesPlan:
    """Start a sales plan (a draft) of `org_unit` for the period of `period_kind` containing
    `day`, with its sections (`data`) and its target lines. Only the head of the unit (or of a
    unit above) or an administrator writes one."""
    if not can_author_plan(by, org_unit):
        raise PermissionDenied(_("Only the head of %(unit)s can write its sales plan.")
                               % {"unit": org_unit.name})  # fmt: skip
    if not org_unit.is_active:
        raise ValidationError({"org_unit": [_("This unit is no longer active.")]})
    period = _period(period_kind, day)
    cleaned = _clean_plan_data(data or {})
    clean_lines = _clean_lines(lines, org_unit)
    cleaned["title"] = cleaned.get("title") or default_title(org_unit, period)
    plan = SalesPlan.objects.create(
        owner=by,
        org_unit=org_unit,
        period_kind=period.kind,
        period_start=period.start,
        period_end=period.end,
        **cleaned,
    )
    _write_lines(plan, clean_lines, by)
    return plan


def _period(period_kind: str, day: date | None) -> Period:
    errors: dict[str, list[str]] = {}
    if period_kind not in PeriodKind.values:
        errors["period_kind"] = [_("Choose a period: year, quarter, month or week.")]
    if not isinstance(day, date):
        errors["day"] = [_("Enter a day of the period.")]
    if errors:
        raise ValidationError(errors)
    return period_of(period_kind, day)


def _lock_own_draft(document: SalesPlan | TargetAdjustment, by: User):
    document = type(document).objects.select_for_update().get(pk=document.pk)
    if document.owner_id != by.pk:
        raise PermissionDenied(_("Only the author can change this document."))
    approval_assert_editable(document)  # 409 while under approval
    if document.status != DocumentStatus.DRAFT:
        raise Conflict(
            _("This document is %(status)s and can no longer be changed.")
            % {"status": document.get_status_display()},
            code="not_draft",
        )
    return document


@transaction.atomic
def plan_update(
    *,
    plan: SalesPlan,
    by: User,
    data: Mapping[str, Any] | None = None,
    period_kind: str | None = None,
    day: date | None = None,
    lines: Iterable[PlanLine] | None = None,
) -> SalesPlan:
    """Revise a draft plan (also after a return): its sections, its period and its target
    lines (`lines` None keeps them). Refused while it is under approval or once approved."""
    plan = _lock_own_draft(plan, by)
    cleaned = _clean_plan_data(data or {})
    period_changed = False
    if period_kind is not None or day is not None:
        period = _period(period_kind or plan.period_kind, day or plan.period_start)
        period_changed = (period.kind, period.start) != (plan.period_kind, plan.period_start)
        plan.period_kind, plan.period_start, plan.period_end = period.kind, period.start, period.end
    if lines is None and period_changed:
        lines = plan_lines(plan)
    clean_lines = _clean_lines(lines, plan.org_unit) if lines is not None else None
    for name, value in cleaned.items():
        setattr(plan, name, value)
    if not plan.title:
        plan.title = default_title(plan.org_unit, period_of(plan.period_kind, plan.period_start))
    plan.save()
    if clean_lines is not None:
        _write_lines(plan, clean_lines, by)
    return plan


@transaction.atomic
def plan_submit(*, plan: SalesPlan, by: User, comment: str = "") -> ApprovalRequest:
    """Submit (or resubmit) the plan to the manager. What a submission needs is checked by
    `on_plan_submitted`, so the approval panel's generic submit button enforces it too."""
    plan = _lock_own_draft(plan, by)
    return approval_submit(document=plan, by=by, comment=comment)


def _withdraw(document: SalesPlan | TargetAdjustment, by: User, comment: str) -> ApprovalRequest:
    request = approval_request_for(document)
    if request is None:
        raise Conflict(_("This document was not submitted."), code="not_pending")
    return approval_withdraw(request=request, by=by, comment=comment)


@transaction.atomic
def plan_withdraw(*, plan: SalesPlan, by: User, comment: str = "") -> ApprovalRequest:
    """The author takes the plan back (撤回) while the manager has not decided."""
    return _withdraw(plan, by, comment)


# --- sales plans: approval callbacks (registered in GoalsConfig.ready) ----------------------


def on_plan_submitted(plan: SalesPlan, request: ApprovalRequest) -> None:
    """A plan without any target line is refused (the approver decides on the targets); else
    it is pending."""
    if not plan.targets.exists():
        raise Conflict(
            _("Set at least one target in the plan before submitting it."), code="no_targets"
        )
    plan.submit()
    plan.return_comment = ""
    plan.save()


def _live_twin(target: Target) -> Target | None:
    """The live (active or closed) target of the same metric, period and scope, locked (the
    key of the constraint `target_one_live_per_scope`)."""
    return (
        Target.objects.select_for_update()
        .filter(
            metric=target.metric,
            period_kind=target.period_kind,
            period_start=target.period_start,
            scope_kind=target.scope_kind,
            org_unit_id=target.org_unit_id,
            user_id=target.user_id,
        )
        .exclude(status=TargetStatus.DRAFT)
        .exclude(pk=target.pk)
        .first()
    )


def _take_over(live: Target, draft: Target, *, reason: str, by: User | None) -> Target:
    if live.status != TargetStatus.ACTIVE:
        raise Conflict(
            _("The %(metric)s target of %(scope)s for this period is already closed.")
            % {"metric": live.get_metric_display(), "scope": scope_name(live)},
            code="target_closed",
        )
    if live.amount != draft.amount:
        record_version(target=live, amount=draft.amount, reason=reason, by=by)
    if live.plan_id != draft.plan_id:
        live.plan_id = draft.plan_id
        live.save(update_fields=["plan", "updated_at"])
    return live


def _activate(draft: Target, *, reason: str, by: User | None) -> Target:
    """The draft becomes the live target (version 1), or — when a live one of the same key
    exists, also one committed meanwhile by a concurrent approval — that one takes its amount."""
    live = _live_twin(draft)
    if live is None:
        try:
            with transaction.atomic():
                draft.activate()
                draft.save()
                _first_version(draft, reason=reason, by=by)
                return draft
        except IntegrityError:
            # Another approval activated the same key since our look-up; take it over.
            draft = Target.objects.get(pk=draft.pk)
            live = _live_twin(draft)
            if live is None:
                raise
    return _take_over(live, draft, reason=reason, by=by)


def on_plan_approved(plan: SalesPlan, request: ApprovalRequest) -> None:
    """The plan is approved; its draft targets become the active targets (see `_activate`).
    The unit's lines first, then the reps' lines re-parented to what their unit line became;
    a draft replaced by a live target is deleted. Every touched target and its parent must
    still be the sum of their parts."""
    plan.approve()
    plan.approved_at = timezone.now()
    plan.save()
    by = _last_approver(request) or plan.owner
    reason = _("Approved sales plan: %(title)s") % {"title": plan.title}
    drafts = list(
        Target.objects.select_for_update()
        .filter(plan=plan, status=TargetStatus.DRAFT)
        .order_by("id")
    )
    became: dict[int, Target] = {}
    replaced: list[int] = []
    for draft in [d for d in drafts if d.parent_id is None]:
        became[draft.pk] = result = _activate(draft, reason=reason, by=by)
        if result.pk != draft.pk:
            replaced.append(draft.pk)
    for draft in [d for d in drafts if d.parent_id is not None]:
        parent = became.get(draft.parent_id)
        if parent is not None and parent.pk != draft.parent_id:
            draft.parent = parent
            draft.save(update_fields=["parent", "updated_at"])
        result = _activate(draft, reason=reason, by=by)
        if result.pk != draft.pk:
            replaced.append(draft.pk)
            if result.parent_id is None and parent is not None:
                result.parent = parent
                result.split_method = SplitMethod.MANUAL
                result.save(update_fields=["parent", "split_method", "updated_at"])
        became[draft.pk] = result
    Target.objects.filter(pk__in=replaced, status=TargetStatus.DRAFT).delete()
    touched = list(became.values())
    parents = Target.objects.filter(pk__in=[t.parent_id for t in touched if t.parent_id])
    _assert_parts_fit([*touched, *parents])


def on_plan_returned(plan: SalesPlan, request: ApprovalRequest) -> None:
    approval_return_to_draft(plan, request)


# --- target adjustments ---------------------------------------------------------------------


def _has_live_children(target: Target) -> bool:
    return target.children.exclude(status=TargetStatus.DRAFT).exists()


def _assert_adjustable(target: Target) -> None:
    if target.status != TargetStatus.ACTIVE:
        raise Conflict(
            _("Only an active target can be adjusted; this one is %(status)s.")
            % {"status": target.get_status_display()},
            code="target_not_active",
        )
    if _has_live_children(target):
        raise Conflict(
            _(
                "This target is split into parts: adjust the parts instead, and this target "
                "follows."
            ),
            code="target_has_children",
        )


def _clean_adjustment(
    target: Target, proposed_amount: Any, difficulty_report: Any
) -> tuple[Decimal, str]:
    errors: dict[str, list[str]] = {}
    amount: Decimal | None = None
    try:
        amount = _decimal(proposed_amount, "proposed_amount")
    except ValidationError as exc:
        errors.update(exc.message_dict)
    else:
        if amount is None:
            errors["proposed_amount"] = [_("Enter the proposed target.")]
        elif amount < 0:
            errors["proposed_amount"] = [_("The proposed target cannot be negative.")]
        elif amount > MAX_AMOUNT:
            errors["proposed_amount"] = [_("The proposed target is too large.")]
        elif target.metric not in MONEY_METRICS and amount != amount.to_integral_value():
            errors["proposed_amount"] = [_("This target is a whole number.")]
        elif amount == target.amount:
            errors["proposed_amount"] = [_("The proposed target is the current target.")]
    report = str(difficulty_report or "").strip()
    if not report:
        errors["difficulty_report"] = [_("Describe the difficulty that calls for the change.")]
    if errors:
        raise ValidationError(errors)
    return amount.quantize(Decimal("0.01")), report


def _open_adjustment_conflict() -> Conflict:
    return Conflict(
        _("This target already has an open adjustment: finish or withdraw it first."),
        code="adjustment_open",
    )


@transaction.atomic
def adjustment_create(
    *, by: User, target: Target, proposed_amount: Any, difficulty_report: str
) -> TargetAdjustment:
    """Start an adjustment (a draft) of an active target: the difficulty report and the
    proposed amount. By the target's rep, or the head of its unit; one open per target."""
    target = (
        Target.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user__org_unit")
        .get(pk=target.pk)
    )
    if not can_adjust_target(by, target):
        raise PermissionDenied(_("You cannot adjust this target."))
    _assert_adjustable(target)
    amount, report = _clean_adjustment(target, proposed_amount, difficulty_report)
    if TargetAdjustment.objects.filter(
        target=target, status__in=[DocumentStatus.DRAFT, DocumentStatus.PENDING]
    ).exists():
        raise _open_adjustment_conflict()
    try:
        with transaction.atomic():
            return TargetAdjustment.objects.create(
                owner=by,
                target=target,
                difficulty_report=report,
                current_amount=target.amount,
                proposed_amount=amount,
            )
    except IntegrityError:
        raise _open_adjustment_conflict() from None


@transaction.atomic
def adjustment_update(
    *,
    adjustment: TargetAdjustment,
    by: User,
    proposed_amount: Any,
    difficulty_report: str,
) -> TargetAdjustment:
    """Revise a draft adjustment (also after a return). Refused while under approval."""
    adjustment = _lock_own_draft(adjustment, by)
    target = Target.objects.select_for_update().get(pk=adjustment.target_id)
    _assert_adjustable(target)
    amount, report = _clean_adjustment(target, proposed_amount, difficulty_report)
    adjustment.proposed_amount, adjustment.difficulty_report = amount, report
    adjustment.current_amount = target.amount
    adjustment.save()
    return adjustment


@transaction.atomic
def adjustment_submit(
    *, adjustment: TargetAdjustment, by: User, comment: str = ""
) -> ApprovalRequest:
    """Submit (or resubmit) the adjustment to the manager (checks in
    `on_adjustment_submitted`)."""
    adjustment = _lock_own_draft(adjustment, by)
    return approval_submit(document=adjustment, by=by, comment=comment)


@transaction.atomic
def adjustment_withdraw(
    *, adjustment: TargetAdjustment, by: User, comment: str = ""
) -> ApprovalRequest:
    """The applicant takes the adjustment back while the manager has not decided."""
    return _withdraw(adjustment, by, comment)


def on_adjustment_submitted(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    """Refuse the adjustment of a target no longer active or split into parts (adjust the
    parts); else it is pending, with the target's amount at submission."""
    target = Target.objects.select_for_update().get(pk=adjustment.target_id)
    _assert_adjustable(target)
    if adjustment.proposed_amount == target.amount:
        raise Conflict(_("The proposed target is the current target."), code="no_change")
    adjustment.submit()
    adjustment.current_amount = target.amount
    adjustment.return_comment = ""
    adjustment.save()


def on_adjustment_approved(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    """The target takes the proposed amount as its next version (why: the difficulty report;
    who: the approving manager); each parent up the chain changes by the same difference with
    its own version citing the adjustment, so the parts still add up to their parent."""
    adjustment.approve()
    adjustment.approved_at = timezone.now()
    adjustment.save()
    by = _last_approver(request)
    target = (
        Target.objects.select_for_update(of=("self",))
        .select_related("org_unit", "user")
        .get(pk=adjustment.target_id)
    )
    _assert_adjustable(target)
    difference = adjustment.proposed_amount - target.amount
    record_version(
        target=target,
        amount=adjustment.proposed_amount,
        reason=adjustment.difficulty_report,
        by=by,
        adjustment=adjustment,
    )
    changed = [target]
    parent_id = target.parent_id
    seen = {target.pk}
    while parent_id is not None and parent_id not in seen and difference:
        seen.add(parent_id)
        parent = Target.objects.select_for_update().get(pk=parent_id)
        new_amount = parent.amount + difference
        if new_amount < 0:
            raise Conflict(
                _("The %(metric)s target above it would become negative.")
                % {"metric": parent.get_metric_display()},
                code="negative_parent",
            )
        record_version(
            target=parent,
            amount=new_amount,
            reason=_("Follows the approved adjustment of the target of %(scope)s: %(report)s")
            % {"scope": scope_name(target), "report": adjustment.difficulty_report},
            by=by,
            adjustment=adjustment,
        )
        changed.append(parent)
        parent_id = parent.parent_id
    _assert_parts_fit(changed)


def on_adjustment_returned(adjustment: TargetAdjustment, request: ApprovalRequest) -> None:
    approval_return_to_draft(adjustment, request)


# --- reading helpers shared by pages and API ------------------------------------------------


def plan_grid(plan: SalesPlan, targets: Iterable[Target] | None = None) -> dict[str, Any]:
    """The plan's targets as a grid: rows (the unit, then each rep with a line) × metrics."""
    targets = list(targets if targets is not None else plan.targets.select_related("user"))
    by_cell: dict[tuple[int | None, str], Target] = {}
    reps: dict[int, User] = {}
    for target in targets:
        uid = target.user_id if target.scope_kind == ScopeKind.REP else None
        by_cell[(uid, target.metric)] = target
        if uid is not None:
            reps[uid] = target.user
    metrics = [m for m in Metric if any(key[1] == m for key in by_cell)]
    rows = [{"label": plan.org_unit.name, "is_unit": True,
             "cells": [by_cell.get((None, m)) for m in metrics]}]  # fmt: skip
    for uid, rep in sorted(reps.items(), key=lambda kv: kv[1].display_name):
        rows.append({"label": rep.display_name, "is_unit": False,
                     "cells": [by_cell.get((uid, m)) for m in metrics]})  # fmt: skip
    totals: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for (uid, metric), target in by_cell.items():
        if uid is not None:
            totals[metric] += target.amount
    return {"metrics": metrics, "rows": rows if by_cell else [], "rep_totals": dict(totals)}
