"""The weekly sales report (销售报告, seed 002 进度控制): the Monday job drafts every active rep's
report of the week before with the week's figures; the rep completes it (summary, competition,
abnormal customers, next week's targets and plan) and submits it; a head over the rep reviews
it with a comment or returns it to the rep (退回). Late reports are listed for heads.

Writes (services) and the scoped reads of reports live here; the numbers come from
`apps.visits.figures`, the one source of truth.

**Figures snapshot** (`WeeklyReport.figures`, JSON, taken by the job so that the report reads
the same later):

- `target_attainment`: the rep's live monthly targets of the month the week ends in, each
  with the month's actual up to the end of the week (`apps.goals.actuals`, from the
  documents): [{metric, label, target, actual, pct}] (money as decimal strings), or null when
  the rep has no monthly target that month (the page says "no target set").
- `new_customers`: customers now owned by the rep that were created or claimed (from the public
  pool) during the week. Until the goals app counts customers turning developing/active, this is
  the rep's new-customer figure.
- `collections` / `sales`: Σ payment_collected / Σ order_amount on the week's visits
  (`figures.record_sums`), as decimal strings.
- `visits`, `effective_visits`, `effective_visit_rate`, `plans`, `plans_done`, `plans_missed`,
  `plan_execution_rate`: `figures.Figures` of the week.
- `abnormal_customers`: up to ABNORMAL_LIMIT of the rep's customers on credit hold or not
  visited in settings.VISIT_NOT_VISITED_DAYS days ({id, name, credit_hold, last_visit}), and
  `abnormal_customers_total`.

**Late**: a report is late when its due time passed before it was first submitted (not
submitted yet, or `submitted_at` > `due_at`). `submitted_at` is the first submission: a report
returned for completion and resubmitted is not made late by the return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, Count, F, Q, QuerySet, When, Window
from django.db.models.fields import BooleanField
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.choices import Role
from apps.accounts.models import OrgUnit, User
from apps.accounts.scope import Scope, headed_paths, scope_of
from apps.accounts.selectors import supervisor_of
from apps.core.errors import Conflict
from apps.core.history import history_context
from apps.customers.models import Customer
from apps.notifications.services import notify

from . import figures as fig
from . import selectors
from .choices import ReportStatus
from .models import VisitPlan, VisitRecord, WeeklyReport

DRAFT_JOB = "visit_weekly_report_draft"
ABNORMAL_LIMIT = 10
TEXT_FIELDS = ("summary", "competitor_notes", "abnormal_customers", "next_week_plan")
# What a rep must write before submitting (seed 002: the week's summary and next week's plan).
REQUIRED_TO_SUBMIT = ("summary", "next_week_plan")


# --- weeks ---------------------------------------------------------------------------------


def last_week_start(today: date | None = None) -> date:
    return selectors.week_start(today or timezone.localdate()) - timedelta(days=7)


def due_at_for(week_start: date) -> datetime:
    """Monday after the week, 00:00 business time, + VISIT_WEEKLY_REPORT_DUE_HOURS hours."""
    zone = timezone.get_current_timezone()
    after = timezone.make_aware(datetime.combine(week_start + timedelta(days=7), time.min), zone)
    return after + timedelta(hours=settings.VISIT_WEEKLY_REPORT_DUE_HOURS)


# --- the Monday job ------------------------------------------------------------------------


def _new_customers(owner_ids: list[int], start: date, end: date) -> dict[int, int]:
    first, after = fig.period_bounds(start, end - timedelta(days=1))
    created = Q(created_at__gte=first, created_at__lt=after)
    claimed = Q(claimed_at__gte=first, claimed_at__lt=after)
    rows = (
        Customer.objects.filter(owner_id__in=owner_ids)
        .filter(created | claimed)
        .order_by()
        .values("owner_id")
        .annotate(n=Count("id"))
        .values_list("owner_id", "n")
    )
    return dict(rows)


def _abnormal_customers(owner_ids: list[int], days: int, now: datetime) -> dict[int, dict]:
    """{owner: {"total": n, "items": [...]}}: each rep's customers on credit hold or not
    visited in `days` days, holds first then the longest unvisited, at most ABNORMAL_LIMIT
    each. One query (a window numbers each rep's rows)."""
    cutoff = fig.not_visited_cutoff(days, now=now)
    qs = (
        Customer.objects.filter(owner_id__in=owner_ids)
        .annotate(last_visit=fig.last_visit_subquery())
        .filter(Q(on_credit_hold=True) | fig.not_visited_q(cutoff))
        .annotate(
            rank=Window(
                RowNumber(),
                partition_by=[F("owner_id")],
                order_by=[
                    F("on_credit_hold").desc(),
                    F("last_visit").asc(nulls_first=True),
                    F("id").asc(),
                ],
            ),
            total=Window(Count("id"), partition_by=[F("owner_id")]),
        )
        .filter(rank__lte=ABNORMAL_LIMIT)
        .order_by("owner_id", "rank")
        .values("id", "name", "owner_id", "on_credit_hold", "last_visit", "total")
    )
    result: dict[int, dict] = {}
    for row in qs:
        entry = result.setdefault(row["owner_id"], {"total": row["total"], "items": []})
        entry["items"].append(
            {
                "id": row["id"],
                "name": row["name"],
                "credit_hold": row["on_credit_hold"],
                "last_visit": row["last_visit"].isoformat() if row["last_visit"] else None,
            }
        )
    return result


def _month_attainment(owner_ids: list[int], week_end: date) -> dict[int, list[dict]]:
    """{rep: [{metric, label, target, actual, pct}]}: each rep's live monthly targets of the
    month of `week_end`, against the month's actual up to `week_end`. One query for the
    targets, one per metric that has any (the goals app's actuals, grouped by rep)."""
    from apps.goals import actuals
    from apps.goals.choices import PeriodKind, ScopeKind, TargetStatus
    from apps.goals.models import Target

    month_start = week_end.replace(day=1)
    targets = list(
        Target.objects.filter(
            user_id__in=owner_ids,
            scope_kind=ScopeKind.REP,
            period_kind=PeriodKind.MONTH,
            period_start=month_start,
        )
        .exclude(status=TargetStatus.DRAFT)
        .order_by("user_id", "metric")
    )
    computed = {
        metric: actuals.compute(metric, month_start, week_end, owner_ids=owner_ids)
        for metric in sorted({t.metric for t in targets})
    }
    result: dict[int, list[dict]] = {}
    for target in targets:
        actual = computed[target.metric].rep(target.user_id)
        pct = round(float(actual / target.amount * 100), 1) if target.amount else None
        result.setdefault(target.user_id, []).append(
            {
                "metric": target.metric,
                "label": str(target.get_metric_display()),
                "target": str(target.amount),
                "actual": str(actual),
                "pct": pct,
            }
        )
    return result


def week_figures(
    owner_ids: list[int], week_start: date, *, now: datetime | None = None
) -> dict[int, dict]:
    """The figures snapshot of each of `owner_ids` for the week from `week_start`, computed
    with the grouped selectors: a constant number of queries whatever the number of reps."""
    now = now or timezone.now()
    end = week_start + timedelta(days=7)
    days = fig.not_visited_days()
    by_owner = fig.figures_by_owner(
        plans=VisitPlan.objects.filter(owner_id__in=owner_ids),
        records=VisitRecord.objects.filter(owner_id__in=owner_ids),
        start=week_start,
        end=end,
    )
    new = _new_customers(owner_ids, week_start, end)
    attainment = _month_attainment(owner_ids, end - timedelta(days=1))
    abnormal = _abnormal_customers(owner_ids, days, now)
    result = {}
    for pk in owner_ids:
        f = by_owner.get(pk, fig.Figures())
        bad = abnormal.get(pk, {"total": 0, "items": []})
        result[pk] = {
            "week_start": week_start.isoformat(),
            "week_end": (end - timedelta(days=1)).isoformat(),
            "target_attainment": attainment.get(pk),
            "new_customers": new.get(pk, 0),
            "collections": str(f.collections),
            "sales": str(f.orders),
            "visits": f.visits,
            "effective_visits": f.effective,
            "effective_visit_rate": f.effective_rate,
            "plans": f.plans,
            "plans_done": f.done,
            "plans_missed": f.missed,
            "plan_execution_rate": f.execution_rate,
            "customers_visited": f.customers,
            "abnormal_customers": bad["items"],
            "abnormal_customers_total": bad["total"],
            "not_visited_days": days,
            "computed_at": now.isoformat(),
        }
    return result


def weekly_reports_draft(*, week_start: date | None = None, now: datetime | None = None) -> int:
    """Draft the report of the week from `week_start` (default: last week) for every active
    rep who has none yet. Set-based and idempotent: the figures come from grouped queries, and
    one INSERT … ON CONFLICT DO NOTHING on (owner, week_start) adds the missing reports, so a
    second run (or a second worker) adds nothing. Returns how many reports were created."""
    now = now or timezone.now()
    week_start = (
        selectors.week_start(week_start) if week_start else last_week_start(timezone.localdate(now))
    )
    with history_context(job=DRAFT_JOB), transaction.atomic():
        owner_ids = list(
            User.objects.filter(is_active=True, role=Role.REP)
            .exclude(weekly_reports__week_start=week_start)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not owner_ids:
            return 0
        snapshots = week_figures(owner_ids, week_start, now=now)
        due = due_at_for(week_start)
        WeeklyReport.objects.bulk_create(
            [
                WeeklyReport(owner_id=pk, week_start=week_start, figures=snapshots[pk], due_at=due)
                for pk in owner_ids
            ],
            ignore_conflicts=True,
        )
    # ON CONFLICT DO NOTHING does not say which rows it skipped: this is the number of reps
    # who had no report when the job looked (a concurrent run may have inserted some first).
    return len(owner_ids)


# --- who may do what -----------------------------------------------------------------------


def is_head_over(user: User, owner: User) -> bool:
    """`user` heads a unit that contains `owner` (their own unit or one above it)."""
    if user.pk == owner.pk or not owner.org_unit_id:
        return False
    path = owner.org_unit.path
    return any(path.startswith(p) for p in headed_paths(user))


def can_review(user: User, report: WeeklyReport) -> bool:
    """A head over the rep (or an admin), never the rep."""
    if not (user.is_authenticated and user.is_active) or user.pk == report.owner_id:
        return False
    if user.is_superuser or user.role == Role.ADMIN:
        return True
    return is_head_over(user, report.owner)


def can_edit(user: User, report: WeeklyReport) -> bool:
    return report.owner_id == user.pk and report.status == ReportStatus.DRAFT


# --- the rep's and the supervisor's actions ------------------------------------------------


def _lock(report: WeeklyReport) -> WeeklyReport:
    return (
        WeeklyReport.objects.select_for_update(of=("self",))
        .select_related("owner", "owner__org_unit")
        .get(pk=report.pk)
    )


def _require_draft(report: WeeklyReport) -> None:
    if report.status != ReportStatus.DRAFT:
        raise Conflict(
            _("The report is %(status)s: only a draft can be changed.")
            % {"status": report.get_status_display()},
            code="not_draft",
        )


@transaction.atomic
def weekly_report_update(*, report: WeeklyReport, by: User, data: dict[str, Any]) -> WeeklyReport:
    """The rep completes their draft: summary, competition, abnormal customers, next week's
    targets and plan. Only the rep; only a draft (after submission it is read-only)."""
    report = _lock(report)
    if report.owner_id != by.pk:
        raise PermissionDenied(_("Only the rep can write their weekly report."))
    _require_draft(report)
    changed = []
    for name in TEXT_FIELDS:
        if name in data:
            setattr(report, name, (data[name] or "").strip())
            changed.append(name)
    if changed:
        report.save(update_fields=[*changed, "updated_at"])
    return report


@transaction.atomic
def weekly_report_submit(*, report: WeeklyReport, by: User) -> WeeklyReport:
    """The rep submits the completed report (draft → submitted); the nearest head over them is
    notified. Every missing section is named. The first submission time is kept."""
    report = _lock(report)
    if report.owner_id != by.pk:
        raise PermissionDenied(_("Only the rep can submit their weekly report."))
    _require_draft(report)
    missing = {
        name: _("Write this section before submitting.")
        for name in REQUIRED_TO_SUBMIT
        if not (getattr(report, name) or "").strip()
    }
    if missing:
        raise ValidationError(missing)
    report.submit()
    report.submitted_at = report.submitted_at or timezone.now()
    report.save()
    supervisor = supervisor_of(report.owner)
    if supervisor is not None:
        title = _("%(rep)s submitted the weekly report of %(week)s") % {
            "rep": report.owner.display_name,
            "week": f"{report.week_start:%Y-%m-%d}",
        }
        url = report.get_absolute_url()
        transaction.on_commit(
            lambda: notify(recipients=[supervisor], title=title, url=url, actor=by)
        )
    return report


def _decide(report: WeeklyReport, by: User) -> WeeklyReport:
    report = _lock(report)
    if not can_review(by, report):
        raise PermissionDenied(_("Only a head over the rep can review this report."))
    if report.status != ReportStatus.SUBMITTED:
        raise Conflict(
            _("The report is %(status)s: only a submitted report can be reviewed or returned.")
            % {"status": report.get_status_display()},
            code="not_submitted",
        )
    return report


def _tell_rep(report: WeeklyReport, by: User, title: str) -> None:
    owner, url, body = report.owner, report.get_absolute_url(), report.supervisor_comment
    transaction.on_commit(
        lambda: notify(recipients=[owner], title=title, url=url, body=body, actor=by)
    )


@transaction.atomic
def weekly_report_review(*, report: WeeklyReport, by: User, comment: str = "") -> WeeklyReport:
    """A head over the rep comments and marks the report reviewed; the rep is notified."""
    report = _decide(report, by)
    report.review()
    report.supervisor_comment = (comment or "").strip()
    report.reviewed_by, report.reviewed_at = by, timezone.now()
    report.save()
    _tell_rep(
        report,
        by,
        _("Your weekly report of %(week)s was reviewed")
        % {"week": f"{report.week_start:%Y-%m-%d}"},
    )
    return report


@transaction.atomic
def weekly_report_return(*, report: WeeklyReport, by: User, comment: str) -> WeeklyReport:
    """A head over the rep returns the report for completion (退回, submitted → draft) with a
    comment saying what is missing; the rep is notified."""
    report = _decide(report, by)
    comment = (comment or "").strip()
    if not comment:
        raise ValidationError({"comment": _("Say what the rep should complete.")})
    report.return_to_rep()
    report.supervisor_comment = comment
    report.save()
    _tell_rep(
        report,
        by,
        _("Your weekly report of %(week)s was returned")
        % {"week": f"{report.week_start:%Y-%m-%d}"},
    )
    return report


# --- reads ---------------------------------------------------------------------------------


def late_q(now: datetime | None = None) -> Q:
    now = now or timezone.now()
    return Q(submitted_at__isnull=True, due_at__lt=now) | Q(submitted_at__gt=F("due_at"))


@dataclass
class ReportFilters:
    week: date | None = None
    status: str = ""
    late: bool = False
    owner: int | None = None
    team: OrgUnit | None = None


def weekly_report_list(
    *, user: User, filters: ReportFilters | None = None, now: datetime | None = None
) -> QuerySet[WeeklyReport]:
    """Reports in `user`'s scope (a rep's own; a head's team's and their own), newest week
    first, with the rep, their unit and the reviewer joined and `is_late` annotated."""
    f = filters or ReportFilters()
    qs = (
        WeeklyReport.objects.visible_to(user)
        .select_related("owner", "owner__org_unit", "reviewed_by")
        .annotate(
            is_late=Case(When(late_q(now), then=True), default=False, output_field=BooleanField())
        )
    )
    if f.week is not None:
        qs = qs.filter(week_start=selectors.week_start(f.week))
    if f.status:
        qs = qs.filter(status=f.status)
    if f.owner is not None:
        qs = qs.filter(owner_id=f.owner)
    if f.team is not None:
        qs = qs.filter(owner__org_unit__path__startswith=f.team.path)
    if f.late:
        qs = qs.filter(late_q(now))
    return qs.order_by("-week_start", "owner__username", "id")


def weekly_report_get(*, user: User, pk: int) -> WeeklyReport:
    """One report in `user`'s scope, else 404."""
    return get_object_or_404(weekly_report_list(user=user), pk=pk)


def late_reports(
    *, user: User, week: date | None = None, team: OrgUnit | None = None
) -> QuerySet[WeeklyReport]:
    """Reports past their due time and not submitted by it (still open, or submitted late),
    for heads of units and company-wide users; others get nothing."""
    if scope_of(user) not in (Scope.SUBTREE, Scope.ALL):
        return WeeklyReport.objects.none()
    return weekly_report_list(user=user, filters=ReportFilters(week=week, team=team, late=True))


def may_see_late(user: User) -> bool:
    return scope_of(user) in (Scope.SUBTREE, Scope.ALL)


def report_transitions(user: User, report: WeeklyReport) -> list[str]:
    """What `user` may do with `report` now: submit / review / return."""
    if report.status == ReportStatus.DRAFT and report.owner_id == user.pk:
        return ["submit"]
    if report.status == ReportStatus.SUBMITTED and can_review(user, report):
        return ["review", "return"]
    return []
