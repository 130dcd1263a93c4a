"""Visit use cases (拜访): plan a visit, change, move and cancel a plan, log a visit (拜访总结)
from a plan or unplanned, correct it within a week, and the nightly missed-plan job.

Every write locks what it changes. A day's route (the order of one rep's visits on one date)
is serialised by a transaction-scoped advisory lock per (rep, date), so that two plans added
at once cannot both take the last place, and is renumbered in one UPDATE.

Logging a visit is a follow-up (跟进) of the customer: the same transaction restarts its public
pool clock (`last_follow_up_at`, see `apps.customers.pool`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    DateField,
    F,
    PositiveSmallIntegerField,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from apps.accounts.models import User
from apps.core.errors import Conflict
from apps.core.fsm import unmet_messages
from apps.core.history import history_context
from apps.customers.models import Customer
from apps.customers.pool import customer_touch_follow_up
from apps.leads.models import Lead
from apps.opportunities.models import Opportunity

from .choices import PlanStatus, VisitPurpose
from .models import VisitPlan, VisitRecord
from .permissions import can_change_plan, can_edit_record, can_log_visit, can_plan_for
from .selectors import visible_customer, visible_lead

MISSED_JOB = "visit_plan_mark_missed"
# A phone's clock may run a little ahead of the server's: "not in the future" allows this.
CLOCK_SKEW = timedelta(minutes=5)

# --- helpers -------------------------------------------------------------------------------


def _lock_days(owner_id: int, days: Iterable[date]) -> None:
    """Serialise changes to these days' routes of one rep (fixed order: no deadlock)."""
    with connection.cursor() as cursor:
        for day in sorted(set(days)):
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"visit-route:{owner_id}:{day}"]
            )


def _lock_plan(plan: VisitPlan) -> VisitPlan:
    return (
        VisitPlan.objects.select_for_update(of=("self",))
        .select_related("owner", "customer", "lead")
        .get(pk=plan.pk)
    )


def _next_route_order(owner_id: int, day: date, *, exclude: int | None = None) -> int:
    qs = VisitPlan.objects.filter(owner_id=owner_id, planned_date=day)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    last = qs.order_by("-route_order").values_list("route_order", flat=True).first()
    return (last or 0) + 1


def _resolve_target(
    *, by: User, customer: Customer | int | None, lead: Lead | int | None
) -> tuple[Customer | None, Lead | None]:
    """Exactly one of a customer or a lead, which `by` may see (else an error of its field)."""
    if (customer is None) == (lead is None):
        raise ValidationError({"customer": _("Choose a customer or a lead (one of them).")})
    if customer is not None:
        pk = customer.pk if isinstance(customer, Customer) else int(customer)
        found = visible_customer(user=by, pk=pk)
        if found is None:
            raise ValidationError({"customer": _("No such customer in your scope.")})
        return found, None
    pk = lead.pk if isinstance(lead, Lead) else int(lead)
    found_lead = visible_lead(user=by, pk=pk)
    if found_lead is None:
        raise ValidationError({"lead": _("No such lead in your scope.")})
    return None, found_lead


def _resolve_opportunity(
    *, by: User, opportunity: Opportunity | int | None, customer: Customer | None
) -> Opportunity | None:
    """An opportunity of `customer` that `by` may see, or None."""
    if opportunity is None or opportunity == "":
        return None
    pk = opportunity.pk if isinstance(opportunity, Opportunity) else int(opportunity)
    if customer is None:
        raise ValidationError({"opportunity": _("A visit to a lead has no opportunity yet.")})
    found = Opportunity.objects.visible_to(by).filter(pk=pk, customer_id=customer.pk).first()
    if found is None:
        raise ValidationError(
            {"opportunity": _("Choose an opportunity of this customer in your scope.")}
        )
    return found


def _not_in_past(day: date, field: str = "planned_date") -> None:
    if day < timezone.localdate():
        raise ValidationError({field: _("The date is in the past.")})


def _check_purpose(purpose: str) -> str:
    if purpose not in VisitPurpose.values:
        raise ValidationError({"purpose": _("Choose the purpose of the visit.")})
    return purpose


def _require_open(plan: VisitPlan) -> None:
    if plan.status != PlanStatus.PLANNED:
        raise Conflict(
            _("Only a planned visit can be changed; this one is %(status)s.")
            % {"status": plan.get_status_display()},
            code="not_planned",
        )


# --- plans ---------------------------------------------------------------------------------


@transaction.atomic
def visit_plan_create(
    *,
    by: User,
    owner: User | None = None,
    customer: Customer | int | None = None,
    lead: Lead | int | None = None,
    opportunity: Opportunity | int | None = None,
    planned_date: date,
    planned_time: time | None = None,
    purpose: str,
    objectives: str = "",
) -> VisitPlan:
    """Plan a visit (拜访计划) for `owner` (default: `by`) to a customer or a lead on a date
    today or later; it goes last in that day's route. A rep plans their own visits; a head
    may plan for a rep in their subtree."""
    owner = owner or by
    if not can_plan_for(by, owner):
        raise PermissionDenied(_("You cannot plan visits for this person."))
    customer_obj, lead_obj = _resolve_target(by=by, customer=customer, lead=lead)
    opp = _resolve_opportunity(by=by, opportunity=opportunity, customer=customer_obj)
    _not_in_past(planned_date)
    _check_purpose(purpose)
    _lock_days(owner.pk, [planned_date])
    plan = VisitPlan(
        owner=owner, customer=customer_obj, lead=lead_obj, opportunity=opp,
        planned_date=planned_date, planned_time=planned_time,
        route_order=_next_route_order(owner.pk, planned_date), purpose=purpose,
        objectives=(objectives or "").strip(),
    )  # fmt: skip
    plan.save()
    return plan


PLAN_FIELDS = ("customer", "lead", "opportunity", "planned_date", "planned_time", "purpose",
               "objectives")  # fmt: skip


@transaction.atomic
def visit_plan_update(*, plan: VisitPlan, by: User, data: Mapping[str, Any]) -> VisitPlan:
    """Change a planned visit (only the fields given). A new date must not be in the past;
    the plan then goes last in that day's route."""
    plan = _lock_plan(plan)
    if not can_change_plan(by, plan):
        raise PermissionDenied(_("You cannot change this visit plan."))
    _require_open(plan)
    if "customer" in data or "lead" in data:
        customer = data.get("customer", plan.customer if "lead" not in data else None)
        lead = data.get("lead", plan.lead if "customer" not in data else None)
        plan.customer, plan.lead = _resolve_target(by=by, customer=customer, lead=lead)
        if (
            "opportunity" not in data
            and plan.opportunity_id
            and (plan.customer is None or plan.opportunity.customer_id != plan.customer.pk)
        ):
            plan.opportunity = None
    if "opportunity" in data:
        plan.opportunity = _resolve_opportunity(
            by=by, opportunity=data["opportunity"], customer=plan.customer
        )
    if "purpose" in data:
        plan.purpose = _check_purpose(data["purpose"])
    if "objectives" in data:
        plan.objectives = (data["objectives"] or "").strip()
    if "planned_time" in data:
        plan.planned_time = data["planned_time"]
    new_date = data.get("planned_date")
    if new_date is not None and new_date != plan.planned_date:
        _not_in_past(new_date)
        _lock_days(plan.owner_id, [plan.planned_date, new_date])
        plan.planned_date = new_date
        plan.route_order = _next_route_order(plan.owner_id, new_date, exclude=plan.pk)
    plan.save()
    return plan


@transaction.atomic
def visit_plan_move(
    *, plan: VisitPlan, by: User, planned_date: date, route_order: int | None = None
) -> VisitPlan:
    """Move a planned visit to another day and/or place in the route (drag and drop on the
    calendar, up/down in the day's route). `route_order` is the 1-based place in the new day
    (default: last). Both days' routes are renumbered 1…n in one UPDATE. A day in the past is
    refused."""
    plan = _lock_plan(plan)
    if not can_change_plan(by, plan):
        raise PermissionDenied(_("You cannot change this visit plan."))
    _require_open(plan)
    _not_in_past(planned_date)
    old_date = plan.planned_date
    _lock_days(plan.owner_id, [old_date, planned_date])
    days = {old_date, planned_date}
    routes: dict[date, list[int]] = {day: [] for day in days}
    for pk, day in (
        VisitPlan.objects.filter(owner_id=plan.owner_id, planned_date__in=days)
        .exclude(pk=plan.pk)
        .order_by("route_order", "planned_time", "id")
        .values_list("pk", "planned_date")
    ):
        routes[day].append(pk)
    target = routes[planned_date]
    place = len(target) if route_order is None else max(0, min(int(route_order) - 1, len(target)))
    target.insert(place, plan.pk)
    whens = [
        When(pk=pk, then=Value(i)) for route in routes.values() for i, pk in enumerate(route, 1)
    ]
    # One UPDATE: the moved plan's date and the new order of both days.
    VisitPlan.objects.filter(pk__in=[pk for route in routes.values() for pk in route]).update(
        route_order=Case(
            *whens, default=F("route_order"), output_field=PositiveSmallIntegerField()
        ),
        planned_date=Case(
            When(pk=plan.pk, then=Value(planned_date)),
            default=F("planned_date"),
            output_field=DateField(),
        ),
        updated_at=timezone.now(),
    )
    # (refresh_from_db() would set the protected FSM field: read it anew instead.)
    return VisitPlan.objects.select_related("owner", "customer", "lead").get(pk=plan.pk)


@transaction.atomic
def visit_plan_cancel(*, plan: VisitPlan, by: User, reason: str) -> VisitPlan:
    """Call off a planned visit, with a reason (the guard names the field when it is
    missing)."""
    plan = _lock_plan(plan)
    if not can_change_plan(by, plan):
        raise PermissionDenied(_("You cannot change this visit plan."))
    _require_open(plan)
    plan.cancel_reason = (reason or "").strip()[:300]
    if not can_proceed(plan.cancel):
        raise ValidationError(unmet_messages(plan, plan.cancel))
    plan.cancel()
    plan.save()
    return plan


def visit_plan_mark_missed(*, today: date | None = None) -> int:
    """The nightly job: every plan still planned on a day before `today` (the business date)
    is missed. One set-based UPDATE inside the job's history context; running it again finds
    nothing to do. Returns how many plans it marked."""
    today = today or timezone.localdate()
    with transaction.atomic(), history_context(job=MISSED_JOB):
        return VisitPlan.objects.filter(status=PlanStatus.PLANNED, planned_date__lt=today).update(
            status=PlanStatus.MISSED, updated_at=timezone.now()
        )


# --- records -------------------------------------------------------------------------------

RECORD_FIELDS = (
    "purpose", "started_at", "ended_at", "latitude", "longitude", "location_accuracy_m",
    "checked_in_at", "outcome", "problems_handled", "payment_collected", "order_amount",
    "competitor_info", "customer_feedback", "next_step", "next_step_date", "stage_moved",
)  # fmt: skip
_TEXT_FIELDS = ("outcome", "problems_handled", "competitor_info", "customer_feedback", "next_step")


def _clean_record(record: VisitRecord, data: Mapping[str, Any], *, now: datetime) -> None:
    """Apply `data` to `record` and check the rules, every failing field at once."""
    errors: dict[str, list[str]] = {}

    def err(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in RECORD_FIELDS:
        if name in data:
            value = data[name]
            if name in _TEXT_FIELDS:
                value = (value or "").strip()
            elif name in ("payment_collected", "order_amount"):
                value = Decimal("0.00") if value in (None, "") else Decimal(value)
            elif name == "stage_moved":
                value = bool(value)
            elif value == "":
                value = None
            setattr(record, name, value)
    if record.purpose not in VisitPurpose.values:
        err("purpose", _("Choose the purpose of the visit."))
    if record.started_at is None:
        err("started_at", _("Enter when the visit started."))
    elif record.started_at > now + CLOCK_SKEW:
        err("started_at", _("The visit cannot start in the future."))
    if record.ended_at is not None:
        if record.ended_at > now + CLOCK_SKEW:
            err("ended_at", _("The visit cannot end in the future."))
        elif record.started_at is not None and record.ended_at < record.started_at:
            err("ended_at", _("The visit cannot end before it started."))
    for name in ("payment_collected", "order_amount"):
        if getattr(record, name) < 0:
            err(name, _("The amount cannot be negative."))
    lat, lon, acc = record.latitude, record.longitude, record.location_accuracy_m
    if (lat is None) != (lon is None):
        err("latitude" if lat is None else "longitude", _("Give both latitude and longitude."))
    if lat is not None and not Decimal(-90) <= Decimal(lat) <= Decimal(90):
        err("latitude", _("The latitude must be between -90 and 90."))
    if lon is not None and not Decimal(-180) <= Decimal(lon) <= Decimal(180):
        err("longitude", _("The longitude must be between -180 and 180."))
    if acc is not None and int(acc) < 0:
        err("location_accuracy_m", _("The accuracy cannot be negative."))
    if lat is None and lon is None:
        record.location_accuracy_m = None
        record.checked_in_at = None
    elif record.checked_in_at is None or record.checked_in_at > now + CLOCK_SKEW:
        record.checked_in_at = now
    if record.stage_moved and record.opportunity_id is None:
        err("stage_moved", _("Choose the opportunity that moved a stage."))
    if errors:
        raise ValidationError(errors)
    if record.latitude is not None:
        record.latitude = Decimal(record.latitude).quantize(Decimal("0.000001"))
        record.longitude = Decimal(record.longitude).quantize(Decimal("0.000001"))


def _follow_up(record: VisitRecord) -> None:
    """A visit is a follow-up: the customer's pool clock moves to this visit's start when it
    is later than the recorded follow-up, and a new pool-warning cycle starts (the one
    implementation: `apps.customers.pool.customer_touch_follow_up`, one UPDATE)."""
    if record.customer_id is None:
        return
    customer_touch_follow_up(customer_ids=[record.customer_id], at=record.started_at)


@transaction.atomic
def visit_record_create(
    *,
    by: User,
    plan: VisitPlan | None = None,
    customer: Customer | int | None = None,
    lead: Lead | int | None = None,
    opportunity: Opportunity | int | None = None,
    data: Mapping[str, Any],
) -> VisitRecord:
    """Log a visit (拜访总结). From a plan: the plan (locked) must still be planned and
    becomes done in the same transaction; a plan already logged is a conflict. Unplanned: a
    customer or a lead `by` may see. Either way the customer's follow-up clock moves."""
    now = timezone.now()
    if plan is not None:
        plan = _lock_plan(plan)
        if not can_log_visit(by, plan):
            raise PermissionDenied(_("Only the rep of this plan can log its visit."))
        if plan.status == PlanStatus.DONE:
            raise Conflict(_("This visit was already logged."), code="already_done")
        if not can_proceed(plan.complete):
            raise Conflict(
                _("A %(status)s visit plan cannot be logged; log an unplanned visit instead.")
                % {"status": plan.get_status_display()},
                code="not_planned",
            )
        customer_obj, lead_obj = plan.customer, plan.lead
        if opportunity is None:
            opportunity = plan.opportunity_id
        data = {"purpose": plan.purpose, **data}
    else:
        if not can_log_visit(by):
            raise PermissionDenied(_("You cannot log visits."))
        customer_obj, lead_obj = _resolve_target(by=by, customer=customer, lead=lead)
    record = VisitRecord(owner=by, plan=plan, customer=customer_obj, lead=lead_obj)
    record.opportunity = _resolve_opportunity(by=by, opportunity=opportunity, customer=customer_obj)
    _clean_record(record, data, now=now)
    record.save()
    if plan is not None:
        plan.complete()
        plan.save()
    _follow_up(record)
    # A service visit sends the customer a satisfaction survey (客户满意度) once this commits.
    from apps.incentives.surveys import survey_open_for_visit  # incentives builds on visits

    survey_open_for_visit(record=record)
    return record


@transaction.atomic
def visit_record_update(
    *,
    record: VisitRecord,
    by: User,
    data: Mapping[str, Any],
    opportunity: Opportunity | int | str | None = "",
) -> VisitRecord:
    """Correct a visit record: its rep, within a week of logging it (then it is read-only).
    `opportunity` "" leaves it as it is; None removes it."""
    record = VisitRecord.objects.select_for_update(of=("self",)).get(pk=record.pk)
    if record.owner_id != by.pk:
        raise PermissionDenied(_("Only the rep who logged this visit can change it."))
    now = timezone.now()
    if not can_edit_record(by, record, now=now):
        raise Conflict(
            _("A visit record can be changed for 7 days; this one is read-only now."),
            code="read_only",
        )
    if opportunity != "":
        record.opportunity = _resolve_opportunity(
            by=by, opportunity=opportunity, customer=record.customer
        )
    _clean_record(record, data, now=now)
    record.save()
    _follow_up(record)
    return record
