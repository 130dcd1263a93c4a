"""Opportunity use cases (商机): open, edit, move through the stages, close.

Every stage move goes through `_move`: it locks the opportunity, checks the actor's right,
refuses with every unmet guard named (apps.core.fsm), calls the transition, closes the current
stage stay and opens the next one in the stage history (阶段历史), and clears the stuck alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.utils.translation import ngettext
from django_fsm import can_proceed

from apps.accounts.models import User
from apps.accounts.selectors import supervisors_of
from apps.core.errors import Conflict
from apps.core.fsm import unmet_messages
from apps.core.history import history_context
from apps.customers.models import Contact, Customer
from apps.notifications.services import Notice, notify, notify_each

from .choices import CLOSED_STAGES, OPEN_STAGES
from .models import Opportunity, StageChange
from .permissions import can_work


def _enter_stage(opportunity: Opportunity, *, by: User | None, at: datetime, from_stage: str = "",
                 reason: str = "") -> StageChange:  # fmt: skip
    """Close the current stay (if any) and open one in the opportunity's current stage."""
    StageChange.objects.filter(opportunity=opportunity, left_at__isnull=True).update(left_at=at)
    return StageChange.objects.create(
        opportunity=opportunity, stage=opportunity.stage, from_stage=from_stage, entered_at=at,
        entered_by=by, reason=reason,
    )  # fmt: skip


@transaction.atomic
def opportunity_create(
    *,
    customer: Customer,
    owner: User,
    by: User | None,
    name: str,
    amount: Decimal = Decimal("0.00"),
    expected_close_date: date | None = None,
    contact: Contact | None = None,
    lead=None,
    description: str = "",
) -> Opportunity:
    """Open an opportunity in the first stage (prospecting) and start its stage history.
    `by` None is the system (e.g. a lead conversion already checked the rights)."""
    if by is not None and customer.owner_id not in (by.pk, owner.pk) and not by.is_superuser:
        from apps.customers.selectors import customer_editable_q

        if not Customer.objects.filter(customer_editable_q(by), pk=customer.pk).exists():
            raise PermissionDenied(_("You cannot open an opportunity for this customer."))
    now = timezone.now()
    opportunity = Opportunity.objects.create(
        name=name, customer=customer, owner=owner, amount=amount,
        expected_close_date=expected_close_date, contact=contact, lead=lead,
        description=description, stage_entered_at=now,
    )  # fmt: skip
    _enter_stage(opportunity, by=by, at=now)
    return opportunity


# --- editing ------------------------------------------------------------------------------

EDITABLE_FIELDS = ("name", "amount", "expected_close_date", "contact", "description",
                   "needs_analysis")  # fmt: skip


def _lock(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.select_for_update(of=("self",))
        .select_related("customer", "owner")
        .get(pk=opportunity.pk)
    )


def _check_open(opportunity: Opportunity) -> None:
    if not opportunity.is_open:
        raise Conflict(
            _("A deal that is %(stage)s cannot be changed.")
            % {"stage": opportunity.get_stage_display()},
            code="closed",
        )


def _clean_data(opportunity: Opportunity, data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate the editable fields given in `data` (a field error names its field)."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if "name" in data:
        name = (data["name"] or "").strip()
        if not name:
            errors.setdefault("name", []).append(_("Give the deal a name."))
        clean["name"] = name[:200]
    if "amount" in data:
        amount = data["amount"]
        try:
            amount = Decimal(str(amount if amount not in (None, "") else "0"))
        except (InvalidOperation, ValueError):
            errors.setdefault("amount", []).append(_("Enter an amount."))
        else:
            if not amount.is_finite() or amount < 0:
                errors.setdefault("amount", []).append(_("The amount cannot be negative."))
            elif amount >= Decimal("1e12"):
                errors.setdefault("amount", []).append(_("The amount is too large."))
            else:
                clean["amount"] = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if "expected_close_date" in data:
        clean["expected_close_date"] = data["expected_close_date"] or None
    if "contact" in data:
        contact = data["contact"]
        if contact is not None and contact.customer_id != opportunity.customer_id:
            errors.setdefault("contact", []).append(_("Choose a contact of the deal's customer."))
        clean["contact"] = contact
    for text in ("description", "needs_analysis"):
        if text in data:
            clean[text] = (data[text] or "").strip()
    if errors:
        raise ValidationError(errors)
    return clean


def default_owner(*, customer: Customer, by: User) -> User:
    """Who owns a deal `by` opens for `customer`: the customer's owner when a head opens it
    for a customer of their team, else `by`."""
    if customer.owner_id is not None and customer.owner_id != by.pk:
        return customer.owner
    return by


@transaction.atomic
def opportunity_open(*, customer: Customer, by: User, data: Mapping[str, Any]) -> Opportunity:
    """Open a deal from the page or the API: validates the data, then `opportunity_create`
    (which checks that `by` may work on the customer)."""
    probe = Opportunity(customer=customer)
    clean = _clean_data(probe, {"name": "", **data})
    return opportunity_create(
        customer=customer, owner=default_owner(customer=customer, by=by), by=by,
        name=clean["name"], amount=clean.get("amount", Decimal("0.00")),
        expected_close_date=clean.get("expected_close_date"), contact=clean.get("contact"),
        description=clean.get("description", ""),
    )  # fmt: skip


@transaction.atomic
def opportunity_update(
    *, opportunity: Opportunity, by: User, data: Mapping[str, Any]
) -> Opportunity:
    """Change a deal's data (only the fields given): the owner, or a head over the owner.
    A won or lost deal is closed and cannot be changed (409)."""
    opportunity = _lock(opportunity)
    if not can_work(by, opportunity):
        raise PermissionDenied(_("You cannot change this deal."))
    _check_open(opportunity)
    clean = _clean_data(opportunity, {k: v for k, v in data.items() if k in EDITABLE_FIELDS})
    for key, value in clean.items():
        setattr(opportunity, key, value)
    opportunity.save()
    return opportunity


# --- stage moves --------------------------------------------------------------------------

_DONE = {
    "qualify": _lazy("qualified"),
    "analyse_needs": _lazy("moved to needs analysis"),
    "propose": _lazy("moved to proposal"),
    "negotiate": _lazy("moved to negotiation"),
    "win": _lazy("won"),
    "lose": _lazy("lost"),
    "move_back": _lazy("moved back"),
}


def _move(
    opportunity: Opportunity,
    *,
    by: User,
    name: str,
    reason: str = "",
    prepare: Callable[[Opportunity], None] | None = None,
) -> Opportunity:
    """The one way a deal changes stage (see the module doc). `prepare` puts the input of the
    move on the locked row (needs-analysis notes, lost reason) before the guards are read."""
    opportunity = _lock(opportunity)
    if not can_work(by, opportunity):
        raise PermissionDenied(_("You cannot move this deal."))
    method = getattr(opportunity, name)
    if not can_proceed(method, check_conditions=False):
        raise Conflict(
            _("A deal in the stage “%(stage)s” cannot be %(done)s.")
            % {"stage": opportunity.get_stage_display(), "done": _DONE[name]},
            code="invalid_state",
        )
    if prepare is not None:
        prepare(opportunity)
    opportunity._move_reason = reason
    unmet = unmet_messages(opportunity, method)
    if "__all__" in unmet:
        # A requirement of the deal's state (a decision maker, a visit, an approved quote):
        # no input of this request can meet it, so it is a conflict (API.md: 409, the reason).
        raise Conflict(" ".join(unmet["__all__"]), code="guard_failed", messages=unmet["__all__"])
    if unmet:
        # Input the move needs (notes, a reason): bad input naming the field (400), which the
        # board asks for in place.
        raise ValidationError(unmet)
    from_stage = opportunity.stage
    method()
    now = timezone.now()
    opportunity.stage_entered_at = now
    opportunity.closed_at = now if opportunity.stage in CLOSED_STAGES else None
    # A new stay in a stage: its stuck alerts start again.
    opportunity.stuck_notified_at = None
    opportunity.stuck_escalated_at = None
    opportunity.save()
    _enter_stage(opportunity, by=by, at=now, from_stage=from_stage, reason=reason[:300])
    if opportunity.owner_id != by.pk:
        notify(
            recipients=[opportunity.owner],
            title=_("%(who)s moved your deal %(name)s to “%(stage)s”.")
            % {
                "who": by.display_name,
                "name": opportunity.name,
                "stage": opportunity.get_stage_display(),
            },
            url=opportunity.get_absolute_url(),
            actor=by,
        )
    return opportunity


@transaction.atomic
def opportunity_qualify(*, opportunity: Opportunity, by: User) -> Opportunity:
    """寻找客户 → 客户甄别: needs a decision-maker contact and a logged visit."""
    return _move(opportunity, by=by, name="qualify")


@transaction.atomic
def opportunity_analyse_needs(*, opportunity: Opportunity, by: User) -> Opportunity:
    """客户甄别 → 需求分析."""
    return _move(opportunity, by=by, name="analyse_needs")


@transaction.atomic
def opportunity_propose(
    *, opportunity: Opportunity, by: User, needs_analysis: str | None = None
) -> Opportunity:
    """需求分析 → 方案报价: needs the needs-analysis notes, which may come with the move (the
    board asks for them in place)."""

    def prepare(opp: Opportunity) -> None:
        if needs_analysis is not None and needs_analysis.strip():
            opp.needs_analysis = needs_analysis.strip()

    return _move(opportunity, by=by, name="propose", prepare=prepare)


@transaction.atomic
def opportunity_negotiate(*, opportunity: Opportunity, by: User) -> Opportunity:
    """方案报价 → 谈判/处理异议: needs an approved quote."""
    return _move(opportunity, by=by, name="negotiate")


@transaction.atomic
def opportunity_win(*, opportunity: Opportunity, by: User) -> Opportunity:
    """谈判 → 赢单. The customer's status is left alone: a signed contract activates it."""
    return _move(opportunity, by=by, name="win")


@transaction.atomic
def opportunity_lose(
    *, opportunity: Opportunity, by: User, lost_reason: str = "", lost_competitor: str = ""
) -> Opportunity:
    """Any open stage → 输单, with the reason and the competitor who won (or “none”)."""
    reason = (lost_reason or "").strip()[:300]

    def prepare(opp: Opportunity) -> None:
        opp.lost_reason = reason
        opp.lost_competitor = (lost_competitor or "").strip()[:200]

    return _move(opportunity, by=by, name="lose", reason=reason, prepare=prepare)


@transaction.atomic
def opportunity_move_back(*, opportunity: Opportunity, by: User, reason: str = "") -> Opportunity:
    """Back one open stage, with the reason (kept in the stage history)."""
    return _move(opportunity, by=by, name="move_back", reason=(reason or "").strip())


TRANSITION_SERVICES: dict[str, Callable[..., Opportunity]] = {
    "qualify": opportunity_qualify,
    "analyse_needs": opportunity_analyse_needs,
    "propose": opportunity_propose,
    "negotiate": opportunity_negotiate,
    "win": opportunity_win,
    "lose": opportunity_lose,
    "move_back": opportunity_move_back,
}


# --- stuck deals (停滞商机) ----------------------------------------------------------------

_OPEN = [str(s) for s in OPEN_STAGES]

_FLAG_STUCK_SQL = """
UPDATE opportunities_opportunity AS o
SET stuck_notified_at = %(now)s, updated_at = %(now)s
FROM opportunities_stagesetting AS s
WHERE s.stage = o.stage AND s.expected_days > 0
  AND o.stage = ANY(%(open)s) AND o.stuck_notified_at IS NULL
  AND o.stage_entered_at < %(now)s - (s.expected_days * %(factor)s) * interval '1 day'
RETURNING o.id, o.owner_id
"""

_ESCALATE_STUCK_SQL = """
UPDATE opportunities_opportunity AS o
SET stuck_escalated_at = %(now)s, updated_at = %(now)s
WHERE o.stage = ANY(%(open)s) AND o.stuck_escalated_at IS NULL
  AND o.stuck_notified_at IS NOT NULL
  AND o.stuck_notified_at <= %(now)s - %(days)s * interval '1 day'
RETURNING o.id, o.owner_id
"""


@dataclass(frozen=True)
class StuckResult:
    """What a run of the stuck-deal job did: deals flagged to their owners, deals escalated
    to the owners' supervisors."""

    notified: int
    escalated: int


def _per_owner(rows: list[tuple[int, int]]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for _id, owner_id in rows:
        counts[owner_id] = counts.get(owner_id, 0) + 1
    return counts


def _stuck_url() -> str:
    return f"{reverse('opportunities:list')}?stuck=1"


@transaction.atomic
def opportunity_flag_stuck(*, now: datetime | None = None) -> StuckResult:
    """The nightly stuck-deal job: a deal in an open stage longer than the stage's expected
    days × settings.OPPORTUNITY_STUCK_FACTOR alerts its owner once (one UPDATE flags them all;
    one notification per owner with the count); a deal still stuck
    settings.OPPORTUNITY_STUCK_ESCALATE_DAYS after that alerts the owner's supervisor once.
    A flagged deal is never picked again until it moves, so a second run (or a second worker)
    alerts nobody twice."""
    now = now or timezone.now()
    params = {
        "now": now,
        "open": _OPEN,
        "factor": float(settings.OPPORTUNITY_STUCK_FACTOR),
        "days": int(settings.OPPORTUNITY_STUCK_ESCALATE_DAYS),
    }
    with history_context(job="opportunity_flag_stuck"), connection.cursor() as cursor:
        cursor.execute(_FLAG_STUCK_SQL, params)
        flagged = cursor.fetchall()
        cursor.execute(_ESCALATE_STUCK_SQL, params)
        escalated = cursor.fetchall()
    url = _stuck_url()
    flagged_by_owner = _per_owner(flagged)
    escalated_by_owner = _per_owner(escalated)
    owners = {
        u.pk: u
        for u in User.objects.filter(
            pk__in={*flagged_by_owner, *escalated_by_owner}
        ).select_related("org_unit")
    }
    notices = [
        Notice(owners[owner_id], ngettext(
            "%(count)d of your deals has not moved for longer than expected.",
            "%(count)d of your deals have not moved for longer than expected.",
            n,
        ) % {"count": n}, url)
        for owner_id, n in flagged_by_owner.items()
    ]  # fmt: skip
    by_supervisor: dict[int, tuple[User, int]] = {}
    supervisors = supervisors_of([owners[owner_id] for owner_id in escalated_by_owner])
    for owner_id, n in escalated_by_owner.items():
        supervisor = supervisors[owner_id]
        if supervisor is None:
            continue
        _user, total = by_supervisor.get(supervisor.pk, (supervisor, 0))
        by_supervisor[supervisor.pk] = (supervisor, total + n)
    notices += [
        Notice(supervisor, ngettext(
            "%(count)d deal in your team is stuck and was not moved after the reminder.",
            "%(count)d deals in your team are stuck and were not moved after the reminder.",
            n,
        ) % {"count": n}, url)
        for supervisor, n in by_supervisor.values()
    ]  # fmt: skip
    # One insert for all of them, whatever the number of owners and supervisors.
    notify_each(notices)
    return StuckResult(notified=len(flagged), escalated=len(escalated))
