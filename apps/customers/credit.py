"""Credit (信用): exposure and available credit, credit hold and release, credit
investigations (信用调查) and credit limit requests (信用额度调整).

**Exposure** (占用额度) = unpaid receivables + approved contracts' unbilled credit portion
(DESIGN.md "customers"). Those apps do not exist yet: they plug in by appending a callable to
`credit_exposure_sources` (in their AppConfig.ready), so this app never imports them. Each
source takes a list of customer ids and answers {customer_id: Decimal} with one set-based
query; a customer it does not mention has no exposure from it. Until a source is registered
the exposure is 0 and the available credit is the whole limit.

**Investigation**: the investigator scores each factor 0–100; the weighted total (weights in
`settings.CUSTOMER_CREDIT_WEIGHTS`, normalised by their sum) earns the rating of the
`CreditRatingRule` with the highest `min_score` it reaches (the admin table is the one source
of the thresholds); completing it gives the customer that rating and, when the customer has no
limit yet, a draft limit request with the rule's default limit and term for the owner to submit.

**Limit request**: a draft → submitted to the policy "customers.creditlimitrequest"
(supervisor → manager → finance above 200,000, on the requested limit) → approved: only then
do the new limit and term apply to the customer. A return brings it back to draft with the
comment; it cannot be edited while pending.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.accounts.choices import Role
from apps.accounts.models import User
from apps.approvals.models import ApprovalRequest
from apps.approvals.services import approval_submit
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.notifications.services import notify
from apps.webhooks.choices import EventType
from apps.webhooks.events import credit_event

from .choices import ApplicationStatus, CreditFactor, CustomerStatus, InvestigationStatus
from .development import _lock_own_draft, on_document_submitted
from .models import CreditInvestigation, CreditLimitRequest, CreditRatingRule, Customer
from .selectors import customer_editable_q

ExposureSource = Callable[[list[int]], dict[int, Decimal]]

credit_exposure_sources: list[ExposureSource] = []

ZERO = Decimal("0.00")


def register_exposure_source(source: ExposureSource) -> None:
    """Add a source of exposure (receivables, contracts), once."""
    if source not in credit_exposure_sources:
        credit_exposure_sources.append(source)


def customer_exposures(customer_ids: Iterable[int]) -> dict[int, Decimal]:
    """Exposure per customer, summed over every registered source (one query per source,
    whatever the number of customers)."""
    ids = list(customer_ids)
    totals = dict.fromkeys(ids, ZERO)
    for source in credit_exposure_sources:
        for customer_id, amount in source(ids).items():
            if customer_id in totals:
                totals[customer_id] += amount or ZERO
    return totals


@dataclass(frozen=True)
class CreditSummary:
    limit: Decimal
    exposure: Decimal
    available: Decimal
    on_hold: bool


def customer_credit(customer: Customer) -> CreditSummary:
    """Limit, exposure and available credit (可用额度 = limit − exposure; negative when the
    customer is over its limit) — the one source of these figures for pages, API and the
    contract credit check."""
    exposure = customer_exposures([customer.pk])[customer.pk]
    return CreditSummary(
        limit=customer.credit_limit,
        exposure=exposure,
        available=customer.credit_limit - exposure,
        on_hold=customer.on_credit_hold,
    )


def can_manage_credit_hold(user: User) -> bool:
    return user.is_active and user.role == Role.FINANCE


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why.")]})
    return reason[:300]


@transaction.atomic
def credit_hold(*, customer: Customer, by: User, reason: str) -> Customer:
    """Finance puts a customer on credit hold (信用冻结): no new contract can be submitted for
    it. The owner is told why."""
    if not can_manage_credit_hold(by):
        raise PermissionDenied(_("Only finance can put a customer on credit hold."))
    reason = _reason(reason)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if customer.on_credit_hold:
        raise Conflict(_("This customer is already on credit hold."), code="already_on_hold")
    customer.on_credit_hold = True
    customer.credit_hold_reason = reason
    customer.save(update_fields=["on_credit_hold", "credit_hold_reason", "updated_at"])
    credit_event(EventType.CUSTOMER_CREDIT_HOLD, customer, reason=reason)
    notify(
        recipients=[customer.owner],
        title=_("Credit hold: %(customer)s") % {"customer": customer.name},
        body=reason,
        url=customer.get_absolute_url(),
        actor=by,
    )
    return customer


@transaction.atomic
def credit_release(*, customer: Customer, by: User, reason: str) -> Customer:
    """Finance lifts a customer's credit hold, with the reason; the owner is told."""
    if not can_manage_credit_hold(by):
        raise PermissionDenied(_("Only finance can release a credit hold."))
    reason = _reason(reason)
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    if not customer.on_credit_hold:
        raise Conflict(_("This customer is not on credit hold."), code="not_on_hold")
    customer.on_credit_hold = False
    customer.credit_hold_reason = ""
    customer.save(update_fields=["on_credit_hold", "credit_hold_reason", "updated_at"])
    credit_event(EventType.CUSTOMER_CREDIT_RELEASED, customer, reason=reason)
    notify(
        recipients=[customer.owner],
        title=_("Credit hold released: %(customer)s") % {"customer": customer.name},
        body=reason,
        url=customer.get_absolute_url(),
        actor=by,
    )
    return customer


# --- credit investigation (信用调查) ------------------------------------------------------------

FACTORS: tuple[str, ...] = tuple(CreditFactor.values)


def credit_weights() -> dict[str, Decimal]:
    """The weight of each factor from settings; a factor the setting omits weighs nothing."""
    configured = getattr(settings, "CUSTOMER_CREDIT_WEIGHTS", {})
    return {name: Decimal(str(configured.get(name, 0))) for name in FACTORS}


def credit_score(scores: Mapping[str, int | None]) -> Decimal:
    """The weighted total (0–100, two decimals) of the factor scores."""
    weights = credit_weights()
    total_weight = sum(weights.values())
    if total_weight <= 0:
        raise ValueError("settings.CUSTOMER_CREDIT_WEIGHTS must give some factor a weight.")
    weighted = sum(weights[name] * Decimal(scores.get(name) or 0) for name in FACTORS)
    return (weighted / total_weight).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def credit_rule_for(score: Decimal) -> CreditRatingRule | None:
    """The rule (rating, default limit, term) of the highest threshold `score` reaches."""
    return CreditRatingRule.objects.filter(min_score__lte=score).order_by("-min_score").first()


def _clean_scores(data: Mapping[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    errors: dict[str, list] = {}
    for name in FACTORS:
        if name not in data:
            continue
        value = data[name]
        if value is None or isinstance(value, bool) or not isinstance(value, int):
            try:
                value = int(str(value).strip())
            except (TypeError, ValueError):
                errors[name] = [ValidationError(_("Enter a score from 0 to 100."), code="invalid")]
                continue
        if not 0 <= value <= 100:
            errors[name] = [ValidationError(_("Enter a score from 0 to 100."), code="out_of_range")]
            continue
        cleaned[name] = value
    if "notes" in data:
        cleaned["notes"] = str(data["notes"] or "")
    if errors:
        raise ValidationError(errors)
    return cleaned


def can_investigate_credit(user: User, customer: Customer) -> bool:
    """The owner, the heads above, and finance (for the buttons; the services check again)."""
    return Customer.objects.filter(customer_editable_q(user), pk=customer.pk).exists()


@transaction.atomic
def credit_investigation_create(
    *, customer: Customer, by: User, data: Mapping[str, Any]
) -> CreditInvestigation:
    """Start a credit investigation (a draft) of a customer `by` may work on: the factor
    scores so far and notes. Scores outside 0–100 are field errors."""
    locked = (
        Customer.objects.select_for_update().filter(customer_editable_q(by), pk=customer.pk).first()
    )
    if locked is None:
        raise PermissionDenied(_("You cannot investigate this customer's credit."))
    investigation = CreditInvestigation(customer=locked, owner=by, **_clean_scores(data))
    investigation.total_score = credit_score(
        {name: getattr(investigation, name) for name in FACTORS}
    )
    investigation.save()
    return investigation


def _lock_draft_investigation(investigation: CreditInvestigation, by: User) -> CreditInvestigation:
    investigation = CreditInvestigation.objects.select_for_update().get(pk=investigation.pk)
    if investigation.owner_id != by.pk:
        raise PermissionDenied(_("Only the investigator can change this investigation."))
    if investigation.status != InvestigationStatus.DRAFT:
        raise Conflict(
            _("This investigation is complete and can no longer be changed."), code="not_draft"
        )
    return investigation


@transaction.atomic
def credit_investigation_update(
    *, investigation: CreditInvestigation, by: User, data: Mapping[str, Any]
) -> CreditInvestigation:
    """Change the scores or notes of the investigator's draft investigation."""
    investigation = _lock_draft_investigation(investigation, by)
    for name, value in _clean_scores(data).items():
        setattr(investigation, name, value)
    investigation.total_score = credit_score(
        {name: getattr(investigation, name) for name in FACTORS}
    )
    investigation.save()
    return investigation


@transaction.atomic
def credit_investigation_complete(
    *, investigation: CreditInvestigation, by: User
) -> CreditInvestigation:
    """Complete an investigation: weighted total → rating (by `CreditRatingRule`) → the
    customer's rating. A customer without a limit (0) also gets a draft limit request with the
    rule's default limit and term, owned by the customer's owner (the investigator for a pool
    customer), who submits it for approval: the limit itself changes only when approved."""
    investigation = _lock_draft_investigation(investigation, by)
    customer = Customer.objects.select_for_update().get(pk=investigation.customer_id)
    score = credit_score({name: getattr(investigation, name) for name in FACTORS})
    rule = credit_rule_for(score)
    if rule is None:
        raise Conflict(
            _("No credit rating rule applies to a score of %(score)s: ask an administrator.")
            % {"score": score},
            code="no_rating_rule",
        )
    if not can_proceed(investigation.apply):
        raise Conflict(_("This investigation is already complete."), code="not_draft")
    investigation.total_score = score
    investigation.rating = rule.rating
    investigation.apply()
    investigation.applied_at = timezone.now()
    investigation.save()
    customer.credit_rating = rule.rating
    customer.save(update_fields=["credit_rating", "updated_at"])
    if customer.credit_limit == 0 and rule.default_credit_limit > 0:
        _draft_default_limit_request(customer, investigation, rule, by)
    return investigation


def _draft_default_limit_request(
    customer: Customer, investigation: CreditInvestigation, rule: CreditRatingRule, by: User
) -> CreditLimitRequest | None:
    """The draft request for the rating's default limit, unless one is already open."""
    if CreditLimitRequest.objects.filter(customer=customer, status__in=OPEN_STATUSES).exists():
        return None
    applicant = customer.owner or by
    limit_request = CreditLimitRequest.objects.create(
        customer=customer,
        owner=applicant,
        investigation=investigation,
        current_limit=customer.credit_limit,
        requested_limit=rule.default_credit_limit,
        payment_term_days=rule.payment_term_days,
        reason=_("Default credit limit of rating %(rating)s (weighted score %(score)s).")
        % {"rating": rule.rating, "score": investigation.total_score},
    )
    notify(
        recipients=[applicant],
        title=_("Credit limit request to submit: %(customer)s") % {"customer": customer.name},
        body=_("Rating %(rating)s: a draft request for %(limit)s is waiting for you.")
        % {"rating": rule.rating, "limit": rule.default_credit_limit},
        url=limit_request.get_absolute_url(),
        actor=by,
    )
    return limit_request


# --- credit limit requests (信用额度调整) ---------------------------------------------------------

OPEN_STATUSES = (ApplicationStatus.DRAFT, ApplicationStatus.PENDING)
LIMIT_REQUEST_FIELDS = ("requested_limit", "payment_term_days", "reason")


def _clean_limit_request(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    cleaned = {k: v for k, v in data.items() if k in LIMIT_REQUEST_FIELDS}
    errors: dict[str, list] = {}
    required = {
        "requested_limit": _("Enter the requested credit limit."),
        "payment_term_days": _("Enter the payment term in days."),
        "reason": _("Say why."),
    }
    if "reason" in cleaned:
        cleaned["reason"] = str(cleaned["reason"] or "").strip()
    for name, message in required.items():
        if (name in cleaned and cleaned[name] in (None, "")) or (
            not partial and name not in cleaned
        ):
            errors[name] = [ValidationError(message, code="required")]
    limit = cleaned.get("requested_limit")
    if limit not in (None, "") and Decimal(limit) < 0:
        errors["requested_limit"] = [
            ValidationError(_("The credit limit cannot be negative."), code="negative")
        ]
    days = cleaned.get("payment_term_days")
    if days not in (None, "") and int(days) < 0:
        errors["payment_term_days"] = [
            ValidationError(_("The payment term cannot be negative."), code="negative")
        ]
    if errors:
        raise ValidationError(errors)
    return cleaned


def _already_open() -> Conflict:
    return Conflict(
        _("This customer already has an open credit limit request."), code="already_open"
    )


def can_request_credit_limit(user: User, customer: Customer) -> bool:
    return Customer.objects.filter(customer_editable_q(user), pk=customer.pk).exists()


@transaction.atomic
def credit_limit_request_create(
    *, customer: Customer, by: User, data: Mapping[str, Any]
) -> CreditLimitRequest:
    """Start a credit limit request (a draft) for a customer `by` may work on: the new limit,
    the payment term and the reason. One open (draft or pending) request per customer."""
    customer = (
        Customer.objects.select_for_update().filter(customer_editable_q(by), pk=customer.pk).first()
    )
    if customer is None:
        raise PermissionDenied(_("You cannot request a credit limit for this customer."))
    cleaned = _clean_limit_request(data, partial=False)
    if CreditLimitRequest.objects.filter(customer=customer, status__in=OPEN_STATUSES).exists():
        raise _already_open()
    try:
        with transaction.atomic():
            return CreditLimitRequest.objects.create(
                customer=customer, owner=by, current_limit=customer.credit_limit, **cleaned
            )
    except IntegrityError:
        raise _already_open() from None


@transaction.atomic
def credit_limit_request_update(
    *, limit_request: CreditLimitRequest, by: User, data: Mapping[str, Any]
) -> CreditLimitRequest:
    """Revise the applicant's draft request (also after a return). Refused (Conflict) while
    it is under approval."""
    limit_request = _lock_own_draft(limit_request, by)
    for name, value in _clean_limit_request(data, partial=True).items():
        setattr(limit_request, name, value)
    limit_request.save()
    return limit_request


@transaction.atomic
def credit_limit_request_submit(
    *, limit_request: CreditLimitRequest, by: User, comment: str = ""
) -> ApprovalRequest:
    """Submit (or resubmit) the request to its approval policy; the amount the policy's step
    conditions see is the requested limit."""
    limit_request = _lock_own_draft(limit_request, by)
    return approval_submit(document=limit_request, by=by, comment=comment)


# --- approval callbacks (registered in CustomersConfig.ready) -----------------------------


def on_limit_request_submitted(limit_request: CreditLimitRequest, request: ApprovalRequest) -> None:
    """Refuse a lost customer; snapshot the current limit so approvers see the change."""
    customer = Customer.objects.get(pk=limit_request.customer_id)
    if customer.status == CustomerStatus.LOST:
        raise Conflict(_("This customer is lost: no credit limit for it."), code="customer_lost")
    limit_request.current_limit = customer.credit_limit
    on_document_submitted(limit_request, request)


def on_limit_request_approved(limit_request: CreditLimitRequest, request: ApprovalRequest) -> None:
    """Approve the request and apply the new limit and term to the customer; the customer's
    history entry carries the request's id."""
    limit_request.approve()
    limit_request.approved_at = timezone.now()
    limit_request.save()
    customer = Customer.objects.select_for_update().get(pk=limit_request.customer_id)
    customer.credit_limit = limit_request.requested_limit
    customer.payment_term_days = limit_request.payment_term_days
    with history_context(credit_limit_request=limit_request.pk):
        customer.save(update_fields=["credit_limit", "payment_term_days", "updated_at"])
